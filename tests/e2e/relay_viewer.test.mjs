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

// VNC Authentication's response (RFC 6143 §7.2.2): the challenge encrypted with DES under the
// password, each byte's bits reversed. Node has no DES; the openssl command's legacy provider
// does (an implementation that is not reach's own).
function vncResponse(password, challenge) {
  const key = Buffer.alloc(8);
  for (let i = 0; i < 8 && i < password.length; i++) {
    let c = password.charCodeAt(i), r = 0;
    for (let b = 0; b < 8; b++) if (c & (1 << b)) r |= 0x80 >> b;
    key[i] = r;
  }
  const r = spawnSync('openssl', ['enc', '-des-ecb', '-nopad', '-K', key.toString('hex'),
    '-provider', 'legacy', '-provider', 'default'], { input: challenge });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

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

test('reach connect bridges the first VNC client with its password, then refuses the used link', async () => {
  const session = await relay.createSession('reach connect');
  const device = await startDevice(session);
  const reach = start(path.join(BIN, 'reach'), ['connect', session.supporter_link, '--listen', '127.0.0.1:0']);
  const address = await firstLine(reach, 'reach connect');
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const password = await until('the password line', () => reach.out.split('\n')[1] || null);
  await until('the human line', () => /Listening on .* point a VNC viewer there .* one-time password/.test(reach.err));

  // A raw RFB client with the password: then x11vnc's ServerInit arrives through device bridge,
  // relay and reach (whose gate answered x11vnc's version and security).
  const viewer = net.connect(port, host);
  let received = Buffer.alloc(0);
  viewer.on('data', (d) => (received = Buffer.concat([received, d])));
  const viewerClosed = new Promise((r) => viewer.on('close', r));
  await until('the RFB greeting', () => received.length >= 12);
  assert.equal(received.subarray(0, 12).toString(), 'RFB 003.008\n');
  viewer.write('RFB 003.008\n');
  await until('the security types', () => received.length >= 14);
  assert.deepEqual([...received.subarray(12, 14)], [1, 2], 'VNC Authentication only');
  viewer.write(Buffer.from([2]));
  await until('the challenge', () => received.length >= 30);
  viewer.write(vncResponse(password, received.subarray(14, 30)));
  await until('the security result', () => received.length >= 34);
  assert.deepEqual([...received.subarray(30, 34)], [0, 0, 0, 0], 'SecurityResult OK');
  viewer.write(Buffer.from([1]));  // ClientInit (shared)
  await until('x11vnc\'s ServerInit', () => received.length >= 34 + 24);
  assert.equal(received.readUInt16BE(34), WIDTH);
  assert.equal(received.readUInt16BE(36), HEIGHT);

  // Nobody else connects any more: the port is closed.
  const second = net.connect(port, host);
  const refused = await new Promise((r) => {
    second.on('error', (e) => r(e.code));
    second.on('data', () => r('data'));
    second.on('close', () => r('closed'));
  });
  assert.notEqual(refused, 'data', 'a second viewer got bytes');

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
