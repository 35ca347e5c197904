// The admin center at 100,000 devices: All devices' first page after navigation, and a search
// result after the last keystroke, in headless Chromium (median of --runs), each beside the same
// API request made from the same page with fetch() (the peer: what the hub alone takes), with the
// ratio; and the JS + CSS a first visit transfers (gzip, as the hub sends it).
//
//   node bench/admin/admin_bench.mjs [--bin build/bin] [--devices 100000] [--runs 20]
//
// Needs the build (reach-hub, the admin center, build/npm's playwright-core), sqlite3 and
// Debian's chromium. The devices are written straight into a fresh hub's database before it
// starts (enrolling 100,000 agents one by one would measure enrollment, not the list).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const BIN = path.resolve(args.bin ?? 'build/bin');
const DEVICES = Number(args.devices ?? 100000);
const RUNS = Number(args.runs ?? 20);
const PLAYWRIGHT = path.resolve(BIN, '../npm/node_modules/playwright-core/index.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-admin-bench-'));
const data = path.join(tmp, 'hub');
const EMAIL = 'admin@example.com';
const PASSWORD = 'bench-admin-password-1';

function run(cmd, a, env = {}) {
  const r = spawnSync(cmd, a, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

run(path.join(BIN, 'reach-hub'), ['init', '--data', data, '--admin-email', EMAIL], { REACH_ADMIN_PASSWORD: PASSWORD });
// Run once so that every migration is applied, then stop.
{
  const h = spawn(path.join(BIN, 'reach-hub'), ['serve', '--data', data, '--listen', '127.0.0.1:0']);
  await new Promise((r) => h.stdout.once('data', r));
  h.kill('SIGTERM');
  await new Promise((r) => h.once('exit', r));
}
const t0 = Date.now();
run('sqlite3', [path.join(data, 'hub.db'), `
  INSERT INTO users (id, display_name, user_principal_name, upn_key, mail, account_enabled, licensed, password_hash, created_at)
  SELECT printf('00000000-0000-4000-8000-%012d', n), 'User ' || n, 'user' || n || '@example.com', 'user' || n || '@example.com',
         'user' || n || '@example.com', 1, 1, 'x', 0
  FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${DEVICES / 2}) SELECT n FROM c);
  INSERT INTO devices (id, device_name, user_id, operating_system, os_version, model, manufacturer, serial_number,
                       device_type, sku_family, owner_type, enrollment_type, compliance_state, management_agent,
                       azure_ad_device_id, enrolled_at, last_sync_at, credential_hash)
  SELECT printf('%08x-0000-4000-8000-%012d', abs(random()) % 4294967295, n),
         (CASE n % 4 WHEN 0 THEN 'DESKTOP-' WHEN 1 THEN 'LAPTOP-' WHEN 2 THEN 'PHONE-' ELSE 'TABLET-' END) || printf('%06d', n),
         printf('00000000-0000-4000-8000-%012d', 1 + n % ${DEVICES / 2}),
         CASE n % 5 WHEN 0 THEN 'Windows' WHEN 1 THEN 'macOS' WHEN 2 THEN 'iOS' WHEN 3 THEN 'Android' ELSE 'Linux' END,
         '1.' || (n % 20), 'Model ' || (n % 7), 'Maker', 'SN' || n, 'desktop', NULL,
         CASE n % 3 WHEN 0 THEN 'company' ELSE 'personal' END, 'userEnrollment', 'compliant', 'mdm',
         printf('%036d', n), 1700000000000 + n, 1760000000000 + n * 1000, 'h' || n
  FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${DEVICES}) SELECT n FROM c);`]);
console.log(`seeded ${DEVICES} devices in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const hub = spawn(path.join(BIN, 'reach-hub'), ['serve', '--data', data, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
const url = 'http://' + (await new Promise((r) => hub.stdout.once('data', (d) => r(String(d).split('\n')[0].trim()))));
const { chromium } = await import(PLAYWRIGHT);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // First visit: what the browser downloads (gzip as sent) before the sign-in page shows.
  await page.goto(url + '/');
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const transfer = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => /\.(js|css)$/.test(new URL(e.name).pathname))
    .reduce((s, e) => s + e.transferSize, 0));
  const docTransfer = await page.evaluate(() => performance.getEntriesByType('navigation')[0].transferSize);
  await page.getByRole('textbox', { name: 'Email' }).fill(EMAIL);
  await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Home' }).waitFor();

  const listApi = '/v1.0/deviceManagement/managedDevices?%24top=50&%24select=id%2CdeviceName%2CmanagementAgent%2CmanagedDeviceOwnerType%2CcomplianceState%2CoperatingSystem%2CosVersion%2CuserPrincipalName%2ClastSyncDateTime%2CdeviceEnrollmentType%2CserialNumber%2Cmodel&%24count=true&%24orderby=deviceName';
  const apiTime = (p) => page.evaluate(async (u) => { const s = performance.now(); const r = await fetch(u); await r.json(); return performance.now() - s; }, p);

  const first = [];
  const firstApi = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto(url + '/');
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    const s = Date.now();
    await page.getByRole('link', { name: 'All devices' }).first().click();
    await page.getByRole('link', { name: 'DESKTOP-000004' }).waitFor();
    first.push(Date.now() - s);
    firstApi.push(await apiTime(listApi));
  }
  const search = [];
  const searchApi = [];
  const box = page.getByRole('searchbox', { name: 'Search' });
  for (let i = 0; i < RUNS; i++) {
    await box.fill('');
    await page.getByRole('link', { name: 'DESKTOP-000004' }).waitFor();
    const n = 1001 + i * 40; // n % 4 == 1: a LAPTOP, one device per term
    const term = `LAPTOP-${String(n).padStart(6, '0')}`;
    await box.pressSequentially(term.slice(0, -1));
    const s = Date.now();
    await box.press(term.slice(-1));
    await page.waitForFunction((t) => {
      const list = document.querySelector('reach-app')?.shadowRoot?.querySelector('reach-devices');
      const rows = list?.shadowRoot?.querySelectorAll('tbody tr');
      return rows?.length === 1 && rows[0].textContent.includes(t);
    }, term, { polling: 'raf' });
    search.push(Date.now() - s);
    const f = encodeURIComponent(`(startswith(deviceName,'${term}') or startswith(userPrincipalName,'${term}') or startswith(serialNumber,'${term}'))`);
    searchApi.push(await apiTime(`${listApi}&%24filter=${f}`));
  }
  const row = (name, ui, api) => `| ${name} | ${median(ui).toFixed(0)} ms | ${median(api).toFixed(1)} ms | ${(median(ui) / median(api)).toFixed(1)} |`;
  console.log(`\nAll devices at ${DEVICES} devices, median of ${RUNS} (headless Chromium, this machine)\n`);
  console.log('| measure | admin center | the API request alone | ratio |\n|---|---|---|---|');
  console.log(row('first page after navigation', first, firstApi));
  console.log(row('search result after the last keystroke (150 ms debounce included)', search, searchApi));
  console.log(`\nfirst visit: JS + CSS ${(transfer / 1024).toFixed(1)} KiB transferred (gzip), index.html ${(docTransfer / 1024).toFixed(1)} KiB`);
} finally {
  await browser.close();
  hub.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
