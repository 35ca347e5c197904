// End to end: the relay's browser viewer (noVNC in headless Chromium) shows a real X display.
//
//   Xvfb (a known four-colour pattern) ← x11vnc ← reach_test_device_bridge ← reach-relay
//     ← supporter link in Chromium (and, in the last test, `reach connect` + a raw RFB client).
//
// Environment: see harness.mjs. Every process started here is stopped in after(), also when a
// test fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  BIN, HEIGHT, OUT_DIR, WIDTH, checkEnvironment, firstLine, freePort, launchChromium, start,
  startPatternDisplay, startRelay, tearDown, until, waitForPattern,
} from './harness.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-e2e-'));
let browser;
let display;
let vncPort;
let relay; // { url, token, api, createSession }

// The device side: the test bridge between x11vnc and the session's device stream.
async function startDevice(session) {
  const device = start(path.join(BIN, 'reach_test_device_bridge'), [
    '--vnc', `127.0.0.1:${vncPort}`, '--link', session.end_customer_link,
  ]);
  assert.equal(await firstLine(device, 'the device bridge'), 'bridged');
  return device;
}

before(async () => {
  checkEnvironment();
  display = await startPatternDisplay(tmp);

  vncPort = await freePort();
  const vnc = start('x11vnc', ['-display', display, '-rfbport', String(vncPort), '-localhost',
    '-nopw', '-forever', '-shared', '-noxdamage'], { env: { ...process.env, DISPLAY: display } });
  await until('x11vnc', () => {
    if (vnc.exitCode !== null) throw new Error('x11vnc exited: ' + vnc.err);
    return /PORT=\d+/.test(vnc.out);
  });

  relay = await startRelay(tmp);
  browser = await launchChromium();
});

after(() => tearDown(browser, tmp));

test('the supporter link shows the device screen in Chromium, and ends for good', async () => {
  const session = await relay.createSession('viewer');
  const device = await startDevice(session);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await page.goto(session.supporter_link);
  await page.waitForFunction(
    () => /Connected/.test(document.getElementById('status').textContent), null, { timeout: 30000 });

  // The canvas holds the remote framebuffer at its own resolution; sample each quadrant.
  const samples = await waitForPattern(page, 'relay_viewer_failed.png');
  assert.equal(samples.width, WIDTH);
  assert.equal(samples.height, HEIGHT);

  const shot = path.join(OUT_DIR, 'relay_viewer.png');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);

  await page.click('#end');
  await page.waitForFunction(
    () => /ended/i.test(document.getElementById('status').textContent), null, { timeout: 10000 });
  const closed = await until('state closed', async () => {
    const r = await relay.api('GET', `/api/v1/sessions/${session.code}`);
    return r.json && r.json.state === 'closed' ? r.json : null;
  });
  assert.equal(closed.state, 'closed');
  // The relay ends the device's end too.
  assert.deepEqual(await device.exited, { code: 0, signal: null });

  const again = await page.goto(session.supporter_link);
  assert.equal(again.status(), 410);
  assert.match(await page.textContent('body'), /new session/i);
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('reach connect bridges one VNC client at a time, then refuses the used link', async () => {
  const session = await relay.createSession('reach connect');
  const device = await startDevice(session);
  const reach = start(path.join(BIN, 'reach'), ['connect', session.supporter_link, '--listen', '127.0.0.1:0']);
  const address = await firstLine(reach, 'reach connect');
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  await until('the human line', () => /Listening on .* point a VNC viewer there/.test(reach.err));

  // A raw RFB client: x11vnc's greeting arrives through device bridge, relay and reach.
  const viewer = net.connect(port, host);
  let received = Buffer.alloc(0);
  viewer.on('data', (d) => (received = Buffer.concat([received, d])));
  const viewerClosed = new Promise((r) => viewer.on('close', r));
  await until('the RFB greeting', () => received.length >= 12);
  assert.equal(received.subarray(0, 12).toString(), 'RFB 003.008\n');

  // A second viewer is closed at once.
  const second = net.connect(port, host);
  second.on('error', () => {});
  let secondData = 0;
  second.on('data', (d) => (secondData += d.length));
  await new Promise((r) => second.on('close', r));
  assert.equal(secondData, 0);
  await until('the refusal log line', () => /Refused a second viewer/.test(reach.err));

  viewer.end();
  await viewerClosed;
  assert.deepEqual(await reach.exited, { code: 0, signal: null }, reach.err);
  assert.match(reach.err, /Session ended/);
  assert.deepEqual(await device.exited, { code: 0, signal: null });

  // The link is used up now; a wrong token is unknown; a malformed link is a bad argument.
  const used = spawnSync(path.join(BIN, 'reach'), ['connect', session.supporter_link, '--listen', '127.0.0.1:0'], { encoding: 'utf8' });
  assert.equal(used.status, 1, used.stderr);
  assert.match(used.stderr, /this link is used up or expired: request a new session/);
  const other = await relay.createSession('unknown token');
  const wrong = other.supporter_link.replace(/.{4}$/, 'AAAA');
  const unknown = spawnSync(path.join(BIN, 'reach'), ['connect', wrong, '--listen', '127.0.0.1:0'], { encoding: 'utf8' });
  assert.equal(unknown.status, 1, unknown.stderr);
  assert.match(unknown.stderr, /unknown/);
  const bad = spawnSync(path.join(BIN, 'reach'), ['connect', 'http://example/nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

test('reach connect stops on SIGTERM', async () => {
  const session = await relay.createSession('sigterm');
  const reach = start(path.join(BIN, 'reach'), ['connect', session.supporter_link, '--listen', '127.0.0.1:0']);
  await firstLine(reach, 'reach connect');
  reach.kill('SIGTERM');
  assert.deepEqual(await reach.exited, { code: 0, signal: null }, reach.err);
});
