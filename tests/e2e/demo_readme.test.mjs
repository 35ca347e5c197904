// The README's demo, followed word for word as a new user would (issue 21): `bash scripts/demo.sh`
// from the clone, then what it prints — sign in to the admin center with the printed address and
// password, Devices > All devices > the device, Accept on the notification (clicked on the
// notification server's button), Start remote assistance, Full control in the "Allow this session
// to start?" dialog, typing into the demo desktop's terminal from the viewer, and End session on
// the bar at the top of the device's screen. The device user's controls are found the way
// assistive technology finds them (AT-SPI, role and name: tests/tools/a11y_find.cpp), turned on
// as a screen reader turns it on, and clicked with X input events (xdotool).
// The demo's state, ports and VNC port are its documented overrides (REACH_DEMO_DIR,
// REACH_HUB_LISTEN, REACH_RELAY_LISTEN, REACH_DEMO_VNC_PORT), so a developer's .demo/ is untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, OUT_DIR, checkEnvironment, freePort, launchChromium, sleep, until } from './harness.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-e2e-demo-'));
const demoDir = path.join(tmp, 'demo');
let demo;
let browser;
let printed = '';
let env; // the device's desktop session, as the demo made it

// The demo runs in a process group of its own: stopping it (Ctrl-C's SIGINT) reaches all it started.
function startDemo(vncPort) {
  const child = spawn('bash', ['scripts/demo.sh'], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      REACH_BUILD_DIR: path.resolve(BIN, '..'),
      REACH_DEMO_DIR: demoDir,
      REACH_HUB_LISTEN: '127.0.0.1:0',
      REACH_RELAY_LISTEN: '127.0.0.1:0',
      REACH_DEMO_VNC_PORT: String(vncPort),
    },
  });
  child.out = '';
  child.err = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.err += d));
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

// What the demo printed after `label` on its line.
function field(label) {
  const m = new RegExp(`${label}\\s+(\\S+)`).exec(printed);
  assert.ok(m, `the demo printed no "${label}":\n${printed}`);
  return m[1];
}

