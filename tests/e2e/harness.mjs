// Shared by the end-to-end tests that show a virtual display in the relay's browser viewer:
// child processes that cannot outlive the test run, polls with deadlines, a relay of our own,
// an Xvfb showing a known four-colour pattern, headless Chromium, and reading that pattern back
// from the noVNC canvas.
//
// Environment: REACH_BIN_DIR (the programs), PLAYWRIGHT_CORE (playwright-core's index.mjs),
// REACH_E2E_OUT_DIR (where screenshots go; default: the system temp dir), REACH_CHROMIUM,
// REACH_E2E_STORE (postgresql: the hub and the relay keep their data on the tests' PostgreSQL
// server, which ctest's `postgres` fixture runs; otherwise SQLite in their data directories).
// Each test file runs in its own node process, so the state below is one test file's.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const BIN = process.env.REACH_BIN_DIR;
export const PLAYWRIGHT = process.env.PLAYWRIGHT_CORE;
export const OUT_DIR = process.env.REACH_E2E_OUT_DIR || os.tmpdir();
export const CHROMIUM = process.env.REACH_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'e2e-admin-password-1';

// The pattern on the device's screen: four quadrants of a 1024x768 root window.
export const WIDTH = 1024;
export const HEIGHT = 768;
export const QUADRANTS = [
  { name: 'top-left', x: 0.25, y: 0.25, rgb: [0xff, 0x00, 0x00] },
  { name: 'top-right', x: 0.75, y: 0.25, rgb: [0x00, 0xc0, 0x00] },
  { name: 'bottom-left', x: 0.25, y: 0.75, rgb: [0x00, 0x00, 0xff] },
  { name: 'bottom-right', x: 0.75, y: 0.75, rgb: [0xff, 0x80, 0x00] },
];
const hex = (rgb) => '#' + rgb.map((c) => c.toString(16).padStart(2, '0')).join('');

const children = [];

// If the runner is killed (ctest's timeout), nothing may outlive it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

// Starts a program, keeps its output (for failure messages) and stops it in stopAll().
export function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.out = '';
  child.err = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.err += d));
  child.exited = new Promise(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (e) => (child.err += String(e)));
  children.push(child);
  return child;
}

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(timer);
}

// Stops everything start() started, newest first (programs before the display they use).
export async function stopAll() {
  for (const child of [...children].reverse()) await stop(child);
}

export function checkEnvironment() {
  assert.ok(BIN, 'REACH_BIN_DIR is not set');
  assert.ok(PLAYWRIGHT, 'PLAYWRIGHT_CORE is not set');
}

