// End to end: the relay's browser viewer (noVNC in headless Chromium) shows a real X display.
//
//   Xvfb (a known four-colour pattern) ← x11vnc ← reach_test_device_bridge ← reach-relay
//     ← supporter link in Chromium (and, in the last test, `reach connect` + a raw RFB client).
//
// Environment: REACH_BIN_DIR (the programs), PLAYWRIGHT_CORE (playwright-core's index.mjs),
// REACH_E2E_OUT_DIR (where the screenshot goes; default: the system temp dir).
// Every process started here is stopped in after(), also when a test fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const BIN = process.env.REACH_BIN_DIR;
const PLAYWRIGHT = process.env.PLAYWRIGHT_CORE;
const OUT_DIR = process.env.REACH_E2E_OUT_DIR || os.tmpdir();
const CHROMIUM = process.env.REACH_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'e2e-admin-password-1';

// The pattern on the device's screen: four quadrants of a 1024x768 root window.
const WIDTH = 1024;
const HEIGHT = 768;
const QUADRANTS = [
  { name: 'top-left', x: 0.25, y: 0.25, rgb: [0xff, 0x00, 0x00] },
  { name: 'top-right', x: 0.75, y: 0.25, rgb: [0x00, 0xc0, 0x00] },
  { name: 'bottom-left', x: 0.25, y: 0.75, rgb: [0x00, 0x00, 0xff] },
  { name: 'bottom-right', x: 0.75, y: 0.75, rgb: [0xff, 0x80, 0x00] },
];
const hex = (rgb) => '#' + rgb.map((c) => c.toString(16).padStart(2, '0')).join('');

const children = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-e2e-'));
let browser;
let display;
let vncPort;
let relay; // { url, token }

// Starts a program, keeps its output (for failure messages) and stops it in after().
function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.out = '';
  child.err = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.err += d));
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (e) => (child.err += String(e)));
  children.push(child);
  return child;
}

// If the runner is killed (ctest's timeout), nothing may outlive it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(timer);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls `probe` (async, returns a truthy value when done) until `ms` passes.
async function until(what, probe, ms = 20000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(100);
  }
}

