// bench/wan's noVNC viewer: the supporter's real viewer (the relay's page, noVNC 1.7 in Debian's
// Chromium) on Reach, reading bench/screen's frame marker off the canvas at every animation frame.
// Compares, in the same run and on the same link, the agent with continuous updates (the default)
// and with one update per viewer request (`reach-agent --no-continuous-updates`, as before).
// Run by bench/wan/run.sh inside the viewer's namespace, or alone on loopback:
//   node bench/wan/novnc_bench.mjs [--bin build/bin] [--loads full,scroll,square] [--seconds 10]
//        [--warmup 3] [--modes continuous,requests] [--device-ns NS --relay-listen 10.77.0.2:0]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { bin: path.resolve(here, '../../build/bin'), loads: 'full,scroll,square', seconds: 10, warmup: 3,
  modes: 'continuous,requests', deviceNs: '', relayListen: '127.0.0.1:0' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (!(k in opt)) throw new Error(`unknown option ${process.argv[i]}`);
  opt[k] = typeof opt[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const bin = path.resolve(opt.bin);
const playwright = path.resolve(bin, '../npm/node_modules/playwright-core/index.mjs');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-bench-novnc-'));
const children = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const onDevice = (argv) => (opt.deviceNs ? ['ip', 'netns', 'exec', opt.deviceNs, ...argv] : argv);

function start(name, argv, env = {}) {
  const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  c.out = '';
  c.err = '';
  c.stdout.on('data', (d) => (c.out += d));
  c.stderr.on('data', (d) => (c.err += d));
  c.exited = new Promise((r) => c.on('exit', r));
  c.name = name;
  children.push(c);
  return c;
}
async function until(what, probe, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}
function run(argv, env = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
async function stop(c) {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await c.exited;
  clearTimeout(t);
}
// CLOCK_MONOTONIC (the load's draw times) to the wall clock (the page's timestamps).
function monoToWallOffsetMs() {
  const wall = Date.now();
  const mono = Number(process.hrtime.bigint()) / 1e6;
  return wall - mono;
}
const pct = (v, p) => (v.length ? [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] : NaN);

// The relay, with a token for its API.
const relayData = path.join(work, 'relay');
run([path.join(bin, 'reach-relay'), 'init', '--data', relayData, '--admin-email', 'bench@reach.test'],
  { REACH_ADMIN_PASSWORD: 'bench-password-1' });
const token = run([path.join(bin, 'reach-relay'), 'token', 'create', '--data', relayData, '--email', 'bench@reach.test']).trim();
const relay = start('relay', [path.join(bin, 'reach-relay'), 'serve', '--data', relayData, '--listen', opt.relayListen, '--log-level', 'warn']);
const relayUrl = 'http://' + (await until('the relay', () => relay.out.split('\n')[0] || null));

const { chromium } = await import(playwright);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });

