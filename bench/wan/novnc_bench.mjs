// bench/wan's noVNC viewer: the supporter's real viewer (noVNC 1.7 in Debian's Chromium), reading
// bench/screen's frame marker off the canvas each time noVNC paints it (the time bench/screen
// takes too: the picture is in the viewer's canvas; the browser shows it at its next animation
// frame, which the viewer table reports apart). Compares, in the same run and on the same link:
//   h264         reach-agent as it ships (continuous updates, H.264 where the screen moves like
//                video), through the relay, in the relay's viewer page
//   tight        the same with `--no-h264` (the organisation's "no H.264")
//   requests     `--no-h264 --no-continuous-updates`: one update per viewer request, as before
//   h264-always  `--h264-always`: all motion as H.264
//   x0vncserver  TigerVNC's scraping server (Fence, ContinuousUpdates, its congestion control; no
//                H.264 in Debian 12's 1.12) on the same display, noVNC reaching it through
//                websockify on the device's side, as it is deployed
// Loads (reach_bench_screen_load at 30 fps on a 1920x1080 Xvfb): full, scroll, square, video (a
// 640x360 region), typing (keys typed in the viewer every 150 ms, echoed by the device: the echo's
// latency), typing-busy (the same beside the playing video region).
// Figures: frames per second at the viewer and draw-to-display latency p50/p95 (typing: key to
// echo), Mbit/s on the WebSocket, the server's CPU per frame shown (the agent's or X0tigervnc's,
// from /proc), and "exact": once the load stops (SIGUSR1 holds its last frame), how long until the
// canvas equals the screen pixel for pixel (JPEG and H.264 are lossy; ">5000" when never).
// --step MBIT changes the link's rate to MBIT at the middle of each cell (run.sh's link must be up)
// and reports how long latency stayed above the round trip (--rtt-ms) plus 100 ms after it.
// Run by bench/wan/run.sh inside the viewer's namespace, or alone on loopback:
//   node bench/wan/novnc_bench.mjs [--bin build/bin] [--loads full,scroll,square,video,typing]
//        [--seconds 10] [--warmup 3] [--modes h264,tight,x0vncserver]
//        [--device-ns NS --relay-listen 10.77.0.2:0] [--step 5 --rtt-ms 20]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { bin: path.resolve(here, '../../build/bin'), loads: 'full,scroll,square,video,typing,typing-busy',
  seconds: 10, warmup: 3, modes: 'h264,tight,x0vncserver', deviceNs: '', relayListen: '127.0.0.1:0',
  step: 0, rttMs: 0, viewNs: 'reach-wan-view' };
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
// WebCodecs (noVNC's H.264) exists only in secure contexts: the relay is HTTPS in deployment;
// here it is plain HTTP on the namespace's address, which Chromium is told to treat as secure.
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', `--unsafely-treat-insecure-origin-as-secure=${relayUrl}`] });

// CPU time (user + system) of a process so far, in milliseconds (/proc/PID/stat, 100 ticks/s).
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch { return NaN; }
}
const deviceHost = () => (opt.deviceNs ? '10.77.0.1' : '127.0.0.1');
let nextPort = 15900 + Math.floor(Math.random() * 2000);