// The first line a child prints on stdout.
function firstLine(child, what) {
  return until(what, () => {
    if (child.exitCode !== null) throw new Error(`${what}: exited ${child.exitCode}: ${child.err}`);
    const nl = child.out.indexOf('\n');
    return nl >= 0 ? child.out.slice(0, nl).trim() : null;
  });
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function api(method, urlPath, body) {
  const res = await fetch(relay.url + urlPath, {
    method,
    headers: { Authorization: `Bearer ${relay.token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function createSession(description) {
  const r = await api('POST', '/api/v1/sessions', { groupname: 'E2E', description });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
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
  assert.ok(BIN, 'REACH_BIN_DIR is not set');
  assert.ok(PLAYWRIGHT, 'PLAYWRIGHT_CORE is not set');

  // A virtual display on a number Xvfb picks itself (-displayfd: no race with other tests).
  const xvfb = start('Xvfb', ['-displayfd', '1', '-screen', '0', `${WIDTH}x${HEIGHT}x24`, '-nolisten', 'tcp']);
  display = ':' + (await firstLine(xvfb, 'Xvfb'));
  const xenv = { ...process.env, DISPLAY: display };

  // The pattern, as the root window's background (ImageMagick).
  const pattern = path.join(tmp, 'pattern.png');
  const q = QUADRANTS.map((x) => `xc:${hex(x.rgb)}`);
  run('convert', ['-size', `${WIDTH / 2}x${HEIGHT / 2}`, q[0], q[1], '+append',
    '(', '-size', `${WIDTH / 2}x${HEIGHT / 2}`, q[2], q[3], '+append', ')', '-append', pattern]);
  // `display -window root` sets the background and exits (with status 1 on some versions).
  spawnSync('display', ['-window', 'root', pattern], { env: xenv, timeout: 20000 });

  vncPort = await freePort();
  const vnc = start('x11vnc', ['-display', display, '-rfbport', String(vncPort), '-localhost',
    '-nopw', '-forever', '-shared', '-noxdamage'], { env: xenv });
  await until('x11vnc', () => {
    if (vnc.exitCode !== null) throw new Error('x11vnc exited: ' + vnc.err);
    return /PORT=\d+/.test(vnc.out);
  });

  const data = path.join(tmp, 'relay');
  const relayBin = path.join(BIN, 'reach-relay');
  run(relayBin, ['init', '--data', data, '--admin-email', 'admin@example.com'],
    { REACH_ADMIN_PASSWORD: PASSWORD });
  const token = run(relayBin, ['token', 'create', '--data', data, '--email', 'admin@example.com']).trim();
  const server = start(relayBin, ['serve', '--data', data, '--listen', '127.0.0.1:0']);
  relay = { url: 'http://' + (await firstLine(server, 'reach-relay')), token };

  const { chromium } = await import(PLAYWRIGHT);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  // Programs first, the display last.
  for (const child of [...children].reverse()) await stop(child);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the supporter link shows the device screen in Chromium, and ends for good', async () => {
  const session = await createSession('viewer');
  const device = await startDevice(session);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await page.goto(session.supporter_link);
  await page.waitForFunction(
    () => /Connected/.test(document.getElementById('status').textContent), null, { timeout: 30000 });

  // The canvas holds the remote framebuffer at its own resolution; sample each quadrant.
  const samples = await until('the pattern on the canvas', async () => {
    const s = await page.evaluate((quadrants) => {
      const canvas = document.querySelector('#screen canvas');
      if (!canvas || canvas.width === 0) return null;
      const ctx = canvas.getContext('2d');
      return {
        width: canvas.width,
        height: canvas.height,
        pixels: quadrants.map((q) => Array.from(
          ctx.getImageData(Math.floor(q.x * canvas.width), Math.floor(q.y * canvas.height), 1, 1)
            .data.slice(0, 3))),
      };
    }, QUADRANTS);
    if (!s) return null;
    const ok = s.pixels.every((p, i) => p.every((c, j) => Math.abs(c - QUADRANTS[i].rgb[j]) <= 24));
    return ok ? s : null;
  }, 20000).catch(async (e) => {
    await page.screenshot({ path: path.join(OUT_DIR, 'relay_viewer_failed.png') });
    throw e;
  });
  assert.equal(samples.width, WIDTH);
  assert.equal(samples.height, HEIGHT);

  const shot = path.join(OUT_DIR, 'relay_viewer.png');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);

  await page.click('#end');
  await page.waitForFunction(
    () => /ended/i.test(document.getElementById('status').textContent), null, { timeout: 10000 });
  const closed = await until('state closed', async () => {
    const r = await api('GET', `/api/v1/sessions/${session.code}`);
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
  const session = await createSession('reach connect');
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
  const other = await createSession('unknown token');
  const wrong = other.supporter_link.replace(/.{4}$/, 'AAAA');
  const unknown = spawnSync(path.join(BIN, 'reach'), ['connect', wrong, '--listen', '127.0.0.1:0'], { encoding: 'utf8' });
  assert.equal(unknown.status, 1, unknown.stderr);
  assert.match(unknown.stderr, /unknown/);
  const bad = spawnSync(path.join(BIN, 'reach'), ['connect', 'http://example/nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

test('reach connect stops on SIGTERM', async () => {
  const session = await createSession('sigterm');
  const reach = start(path.join(BIN, 'reach'), ['connect', session.supporter_link, '--listen', '127.0.0.1:0']);
  await firstLine(reach, 'reach connect');
  reach.kill('SIGTERM');
  assert.deepEqual(await reach.exited, { code: 0, signal: null }, reach.err);
});
