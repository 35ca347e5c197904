// End to end: the admin center without a mouse (sign in, find a device, request remote
// assistance from its More menu, confirm), with the hub gone and back (the page says so, and
// recovers by itself), and in the dark theme (axe-core, contrast included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AXE_TAGS, ADMIN_EMAIL, ADMIN_PASSWORD, BIN, OUT_DIR, checkEnvironment, firstLine, launchChromium, start,
  startHub, stop, tearDown, until,
} from './harness.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-e2e-resilience-'));
let browser;
let hub;
let deviceId;

before(async () => {
  checkEnvironment();
  hub = await startHub(tmp);
  const u = await hub.api('POST', '/v1.0/users', { displayName: 'Dana Device', userPrincipalName: 'dana@example.com',
    accountEnabled: true, passwordProfile: { password: 'Dana-Passw0rd-1' } });
  assert.equal(u.status, 201);
  ({ deviceId } = await hub.enroll({ deviceName: 'KEYBOARD-PC', operatingSystem: 'Linux', osVersion: '12',
    deviceType: 'desktop' }, { user: 'dana@example.com' }));
  browser = await launchChromium();
});

after(() => tearDown(browser, tmp));

// The element that has the keyboard focus, through shadow roots: its role and text.
function focused(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    const host = a?.getRootNode()?.host;
    const el = a?.getAttribute('role') || a?.tagName === 'A' || a?.tagName === 'BUTTON' ? a : host ?? a;
    return { tag: el?.tagName?.toLowerCase(), text: (el?.getAttribute('aria-label') || el?.textContent || '').trim() };
  });
}

async function tabTo(page, text, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f.text === text || f.text.startsWith(text)) return;
  }
  throw new Error(`Tab never reached "${text}"`);
}

test('an administrator can do it all without a mouse', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  try {
    await page.goto(hub.url + '/');
    await page.getByRole('textbox', { name: 'Email' }).waitFor();
    await tabTo(page, 'Email');
    await page.keyboard.type(ADMIN_EMAIL);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Home' }).waitFor();
    await tabTo(page, 'All devices');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'KEYBOARD-PC' }).waitFor();
    await tabTo(page, 'KEYBOARD-PC');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'KEYBOARD-PC' }).waitFor();
    await tabTo(page, 'More');
    await page.keyboard.press('Enter');
    // The agent never connected: the request is offered disabled, and the page says why before
    // anyone asks (issue 21, point 10).
    const item = page.getByRole('menuitem', { name: 'New remote assistance session' });
    await item.waitFor();
    assert.equal(await item.getAttribute('aria-disabled'), 'true');
    await page.keyboard.press('Escape');
    await page.getByRole('note').filter({ hasText: 'has never connected to the hub' }).waitFor();
  } catch (e) {
    await page.screenshot({ path: path.join(OUT_DIR, 'admin-keyboard-failed.png'), fullPage: true });
    throw e;
  } finally {
    await context.close();
  }
});

test('a lost hub is shown and the page recovers when it is back', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  const page = await context.newPage();
  try {
    await page.goto(hub.url + '/');
    await page.getByRole('textbox', { name: 'Email' }).fill(ADMIN_EMAIL);
    await page.getByRole('textbox', { name: 'Password' }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'All devices' }).click();
    await page.getByRole('link', { name: 'KEYBOARD-PC' }).waitFor();
    // The hub stops; the next request fails and the page says so.
    await stop(hub.server);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('alert').filter({ hasText: 'The connection to the hub is lost' }).waitFor();
    await page.screenshot({ path: path.join(OUT_DIR, 'admin-offline.png'), fullPage: true });
    // Back on the same address, same data: the notice goes and the list loads again by itself.
    const port = new URL(hub.url).port;
    const server = start(path.join(BIN, 'reach-hub'), ['serve', '--data', hub.data, '--listen', `127.0.0.1:${port}`]);
    await firstLine(server, 'reach-hub again');
    hub.server = server;
    await page.getByRole('alert').filter({ hasText: 'The connection to the hub is lost' }).waitFor({ state: 'detached', timeout: 15000 });
    await page.getByRole('link', { name: 'KEYBOARD-PC' }).waitFor();
  } finally {
    await context.close();
  }
});

test('the dark theme passes axe-core too', async () => {
  const { default: AxeBuilder } = await import(process.env.AXE_PLAYWRIGHT).then((m) => (m.default ? m : { default: m.AxeBuilder }));
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(hub.url + '/');
  await page.getByRole('textbox', { name: 'Email' }).fill(ADMIN_EMAIL);
  await page.getByRole('textbox', { name: 'Password' }).fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Home' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  for (const [url, heading] of [['/', 'Home'], ['/devices', 'All devices'], [`/devices/${deviceId}`, 'KEYBOARD-PC'], ['/tenant/roles', 'Roles']]) {
    await page.goto(hub.url + url);
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    const violations = (await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze()).violations;
    assert.deepEqual(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`), [], url);
  }
  await page.goto(hub.url + `/devices/${deviceId}`);
  await page.getByRole('heading', { name: 'KEYBOARD-PC' }).waitFor();
  await page.screenshot({ path: path.join(OUT_DIR, 'admin-dark-device.png'), fullPage: true });
  await context.close();
});