// The canvas's marker reader, started in the page: first-seen wall-clock time per frame number,
// at noVNC's paint (seen) and at the next animation frame (seenAtFrame).
function watchMarker() {
  window.seen = new Map();
  window.seenAtFrame = new Map();
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
    if (seq !== null && !window.seenAtFrame.has(seq)) window.seenAtFrame.set(seq, performance.timeOrigin + performance.now());
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  // Every paint of the visible canvas (noVNC's Display.flip with damage, run now rather than
  // queued behind a frame being decoded): its time, and once the load holds still
  // (window.recordPaints), the picture it left, so that the moment the canvas became equal to
  // the screen is known after the screen has been dumped (which takes a second or two here).
  const display = window.reachRfb._display;
  const flip = display.flip.bind(display);
  window.lastPaint = 0;
  window.paints = [];
  // The viewer's own time (counted while window.viewerTimes is on): each H.264 frame's decode
  // (from noVNC's decode call to the decoder's output), each drawImage of a decoded frame or a
  // JPEG into the back buffer, each copy of the damage to the visible canvas.
  window.viewerTimes = false;
  window.decodeMs = [];
  window.drawMs = [];
  window.flipMs = [];
  const now = () => performance.now();
  const videoFrame = display.videoFrame.bind(display);
  display.videoFrame = (x, y, w, h, frame) => {
    const t = now();
    if (window.viewerTimes) frame.promise.then(() => window.decodeMs.push(now() - t));
    return videoFrame(x, y, w, h, frame);
  };
  const drawImage = display.drawImage.bind(display);
  display.drawImage = (img, ...args) => {
    const t = now();
    const r = drawImage(img, ...args);
    if (window.viewerTimes) window.drawMs.push(now() - t);
    return r;
  };
  display.flip = (fromQueue) => {
    const b = display._damageBounds;
    const paints = (fromQueue || display._renderQ.length === 0) && b.right > b.left;
    const t = now();
    const result = flip(fromQueue);
    if (paints && window.viewerTimes) window.flipMs.push(now() - t);
    if (paints) {
      window.lastPaint = performance.timeOrigin + performance.now();
      const seq = read();
      if (seq !== null && !window.seen.has(seq)) window.seen.set(seq, window.lastPaint);
      if (window.recordPaints && window.paints.length < 60)
        window.paints.push({ at: window.lastPaint, px: ctx.getImageData(0, 0, canvas.width, canvas.height).data });
    }
    return result;
  };
}

