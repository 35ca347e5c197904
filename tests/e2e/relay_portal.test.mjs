// End to end: a supporter uses the relay's portal in headless Chromium (SPEC §3.7): signs in
// (a wrong password is refused), creates a session by hand, reads its code and supporter link,
// finds it in the list, closes it; the sessions API agrees at every step.
//
// Environment: REACH_BIN_DIR, PLAYWRIGHT_CORE, REACH_E2E_OUT_DIR, REACH_E2E_STORE (as
// harness.mjs).
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {after, before, test} from 'node:test';

import {storeArgs} from './harness.mjs';

const BIN = process.env.REACH_BIN_DIR;
const OUT_DIR = process.env.REACH_E2E_OUT_DIR || os.tmpdir();
const EMAIL = 'supporter@reach.test';
const PASSWORD = 'portal-e2e-password-1';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-portal-'));
let relay;
let base;
let token;
let browser;

process.on('exit', () => relay && relay.exitCode === null && relay.kill('SIGKILL'));

before(async () => {
  const data = path.join(tmp, 'relay');
  const init = spawnSync(`${BIN}/reach-relay`, ['init', '--data', data, '--admin-email', EMAIL, ...storeArgs('portal')], {
    env: {...process.env, REACH_ADMIN_PASSWORD: PASSWORD},
    encoding: 'utf8',
  });
  assert.equal(init.status, 0, init.stderr);
  token = spawnSync(`${BIN}/reach-relay`, ['token', 'create', '--data', data, '--email', EMAIL], {
            encoding: 'utf8',
          }).stdout.trim();
  assert.ok(token.length > 20);
  relay = spawn(`${BIN}/reach-relay`, ['serve', '--data', data, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({input: relay.stdout}).once('line', resolve);
    relay.once('exit', () => reject(new Error('reach-relay exited before listening')));
  });
  base = `http://${first}`;
  const {chromium} = await import(process.env.PLAYWRIGHT_CORE);
  browser = await chromium.launch({
    executablePath: process.env.REACH_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (relay && relay.exitCode === null) {
    relay.kill('SIGTERM');
    await new Promise((r) => relay.once('exit', r));
  }
  fs.rmSync(tmp, {recursive: true, force: true});
});

async function api(method, url, body) {
  const res = await fetch(base + url, {
    method,
    headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/json'},
    body: body && JSON.stringify(body),
  });
  return {status: res.status, json: res.status === 204 ? null : await res.json()};
}

test(
    'a supporter signs in, creates a session, reads its code and link, and closes it', async () => {
      const page = await browser.newPage({viewport: {width: 1100, height: 800}});
      await page.goto(base + '/');
      assert.match(page.url(), /\/signin/, 'the portal asks to sign in first');

      await page.fill('input[name=email]', EMAIL);
      await page.fill('input[name=password]', 'not-the-password');
      await page.click('button[type=submit]');
      assert.match(await page.locator('.error').textContent(), /email or password is not right/);

      await page.fill('input[name=password]', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForSelector('text=New session');
      assert.match(await page.textContent('body'), new RegExp(`Signed in as ${EMAIL}`));

      await page.fill('input[name=description]', 'Printer does not work');
      await page.fill('input[name=customer_name]', 'Max Mustermann');
      await page.fill('input[name=customer_email]', 'max@example.com');
      await page.click('text=Create session');
      await page.waitForSelector('a.link');
      const heading = await page.textContent('h1');
      const code = heading.match(/s\d{2}-\d{3}-\d{3}/)?.[0];
      assert.ok(code, `the session page shows a code (${heading})`);
      const link = await page.textContent('a.link');
      assert.match(link, new RegExp(`^${base}/support/s\\d{8}-[A-Za-z0-9_-]{32}$`));
      assert.match(
          await page.textContent('pre'), new RegExp(`reach-agent join ${code} --relay ${base}`));
      await page.screenshot({path: path.join(OUT_DIR, 'relay_portal_session.png')});

      const viaApi = await api('GET', `/api/v1/sessions/${code}`);
      assert.equal(viaApi.status, 200);
      assert.equal(viaApi.json.state, 'open');
      assert.equal(viaApi.json.description, 'Printer does not work');
      assert.deepEqual(
          viaApi.json.end_customer, {name: 'Max Mustermann', email: 'max@example.com'});
      assert.equal(viaApi.json.supporter_link, link);

      await page.click('text=← Sessions');
      const row = page.locator('tr', {hasText: code});
      assert.match(await row.textContent(), /open.*Printer does not work.*Max Mustermann/s);
      await row.locator('button', {hasText: 'Close'}).click();
      await page.waitForSelector(`tr:has-text("${code}")`);
      assert.match(await page.locator('tr', {hasText: code}).textContent(), /closed/);
      await page.screenshot({path: path.join(OUT_DIR, 'relay_portal_list.png')});

      const closed = await api('GET', `/api/v1/sessions/${code}`);
      assert.equal(closed.json.state, 'closed');
      assert.ok(closed.json.closed_at);
      const viewer = await page.goto(link);
      assert.equal(viewer.status(), 410, 'a closed session\'s supporter link is dead');
      assert.match(await page.textContent('body'), /Request a new session/);

      await page.goto(base + '/');
      await page.click('text=Sign out');
      await page.goto(base + '/');
      assert.match(page.url(), /\/signin/, 'signed out');
      await page.close();
    });

test('a signed-in form posted without the page\'s CSRF token changes nothing', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/signin');
  await page.fill('input[name=email]', EMAIL);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=New session');
  const before = await api('GET', '/api/v1/sessions?state=open,closed');
  // The browser's own session cookie, but a token the page never gave out.
  const forged = await page.request.post(base + '/portal/sessions', {
    form: {description: 'forged', csrf: 'guessed-token-guessed-token-1234'},
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  assert.match(await forged.text(), /form has expired or did not come from this site/);
  const afterList = await api('GET', '/api/v1/sessions?state=open,closed');
  assert.equal(afterList.json.sessions.length, before.json.sessions.length);
  await page.close();
});

test('a Norwegian browser gets the portal, its sign-in and the viewer in Norwegian', async () => {
  const context = await browser.newContext({viewport: {width: 1100, height: 800}, locale: 'nb-NO'});
  const page = await context.newPage();
  await page.goto(base + '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'nb');
  await page.getByLabel('E-post').fill(EMAIL);
  await page.getByLabel('Passord').fill('not-the-password');
  await page.getByRole('button', {name: 'Logg på'}).click();
  assert.equal(await page.locator('.error').textContent(), 'E-postadressen eller passordet er feil.');
  await page.getByLabel('Passord').fill(PASSWORD);
  await page.getByRole('button', {name: 'Logg på'}).click();
  await page.getByRole('heading', {name: 'Økter'}).waitFor();
  await page.getByLabel('Beskrivelse').fill('Skriveren');
  await page.getByRole('button', {name: 'Opprett økt'}).click();
  await page.getByText('Les denne koden for personen ved enheten. De kjører:').waitFor();
  assert.match(await page.textContent('.card p'), /Status: åpen/);
  const link = await page.textContent('a.link');
  await page.screenshot({path: path.join(OUT_DIR, 'relay_portal_session_nb.png')});
  // The viewer behind the link: its bar and its status in the same language.
  await page.goto(link);
  assert.equal(await page.getAttribute('html', 'lang'), 'nb');
  await page.getByRole('button', {name: 'Avslutt økten'}).waitFor();
  await page.getByText('Kobler til reléet … venter på at enheten deler skjermen.').waitFor();
  // The switch in the page's header overrides the browser, and is kept.
  await page.goto(base + '/');
  await page.getByRole('link', {name: 'English'}).click();
  await page.getByRole('heading', {name: 'Sessions'}).waitFor();
  await page.goto(base + '/');
  await page.getByRole('button', {name: 'Create session'}).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await context.close();
});