// For after(): the browser, then the programs, the display last; then the test's temp dir.
export async function tearDown(browser, tmp) {
  if (browser) await browser.close().catch(() => {});
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls `probe` (async, returns a truthy value when done) until `ms` passes.
export async function until(what, probe, ms = 20000) {
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
export function firstLine(child, what) {
  return until(what, () => {
    if (child.exitCode !== null) throw new Error(`${what}: exited ${child.exitCode}: ${child.err}`);
    const nl = child.out.indexOf('\n');
    return nl >= 0 ? child.out.slice(0, nl).trim() : null;
  });
}

export function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The `--db` of a new hub or relay: on REACH_E2E_STORE=postgresql a database of its own on the
// fixture's server (its URL is in REACH_BIN_DIR/../test-postgres/url), none otherwise (SQLite).
let databases = 0;
export function storeArgs(purpose) {
  if (process.env.REACH_E2E_STORE !== 'postgresql') return [];
  const server = fs.readFileSync(path.join(BIN, '..', 'test-postgres', 'url'), 'utf8').trim();
  const name = `e2e_${purpose}_${process.pid}_${++databases}`;
  run('psql', ['-q', server, '-c', `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`]);
  const slash = server.indexOf('///');
  const query = server.indexOf('?');
  return ['--db', server.slice(0, slash + 3) + name + (query < 0 ? '' : server.slice(query))];
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A virtual display on a number Xvfb picks itself (-displayfd: no race with other tests), with
// the pattern as the root window's background. Returns the display name, e.g. ":5".
export async function startPatternDisplay(tmp) {
  const xvfb = start('Xvfb',
    ['-displayfd', '1', '-screen', '0', `${WIDTH}x${HEIGHT}x24`, '-nolisten', 'tcp', '-noreset']);
  const display = ':' + (await firstLine(xvfb, 'Xvfb'));
  const pattern = path.join(tmp, 'pattern.png');
  const q = QUADRANTS.map((x) => `xc:${hex(x.rgb)}`);
  run('convert', ['-size', `${WIDTH / 2}x${HEIGHT / 2}`, q[0], q[1], '+append',
    '(', '-size', `${WIDTH / 2}x${HEIGHT / 2}`, q[2], q[3], '+append', ')', '-append', pattern]);
  // `display -window root` sets the background and exits (with status 1 on some versions).
  spawnSync('display', ['-window', 'root', pattern],
    { env: { ...process.env, DISPLAY: display }, timeout: 20000 });
  return display;
}

// A fresh relay with one admin and an API token. Returns { url, token, api, createSession }.
export async function startRelay(tmp) {
  const data = path.join(tmp, 'relay');
  const relayBin = path.join(BIN, 'reach-relay');
  run(relayBin, ['init', '--data', data, '--admin-email', 'admin@example.com',
    ...storeArgs('relay')], { REACH_ADMIN_PASSWORD: PASSWORD });
  const token =
    run(relayBin, ['token', 'create', '--data', data, '--email', 'admin@example.com']).trim();
  const server = start(relayBin, ['serve', '--data', data, '--listen', '127.0.0.1:0']);
  const url = 'http://' + (await firstLine(server, 'reach-relay'));

  async function api(method, urlPath, body) {
    const res = await fetch(url + urlPath, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
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
  return { url, token, api, createSession };
}

export async function launchChromium() {
  const { chromium } = await import(PLAYWRIGHT);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// The viewer's status line.
export function statusText(page) {
  return page.evaluate(() => document.getElementById('status').textContent);
}

// The noVNC canvas holds the remote framebuffer at its own resolution: its size and one pixel
// of each quadrant, or null while there is no framebuffer.
export function sampleQuadrants(page) {
  return page.evaluate((quadrants) => {
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
}

// Whether a sampled pixel is quadrant i's colour.
export function isQuadrantColour(pixel, i) {
  return pixel.every((c, j) => Math.abs(c - QUADRANTS[i].rgb[j]) <= 24);
}

// Waits until the canvas shows the whole pattern; returns the samples. On failure it saves a
// screenshot as `failShot` in OUT_DIR first.
export async function waitForPattern(page, failShot) {
  return until('the pattern on the canvas', async () => {
    const s = await sampleQuadrants(page);
    if (!s) return null;
    return s.pixels.every(isQuadrantColour) ? s : null;
  }, 20000).catch(async (e) => {
    await page.screenshot({ path: path.join(OUT_DIR, failShot) });
    throw e;
  });
}

// What axe-core checks on every page: WCAG 2.x A and AA, and its best practices (landmarks:
// every piece of content in a region, one main, headings in order, …).
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = PASSWORD;

// A fresh hub (and its admin center) with one Intune Administrator and an API token. Returns
// { url, data, token, api, enroll, server }. `enroll` enrols a device through the agents' API
// (an inventory, as reach-agent sends it) for pages that need devices but no running agent.
export async function startHub(tmp, extraArgs = []) {
  const data = path.join(tmp, 'hub');
  const hubBin = path.join(BIN, 'reach-hub');
  const store = storeArgs('hub');
  run(hubBin, ['init', '--data', data, '--admin-email', ADMIN_EMAIL, ...store],
    { REACH_ADMIN_PASSWORD: PASSWORD });
  const token = run(hubBin, ['token', 'create', '--data', data, '--email', ADMIN_EMAIL]).trim();
  const server = start(hubBin, ['serve', '--data', data, '--listen', '127.0.0.1:0', ...extraArgs]);
  const url = 'http://' + (await firstLine(server, 'reach-hub'));

  async function api(method, urlPath, body, bearer = token) {
    const res = await fetch(url + urlPath, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    return { status: res.status, json };
  }
  async function enroll(device, { user, ownership = 'personal' } = {}) {
    const t = await api('POST', '/api/enrollmentTokens',
      user ? { userPrincipalName: user, ownership } : { userless: true, ownership });
    assert.equal(t.status, 201, JSON.stringify(t.json));
    const res = await fetch(url + '/api/agent/enroll', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ enrollmentToken: t.json.token, device }),
    });
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    return body; // { deviceId, deviceCredential }
  }
  // A statement run on the hub's store directly, for a state no API reaches (sqlite3 or psql).
  function sql(statement) {
    return store.length ? run('psql', ['-q', store[1], '-c', statement])
      : run('sqlite3', [path.join(data, 'hub.db'), statement]);
  }
  return { url, data, token, api, enroll, server, sql };
}