async function cell(load, mode) {
  const dir = fs.mkdtempSync(path.join(work, `${load}-${mode}-`));
  const started = [];
  const typing = load.startsWith('typing');
  try {
    const xvfb = start('Xvfb', onDevice(['Xvfb', '-displayfd', '1', '-screen', '0', '1920x1080x24', '-nolisten', 'tcp']));
    started.push(xvfb);
    const display = ':' + (await until('Xvfb', () => xvfb.out.split('\n')[0] || null)).trim();
    const times = path.join(dir, 'times.txt');
    const loadArgs = [path.join(bin, 'reach_bench_screen_load'), '--load', typing ? 'typing' : load, '--fps', '30', '--display', display, '--times', times];
    if (load === 'typing-busy') loadArgs.push('--busy');
    const drawer = start('load', onDevice(loadArgs));
    started.push(drawer);
    await until('the load', () => drawer.out.length > 0);
    const context = await browser.newContext({ viewport: { width: 1920, height: 1100 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let received = 0;
    let counting = false;
    cdp.on('Network.webSocketFrameReceived', (e) => {
      if (counting) received += e.response.opcode === 2 ? Math.floor(e.response.payloadData.length * 3 / 4) : e.response.payloadData.length;
    });
    let server;  // the process whose CPU counts
    let sealCpu = null;  // the agent's: its CPU spent on end-to-end encryption so far
    if (mode === 'x0vncserver') {
      const port = nextPort++;
      const wsPort = nextPort++;
      const argv = ['X0tigervnc', '-display', display, '-rfbport', String(port), '-SecurityTypes', 'None', '-AlwaysShared'];
      if (!opt.deviceNs) argv.push('-localhost');
      server = start('x0vncserver', onDevice(argv));
      started.push(server);
      const ws = start('websockify', onDevice(['websockify', `${deviceHost()}:${wsPort}`, `127.0.0.1:${port}`]));
      started.push(ws);
      await until('websockify', () => /Listen|listening/i.test(ws.err + ws.out), 10000).catch(() => sleep(1000));
      // A page of the relay's origin (its static files), noVNC from the relay's copy.
      await page.goto(relayUrl + '/static/viewer.css');
      await page.evaluate(async (url) => {
        const { default: RFB } = await import('/static/novnc/core/rfb.js');
        document.body.innerHTML = '<div id=screen style="position:fixed;inset:0"></div>';
        window.reachRfb = new RFB(document.getElementById('screen'), url, { shared: true });
      }, `ws://${deviceHost()}:${wsPort}`);
    } else {
      const r = await fetch(relayUrl + '/api/v1/sessions', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ groupname: 'bench' }) });
      const session = await r.json();
      const state = path.join(dir, 'agent');
      // REACH_BENCH_AGENT_LOG=DIR: the agent logs at debug level into DIR/LOAD-MODE.log.
      const agentLog = process.env.REACH_BENCH_AGENT_LOG;
      const agentArgs = [path.join(bin, 'reach-agent'), 'join', session.end_customer_link, '--display', display, '--state', state, '--log-level', agentLog ? 'debug' : 'warn'];
      if (mode === 'h264-always') agentArgs.push('--h264-always');
      else if (mode !== 'h264') agentArgs.push('--no-h264');
      if (mode === 'requests') agentArgs.push('--no-continuous-updates');
      server = start('agent', onDevice(agentArgs));
      started.push(server);
      const status = () => {
        const st = spawnSync(path.join(bin, 'reach-agent'), ['status', '--json', '--state', state], { encoding: 'utf8' });
        try { return JSON.parse(st.stdout).session?.state ?? ''; } catch { return ''; }
      };
      // CPU the agent spent sealing records (end-to-end encryption) so far, in ms.
      sealCpu = () => {
        const st = spawnSync(path.join(bin, 'reach-agent'), ['status', '--json', '--state', state], { encoding: 'utf8' });
        try { return JSON.parse(st.stdout).session?.e2eSealCpuMs ?? NaN; } catch { return NaN; }
      };
      await until('the agent joined', () => status() === 'waitingForSupporter');
      await page.goto(session.supporter_link);
      await until('asked to allow', () => status() === 'askingToAllow');
      run([path.join(bin, 'reach-agent'), 'allow', '--state', state]);
    }
    await page.waitForFunction(() => window.reachRfb && document.querySelector('#screen canvas')?.width === 1920, null, { timeout: 30000 });
    await page.evaluate(watchMarker);
    await sleep(opt.warmup * 1000);
    counting = true;
    await page.evaluate(() => { window.viewerTimes = true; });
    const from = Date.now();
    const cpuFrom = cpuMs(server.pid);
    const sealFrom = sealCpu ? sealCpu() : NaN;
    let stepAt = null;
    if (typing) {
      // A key every 150 ms; the k-th echo shows marker k + 1.
      await page.evaluate(async ([count, gap]) => {
        window.sent = new Map();
        for (let k = 1; k <= count; ++k) {
          window.sent.set(k + 1, performance.timeOrigin + performance.now());
          window.reachRfb.sendKey(0x61 + (k % 26));
          await new Promise((r) => setTimeout(r, gap));
        }
      }, [Math.floor(opt.seconds * 1000 / 150), 150]);
    } else if (opt.step > 0) {
      await sleep(opt.seconds * 500);
      stepAt = Date.now();
      run([path.join(bin, 'reach_bench_wan_link'), 'rate', '--a', opt.deviceNs, '--b', opt.viewNs, '--rate-mbit', String(opt.step)]);
      await sleep(opt.seconds * 500);
    } else {
      await sleep(opt.seconds * 1000);
    }
    const to = Date.now();
    const cpuTo = cpuMs(server.pid);
    const sealTo = sealCpu ? sealCpu() : NaN;
    counting = false;
    const viewer = await page.evaluate(() => {
      window.viewerTimes = false;
      const toFrame = [];
      for (const [seq, at] of window.seen) if (window.seenAtFrame.has(seq)) toFrame.push(window.seenAtFrame.get(seq) - at);
      return { decode: window.decodeMs, draw: window.drawMs, flip: window.flipMs, toFrame };
    });
    // Hold the last frame (the load writes its draw times then).
    let heldAt = null;
    if (!typing) {
      await page.evaluate(() => { window.paintBeforeHold = window.lastPaint; window.recordPaints = true; });
      drawer.kill('SIGUSR1');
      await until('the load held', () => /held/.test(drawer.out), 10000);
      heldAt = Date.now();
    }
    const seen = new Map(await page.evaluate(() => [...window.seen.entries()]));
    const lat = [];
    let frames = 0;
    let stepRecovery = null;
    let stepWorst = 0;
    let lastDraw = 0;  // wall clock
    if (typing) {
      const sent = new Map(await page.evaluate(() => [...window.sent.entries()]));
      for (const [mark, at] of sent) {
        if (!seen.has(mark)) continue;
        ++frames;
        lat.push(seen.get(mark) - at);
      }
    } else {
      const offset = monoToWallOffsetMs();
      const drawn = new Map(fs.readFileSync(times, 'utf8').trim().split('\n').map((l) => {
        const [sq, ns] = l.split(' ');
        return [Number(sq), Number(ns) / 1e6 + offset];
      }));
      lastDraw = Math.max(...drawn.values());
      for (const [sq, at] of [...seen].sort((a, b) => a[1] - b[1])) {
        if (at < from || at >= to || !drawn.has(sq)) continue;
        ++frames;
        const l = at - drawn.get(sq);
        lat.push(l);
        if (stepAt !== null && at >= stepAt) {
          stepWorst = Math.max(stepWorst, l);
          if (l > opt.rttMs + 100) stepRecovery = at - stepAt;
        }
      }
    }
    // Hold the last frame; how long until the canvas is the screen exactly.
    let exactMs = null;
    if (!typing) {
      const dump = path.join(dir, 'screen.rgb');
      run(onDevice(['import', '-window', 'root', '-depth', '8', `rgb:${dump}`]), { DISPLAY: display });
      await page.evaluate((b64) => { window.screenRgb = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)); },
        fs.readFileSync(dump).toString('base64'));
      // The first picture painted since the hold that equals the screen (or the one before the
      // hold), from the load's last draw; else the canvas is watched until 5 s after the hold.
      const exactAt = () => page.evaluate(() => {
        const rgb = window.screenRgb;
        const same = (px) => {
          for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
            if (px[i] !== rgb[j] || px[i + 1] !== rgb[j + 1] || px[i + 2] !== rgb[j + 2]) return false;
          }
          return true;
        };
        for (const p of window.paints) if (same(p.px)) return p.at;
        const canvas = document.querySelector('#screen canvas');
        const now = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        if (!same(now)) return null;
        return window.paints.length ? window.lastPaint : window.paintBeforeHold;
      });
      while (Date.now() - heldAt < 5000) {
        const at = await exactAt();
        if (at !== null) { exactMs = Math.max(0, Math.round(at - lastDraw)); break; }
        await sleep(50);
      }
    }
    await stop(drawer);
    await context.close();
    if (process.env.REACH_BENCH_AGENT_LOG && mode !== 'x0vncserver') fs.writeFileSync(path.join(process.env.REACH_BENCH_AGENT_LOG, `${load}-${mode}.log`), server.err + server.out);
    const seconds = (to - from) / 1000;
    return { fps: frames / seconds, p50: pct(lat, 0.5), p95: pct(lat, 0.95), kbitps: received * 8 / 1000 / seconds,
      cpuPerFrame: frames ? (cpuTo - cpuFrom) / frames : NaN, sealShare: (sealTo - sealFrom) / (cpuTo - cpuFrom), exactMs, typing, stepRecovery, stepWorst, stepped: stepAt !== null,
      viewer };
  } finally {
    for (const c of started.reverse()) await stop(c);
  }
}