// The device user's control with this role and accessible name, clicked as a person clicks it.
async function clickOnDevice(role, name, app) {
  const find = () => {
    const args = ['--role', role, '--name', name, '--timeout-ms', '15000'];
    if (app) args.push('--app', app);
    const r = spawnSync(path.join(BIN, 'reach_test_a11y_find'), args, { encoding: 'utf8', env, timeout: 20000 });
    assert.equal(r.status, 0, `"${name}" (${role}) is not on the device's screen: ${r.stderr}`);
    return r.stdout.trim();
  };
  // A window just shown may still be moving into place: click once two looks agree.
  let at = find();
  for (let look = 0; look < 20; ++look) {
    await sleep(100);
    const again = find();
    if (again === at) break;
    at = again;
  }
  const [x, y] = at.split(/\s+/);
  const r = spawnSync('xdotool', ['mousemove', '--sync', x, y, 'click', '1'], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
}

before(async () => {
  checkEnvironment();
  demo = startDemo(await freePort());
  await until('the demo ready ("Press Ctrl-C to stop.")', () => {
    if (demo.exitCode !== null) throw new Error(`demo.sh exited ${demo.exitCode}: ${demo.err}`);
    return demo.out.includes('Press Ctrl-C to stop.');
  }, 240000);
  printed = demo.out;
  const display = /virtual display (:\d+)/.exec(printed)?.[1];
  assert.ok(display, printed);
  env = { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: `unix:path=${demoDir}/session-bus` };
  // Assistive technology on, as a screen reader turns it on for the whole session.
  const on = spawnSync('dbus-send', ['--session', '--print-reply', '--dest=org.a11y.Bus', '/org/a11y/bus',
    'org.freedesktop.DBus.Properties.Set', 'string:org.a11y.Status', 'string:IsEnabled', 'variant:boolean:true'],
  { encoding: 'utf8', env });
  assert.equal(on.status, 0, on.stderr);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (demo && demo.exitCode === null) {
    process.kill(-demo.pid, 'SIGINT');
    const timer = setTimeout(() => { try { process.kill(-demo.pid, 'SIGKILL'); } catch {} }, 10000);
    await demo.exited;
    clearTimeout(timer);
  }
  // Whatever the demo left (it stops its own programs on Ctrl-C).
  try { process.kill(-demo.pid, 'SIGKILL'); } catch {}
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the README demo, followed word for word', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: path.join(OUT_DIR, `demo-readme-${name}.png`), fullPage: true });
  try {
    // "In the admin center (sign in with the address and password above):"
    await page.goto(field('Admin center:'));
    await page.getByRole('textbox', { name: 'Email' }).fill(field('Administrator:'));
    await page.getByRole('textbox', { name: 'Password' }).fill(field('Password:'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    // "(Tenant administration > Connectors and tokens: the connector is connected)"
    await page.getByRole('link', { name: 'Connectors and tokens' }).click();
    await page.getByRole('status').filter({ hasText: /^\s*Connected\s*$/ }).waitFor();
    // "Devices > All devices > NAME shows the remote assistance session requested for you"
    const deviceName = /All devices > (\S+) shows/.exec(printed)?.[1];
    assert.ok(deviceName, printed);
    await page.getByRole('link', { name: 'All devices' }).click();
    await page.getByRole('link', { name: deviceName, exact: true }).click();
    const status = page.getByRole('status').filter({ hasText: /Requested|Accepted|Waiting|Connected|Ended/ });
    await status.filter({ hasText: 'Requested: waiting for the user to accept on the device.' }).waitFor();
    await shot('requested');

    // "1. The device user accepts the request: Accept on the notification (top right …)"
    await clickOnDevice('push button', 'Accept', 'xfce4-notifyd');
    await status.filter({ hasText: 'Accepted by the user: waiting for you. Select Start remote assistance.' }).waitFor();

    // "2. On the device's page, select Start remote assistance (the viewer opens in a new tab)."
    const [viewer] = await Promise.all([
      context.waitForEvent('page'),
      page.getByRole('link', { name: 'Start remote assistance' }).click(),
    ]);
    await status.filter({ hasText: /Waiting for the user to allow the session \(\d:\d\d\)/ }).waitFor();

    // "3. The device user allows it in the "Allow this session to start?" dialog (Full control, …)"
    await clickOnDevice('push button', 'Full control');
    await status.filter({ hasText: 'Connected: you have control of the screen.' }).waitFor();
    await viewer.getByRole('status').filter({ hasText: "Connected: you see the device's screen." }).waitFor();
    await viewer.screenshot({ path: path.join(OUT_DIR, 'demo-readme-viewer.png') });

    // The supporter types into the demo desktop's terminal ("a terminal to type into"): a click on
    // it in the viewer, then a command line. The terminal's shell runs it on the device.
    const typed = path.join(tmp, 'typed-in-the-demo');
    const canvas = viewer.locator('#screen canvas');
    const box = await canvas.boundingBox();
    // The demo's xterm is at +40+400 on the 1280×800 screen; its first line is a little lower.
    await viewer.mouse.click(box.x + (120 / 1280) * box.width, box.y + (460 / 800) * box.height);
    await sleep(300);
    await viewer.keyboard.type(`echo typed by the supporter > ${typed}`);
    await viewer.keyboard.press('Enter');
    await until('the line typed into the terminal', () => fs.existsSync(typed) && fs.readFileSync(typed, 'utf8') === 'typed by the supporter\n');

    // "4. Either side ends it: End session on the bar at the top of the device's screen"
    await clickOnDevice('push button', 'End session');
    await status.filter({ hasText: 'Ended: ended by the user.' }).waitFor();
    await viewer.getByRole('status').filter({ hasText: 'The session was ended by the user.' }).waitFor();
    await shot('ended');
  } catch (e) {
    await shot('failed');
    spawnSync('import', ['-window', 'root', path.join(OUT_DIR, 'demo-readme-device-failed.png')], { env });
    throw e;
  } finally {
    await context.close();
  }
});