async function cell(load, mode) {
  const dir = fs.mkdtempSync(path.join(work, `${load}-${mode}-`));
  const started = [];
  try {
    const xvfb = start('Xvfb', onDevice(['Xvfb', '-displayfd', '1', '-screen', '0', '1920x1080x24', '-nolisten', 'tcp']));
    started.push(xvfb);
    const display = ':' + (await until('Xvfb', () => xvfb.out.split('\n')[0] || null)).trim();
    const times = path.join(dir, 'times.txt');
    const drawer = start('load', onDevice([path.join(bin, 'reach_bench_screen_load'), '--load', load, '--fps', '30', '--display', display, '--times', times]));
    started.push(drawer);
    await until('the load', () => drawer.out.length > 0);
    const r = await fetch(relayUrl + '/api/v1/sessions', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ groupname: 'bench' }) });
    const session = await r.json();
    const state = path.join(dir, 'agent');
    const agentArgs = [path.join(bin, 'reach-agent'), 'join', session.end_customer_link, '--display', display, '--state', state, '--log-level', 'warn'];
    if (mode === 'requests') agentArgs.push('--no-continuous-updates');
    const agent = start('agent', onDevice(agentArgs));
    started.push(agent);
    const status = () => {
      const s = spawnSync(path.join(bin, 'reach-agent'), ['status', '--json', '--state', state], { encoding: 'utf8' });
      try { return JSON.parse(s.stdout).session?.state ?? ''; } catch { return ''; }
    };
    await until('the agent joined', () => status() === 'waitingForSupporter');
    const context = await browser.newContext({ viewport: { width: 1920, height: 1100 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let received = 0;
    let counting = false;
    cdp.on('Network.webSocketFrameReceived', (e) => {
      if (counting) received += e.response.opcode === 2 ? Math.floor(e.response.payloadData.length * 3 / 4) : e.response.payloadData.length;
    });
    await page.goto(session.supporter_link);
    await until('asked to allow', () => status() === 'askingToAllow');
    run([path.join(bin, 'reach-agent'), 'allow', '--state', state]);
    await page.waitForFunction(() => window.reachRfb && document.querySelector('#screen canvas')?.width === 1920, null, { timeout: 30000 });
    // Every animation frame: the marker on the canvas, and when it was first seen (wall clock).
    await page.evaluate(() => {
      window.seen = new Map();
      const canvas = document.querySelector('#screen canvas');
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const fromGray = (g) => { for (let s = 1; s < 32; s <<= 1) g ^= g >>> s; return g >>> 0; };
      const read = () => {
        const d = ctx.getImageData(0, 0, 256, 8).data;
        let g = 0;
        for (let i = 0; i < 32; ++i) {
          let sum = 0, n = 0;
          for (let y = 2; y < 6; ++y) for (let x = i * 8 + 2; x < i * 8 + 6; ++x, ++n) {
            const o = (y * 256 + x) * 4;
            sum += (d[o] * 299 + d[o + 1] * 587 + d[o + 2] * 114) / 1000;
          }
          const mean = sum / n;
          if (mean > 64 && mean < 192) return null;
          const white = mean >= 192;
          if (i < 2 || i >= 30) { if (white !== (i === 0 || i === 31)) return null; } else g = (g << 1) | (white ? 1 : 0);
        }
        return fromGray(g >>> 0);
      };
      const tick = () => {
        const seq = read();
        if (seq !== null && !window.seen.has(seq)) window.seen.set(seq, performance.timeOrigin + performance.now());
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await sleep(opt.warmup * 1000);
    counting = true;
    const from = Date.now();
    await sleep(opt.seconds * 1000);
    const to = Date.now();
    counting = false;
    const seen = new Map(await page.evaluate(() => [...window.seen.entries()]));
    const offset = monoToWallOffsetMs();
    await stop(drawer);
    const drawn = new Map(fs.readFileSync(times, 'utf8').trim().split('\n').map((l) => {
      const [s, ns] = l.split(' ');
      return [Number(s), Number(ns) / 1e6 + offset];
    }));
    const lat = [];
    let frames = 0;
    for (const [seq, at] of seen) {
      if (at < from || at >= to || !drawn.has(seq)) continue;
      ++frames;
      lat.push(at - drawn.get(seq));
    }
    const drawnIn = [...drawn.values()].filter((t) => t >= from && t < to).length;
    await context.close();
    return { drawnFps: drawnIn / opt.seconds, fps: frames / opt.seconds, p50: pct(lat, 0.5), p95: pct(lat, 0.95), kbitps: received * 8 / 1000 / ((to - from) / 1000) };
  } finally {
    for (const c of started.reverse()) await stop(c);
  }
}

console.log(`## bench/wan noVNC: 1920x1080, load at 30 fps, ${opt.seconds} s per cell after ${opt.warmup} s${opt.deviceNs ? `, device in ${opt.deviceNs}` : ', loopback'}`);
for (const load of opt.loads.split(',')) {
  console.log(`\n### ${load}\n\n| agent | drawn fps | fps | p50 ms | p95 ms | Mbit/s |\n|---|---|---|---|---|---|`);
  const rows = {};
  for (const mode of opt.modes.split(',')) {
    try {
      rows[mode] = await cell(load, mode);
      const r = rows[mode];
      console.log(`| ${mode} | ${r.drawnFps.toFixed(1)} | ${r.fps.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${(r.kbitps / 1000).toFixed(2)} |`);
    } catch (e) {
      console.log(`| ${mode} | failed: ${e.message} | | | | |`);
    }
  }
  if (rows.continuous && rows.requests)
    console.log(`| continuous / requests | | ${(rows.continuous.fps / rows.requests.fps).toFixed(2)} | ${(rows.continuous.p50 / rows.requests.p50).toFixed(2)} | ${(rows.continuous.p95 / rows.requests.p95).toFixed(2)} | ${(rows.continuous.kbitps / rows.requests.kbitps).toFixed(2)} |`);
}
await browser.close();
for (const c of children.reverse()) await stop(c);
fs.rmSync(work, { recursive: true, force: true });