console.log(`## bench/wan noVNC: 1920x1080, load at 30 fps, ${opt.seconds} s per cell after ${opt.warmup} s${opt.deviceNs ? `, device in ${opt.deviceNs}` : ', loopback'}${opt.step ? `, rate stepped to ${opt.step} Mbit/s at mid-cell` : ''}`);
const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : '–');
for (const load of opt.loads.split(',')) {
  const typing = load.startsWith('typing');
  const head = typing ? '| server | echoes/s | echo p50 ms | echo p95 ms | Mbit/s | CPU ms/echo |'
    : `| server | fps | p50 ms | p95 ms | Mbit/s | CPU ms/frame | exact after ms |${opt.step ? ' step: over RTT+100 for ms | worst ms |' : ''}`;
  console.log(`\n### ${load}\n\n${head}\n|${head.split('|').slice(1, -1).map(() => '---').join('|')}|`);
  const rows = {};
  for (const mode of opt.modes.split(',')) {
    try {
      const r = rows[mode] = await cell(load, mode);
      const exact = r.exactMs === null ? '>5000' : String(r.exactMs);
      const step = opt.step ? ` ${r.stepRecovery === null ? 0 : fmt(r.stepRecovery)} | ${fmt(r.stepWorst)} |` : '';
      console.log(typing
        ? `| ${mode} | ${fmt(r.fps, 1)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.kbitps / 1000, 2)} | ${fmt(r.cpuPerFrame, 1)} |`
        : `| ${mode} | ${fmt(r.fps, 1)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.kbitps / 1000, 2)} | ${fmt(r.cpuPerFrame, 1)} | ${exact} |${step}`);
    } catch (e) {
      console.log(`| ${mode} | failed: ${e.message.split('\n')[0]} |`);
    }
  }
  const a = rows.h264;
  const b = rows.x0vncserver;
  if (a && b) {
    console.log(typing
      ? `| h264 / x0vncserver | ${fmt(a.fps / b.fps, 2)} | ${fmt(a.p50 / b.p50, 2)} | ${fmt(a.p95 / b.p95, 2)} | ${fmt(a.kbitps / b.kbitps, 2)} | ${fmt(a.cpuPerFrame / b.cpuPerFrame, 2)} |`
      : `| h264 / x0vncserver | ${fmt(a.fps / b.fps, 2)} | ${fmt(a.p50 / b.p50, 2)} | ${fmt(a.p95 / b.p95, 2)} | ${fmt(a.kbitps / b.kbitps, 2)} | ${fmt(a.cpuPerFrame / b.cpuPerFrame, 2)} | |${opt.step ? ' | |' : ''}`);
  }
  // What the end-to-end encryption costs the agent: its CPU sealing records, as a share of all
  // its CPU in the cell (the agent measures the first around each seal, on its session thread).
  const sealed = Object.entries(rows).filter(([, r]) => Number.isFinite(r.sealShare));
  if (sealed.length) {
    console.log('\n| server | end-to-end encryption: share of the agent\'s CPU |\n|---|---|');
    for (const [mode, r] of sealed) console.log(`| ${mode} | ${fmt(r.sealShare * 100, 2)} % |`);
  }
  // The viewer's own time per frame: where latency goes that no server can win back.
  const times = Object.entries(rows).filter(([, r]) => r.viewer);
  if (times.length) {
    console.log('\n| server | H.264 frames decoded | decode p50 / p95 ms | images drawn | draw p50 / p95 ms | paints | paint p50 / p95 ms | paint to animation frame p50 ms |\n|---|---|---|---|---|---|---|---|');
    for (const [mode, { viewer: v }] of times)
      console.log(`| ${mode} | ${v.decode.length} | ${fmt(pct(v.decode, 0.5), 1)} / ${fmt(pct(v.decode, 0.95), 1)} | ${v.draw.length} | ${fmt(pct(v.draw, 0.5), 1)} / ${fmt(pct(v.draw, 0.95), 1)} | ${v.flip.length} | ${fmt(pct(v.flip, 0.5), 1)} / ${fmt(pct(v.flip, 0.95), 1)} | ${fmt(pct(v.toFrame, 0.5), 1)} |`);
  }
}
await browser.close();
for (const c of children.reverse()) await stop(c);
fs.rmSync(work, { recursive: true, force: true });
