// End to end: the relay's browser viewer (noVNC in headless Chromium) shows the screen that
// Reach's own agent serves, and only once the device user allows it.
//
//   Xvfb (a known four-colour pattern, or reach_test_x11_input_log's window)
//     ← `reach-agent join CODE` (its RFB server) ← reach-relay ← supporter link in Chromium.
//
// The device user answers with `reach-agent allow [--view-only]` and `reach-agent end`.
// Environment: see harness.mjs. Every process started here is stopped in after(), also when a
// test fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIN, HEIGHT, OUT_DIR, WIDTH, checkEnvironment, isQuadrantColour, launchChromium,
  sampleQuadrants, start, startPatternDisplay, startRelay, statusText, stop, tearDown, until,
  waitForPattern,
} from './harness.mjs';

const AGENT = path.join(BIN || '', 'reach-agent');
// The screen area below the viewer's 40px bar is as big as the device screen: noVNC's scale is 1,
// so canvas pixels and device pixels are the same (the click test still maps through the box).
const VIEWPORT = { width: WIDTH, height: HEIGHT + 40 };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reach-e2e-agent-'));
let browser;
let display;
let relay; // { url, token, api, createSession }

// `reach-agent SUBCOMMAND ... --state DIR`, the device user's side.
function agentCli(state, args) {
  const r = spawnSync(AGENT, [...args, '--state', state], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

// The agent's session as `reach-agent status --json` reports it (null without one).
function agentSession(state) {
  const r = agentCli(state, ['status', '--json']);
  if (r.status !== 0) return null;
  return JSON.parse(r.out).session || null;
}

// A new relay session that the agent joins; resolves once it waits for the supporter.
async function join(name, extra = []) {
  const session = await relay.createSession(name);
  const state = path.join(tmp, `agent-${name}`);
  const agent = start(AGENT, ['join', session.end_customer_link, '--display', display,
    '--state', state, ...extra]);
  await until('the agent waiting for the supporter', () => {
    if (agent.exitCode !== null) {
      throw new Error(`reach-agent join exited ${agent.exitCode}: ${agent.err}`);
    }
    return /session: waiting for the supporter/.test(agent.out);
  });
  return { session, state, agent };
}

// The supporter opens the link; resolves once the device user is asked to allow the session.
async function openViewer({ session, state, agent }, lang) {
  const page = await browser.newPage({ viewport: VIEWPORT });
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(lang ? `${session.supporter_link}?lang=${lang}` : session.supporter_link);
  await until('the agent asking to allow', () => {
    const s = agentSession(state);
    return s && s.state === 'askingToAllow';
  });
  await until('the question on the agent\'s output',
    () => /session: the supporter is connected\. Allow this session to start\?/.test(agent.out));
  return page;
}

async function allow(state, agent, viewOnly) {
  const r = agentCli(state, viewOnly ? ['allow', '--view-only'] : ['allow']);
  assert.equal(r.status, 0, r.err);
  await until('the agent sharing the screen', () => {
    const s = agentSession(state);
    return s && (s.state === 'allowed' || s.state === 'active');
  });
  assert.equal(agentSession(state).viewOnly, viewOnly);
}

function waitConnected(page, lang = 'en') {
  return page.waitForFunction(
    (word) => document.getElementById('status').textContent.startsWith(word),
    lang === 'nb' ? 'Tilkoblet' : 'Connected', { timeout: 30000 });
}

// The device user ends the session: the viewer says so and `reach-agent join` exits 0.
async function endByDeviceUser({ state, agent }, page, lang = 'en') {
  const r = agentCli(state, ['end']);
  assert.equal(r.status, 0, r.err);
  const ended = lang === 'nb' ? 'Økten ble avsluttet av brukeren.' : 'The session was ended by the user.';
  await page.getByRole('status').filter({ hasText: ended })
    .waitFor({ timeout: 15000 });
  assert.deepEqual(await agent.exited, { code: 0, signal: null }, agent.out + agent.err);
}

// reach_test_x11_input_log on the device: a white full-screen window that logs keys and clicks.
async function startInputLog(name) {
  const file = path.join(tmp, `${name}.log`);
  const tool = start(path.join(BIN, 'reach_test_x11_input_log'), ['--out', file],
    { env: { ...process.env, DISPLAY: display } });
  await until('the input log', () => {
    if (tool.exitCode !== null) throw new Error(`input log exited ${tool.exitCode}: ${tool.err}`);
    return /ready/.test(tool.out);
  });
  const lines = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []);
  return {
    tool,
    typed: () => lines().filter((l) => l.startsWith('key ')).map((l) => l.slice(4)).join(''),
    clicks: () => lines().filter((l) => l.startsWith('click ')),
  };
}

// Waits for the canvas to show the input log's white window (the framebuffer has arrived).
async function waitForWhite(page) {
  await until('the white input window on the canvas', async () => {
    const s = await sampleQuadrants(page);
    return s && s.pixels.every((p) => p.every((c) => c >= 0xf0));
  });
}

// A session on the input log's screen, allowed and showing in the viewer.
async function connectOverInputLog(name, viewOnly) {
  const log = await startInputLog(name);
  const joined = await join(name);
  const page = await openViewer(joined);
  await allow(joined.state, joined.agent, viewOnly);
  await waitConnected(page);
  await waitForWhite(page);
  return { log, joined, page };
}

// Clicks the canvas where device pixel (x, y) is shown, mapping through the canvas's box.
async function clickDevicePixel(page, x, y) {
  const map = await page.evaluate(() => {
    const canvas = document.querySelector('#screen canvas');
    const box = canvas.getBoundingClientRect();
    return { left: box.left, top: box.top,
      sx: box.width / canvas.width, sy: box.height / canvas.height };
  });
  await page.mouse.click(map.left + (x + 0.5) * map.sx, map.top + (y + 0.5) * map.sy);
}

before(async () => {
  checkEnvironment();
  display = await startPatternDisplay(tmp);
  relay = await startRelay(tmp);
  browser = await launchChromium();
});

after(() => tearDown(browser, tmp));

test('the agent\'s screen shows in the viewer once allowed, until the user ends it', async () => {
  const joined = await join('pattern');
  const page = await openViewer(joined);

  // Asked, not answered: nothing of the screen has left the device.
  assert.doesNotMatch(await statusText(page), /Connected/);
  const early = await sampleQuadrants(page);
  if (early) assert.ok(!early.pixels.some(isQuadrantColour), JSON.stringify(early));

  // Both ends show the same verification code (docs/session-security.md).
  const code = agentSession(joined.state).verificationCode;
  assert.match(code, /^\d{6}$/);
  assert.equal(await page.locator('#code').textContent(), `Code ${code.slice(0, 3)}\u2009${code.slice(3)}`);

  await allow(joined.state, joined.agent, false);
  await waitConnected(page);
  const samples = await waitForPattern(page, 'agent_viewer_failed.png');
  assert.equal(samples.width, WIDTH);
  assert.equal(samples.height, HEIGHT);
  await until('"allowed" on the agent\'s output',
    () => /session: allowed, full control/.test(joined.agent.out));

  const shot = path.join(OUT_DIR, 'agent_viewer.png');
  await page.screenshot({ path: shot });
  console.log(`screenshot: ${shot}`);

  await endByDeviceUser(joined, page);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('with full control, a click and typed text in the viewer reach the device', async () => {
  const { log, joined, page } = await connectOverInputLog('control', false);

  // noVNC focuses the canvas on the click; the keys go to the canvas from then on.
  await clickDevicePixel(page, 123, 45);
  const focused = await page.evaluate(
    () => document.activeElement === document.querySelector('#screen canvas'));
  assert.ok(focused, 'the canvas has the keyboard focus');
  await page.keyboard.type('Hello, World!');

  const text = 'Hello, World!';
  await until('the typed text in the device\'s log',
    () => log.typed().length >= text.length, 20000);
  await until('the click in the device\'s log', () => log.clicks().length >= 1, 20000);
  assert.equal(log.typed(), text);
  assert.deepEqual(log.clicks(), ['click 123 45 1']);

  await endByDeviceUser(joined, page);
  assert.deepEqual(page.errors, []);
  await page.close();
  await stop(log.tool);
});

test('view only: the viewer shows the device, and its clicks and keys never reach it', async () => {
  const { log, joined, page } = await connectOverInputLog('view-only', true);
  await until('"view only" on the agent\'s output',
    () => /session: allowed, view only/.test(joined.agent.out));
  // The viewer was told: it says so, and its View only box is checked for good.
  await page.getByRole('status').filter({ hasText: 'Connected, view only: the user chose view only.' }).waitFor();
  const box = page.getByRole('checkbox', { name: 'View only' });
  assert.equal(await box.isChecked(), true);
  assert.equal(await box.isDisabled(), true);
  assert.equal(await page.evaluate(() => window.reachRfb.viewOnly), true);

  // A viewer that ignores the notice (changed by whoever holds it) still cannot drive the device.
  await page.evaluate(() => { window.reachRfb.viewOnly = false; });
  const dropped = agentSession(joined.state).inputDropped;
  await clickDevicePixel(page, 20, 30);
  await page.keyboard.type('view only');
  // The agent counts what it drops: once it has dropped a press and a release for each key and
  // the button's press and release, all of it has been handled, and none was injected.
  const sent = 2 * 'view only'.length + 2;
  await until('the agent dropping the input', () => {
    const s = agentSession(joined.state);
    return s && s.inputDropped >= dropped + sent;
  });
  assert.equal(log.typed(), '');
  assert.deepEqual(log.clicks(), []);

  await endByDeviceUser(joined, page);
  assert.deepEqual(page.errors, []);
  await page.close();
  await stop(log.tool);
});

// The viewer's status line once the session has ended: its words and its colour.
async function endedStatus(page, words) {
  const status = page.getByRole('status').filter({ hasText: words });
  await status.waitFor({ timeout: 15000 });
  return status.evaluate((el) => getComputedStyle(el).color);
}
const ERROR_RED = 'rgb(255, 123, 114)';

test('the viewer says how the session ended, in the user\'s words and calm colours, in both languages', async () => {
  const words = {
    en: { denied: 'The user did not allow the session.', ended: 'The session was ended by the user.' },
    nb: { denied: 'Brukeren tillot ikke økten.', ended: 'Økten ble avsluttet av brukeren.' },
  };
  for (const lang of ['en', 'nb']) {
    // The user denies: not "connection lost", and not in red.
    const refused = await join(`deny-${lang}`);
    const page = await openViewer(refused, lang);
    assert.equal(agentCli(refused.state, ['deny']).status, 0);
    const colour = await endedStatus(page, words[lang].denied);
    assert.notEqual(colour, ERROR_RED, 'a Deny is not an error');
    assert.equal(await page.getByRole('button', { name: lang === 'nb' ? 'Avslutt økten' : 'End session' }).isDisabled(), true);
    await page.screenshot({ path: path.join(OUT_DIR, `agent_viewer_denied_${lang}.png`) });
    assert.deepEqual(page.errors, []);
    await page.close();
    await refused.agent.exited;

    // The user ends a session that ran: "ended by the user", calm.
    const joined = await join(`end-${lang}`);
    const viewer = await openViewer(joined, lang);
    await allow(joined.state, joined.agent, false);
    await waitForPattern(viewer, `agent_viewer_end_${lang}_failed.png`);
    assert.equal(agentCli(joined.state, ['end']).status, 0);
    const calm = await endedStatus(viewer, words[lang].ended);
    assert.notEqual(calm, ERROR_RED, 'an end by the user is not an error');
    await viewer.screenshot({ path: path.join(OUT_DIR, `agent_viewer_user_ended_${lang}.png`) });
    assert.deepEqual(viewer.errors, []);
    await viewer.close();
    await joined.agent.exited;
  }
});

test('a link whose session key is not the device\'s: nothing is shown, and the viewer says why in both languages', async () => {
  const words = {
    en: 'The session was ended: the other end could not prove it holds this session\'s key.',
    nb: 'Økten ble avsluttet: den andre enden kunne ikke bevise at den har nøkkelen til denne økten.',
  };
  for (const lang of ['en', 'nb']) {
    const joined = await join(`wrong-key-${lang}`);
    const page = await browser.newPage({ viewport: VIEWPORT });
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(String(e)));
    // A session started at the relay has no key; this link claims one (as a tampered or
    // mistaken link would): the device refuses at the first handshake message.
    await page.goto(`${joined.session.supporter_link}?lang=${lang}#s=${'A'.repeat(43)}`);
    const colour = await endedStatus(page, words[lang]);
    assert.equal(colour, ERROR_RED, 'a failed check is an error');
    // Said in full over the screen too (the bar cuts it short).
    assert.ok((await page.locator('#message').textContent()).startsWith(words[lang]));
    assert.ok(await page.locator('#message').isVisible());
    const seen = await sampleQuadrants(page);
    if (seen) assert.ok(!seen.pixels.some(isQuadrantColour), JSON.stringify(seen));
    assert.equal(await page.evaluate(() => location.hash), '', 'the key left the address bar');
    await page.screenshot({ path: path.join(OUT_DIR, `agent_viewer_e2e_refused_${lang}.png`) });
    assert.deepEqual(await joined.agent.exited, { code: 0, signal: null });
    assert.match(joined.agent.out, /session: ended \(e2eFailed\)/);
    assert.equal(joined.agent.out.includes('Allow this session to start?'), false, 'the user was never asked');
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

// The X screen, pixel for pixel, as RGB (ImageMagick's import reads the root window).
function screenRgb() {
  const file = path.join(tmp, 'screen.rgb');
  const r = spawnSync('import', ['-window', 'root', '-depth', '8', `rgb:${file}`],
    { env: { ...process.env, DISPLAY: display }, timeout: 20000 });
  assert.equal(r.status, 0, String(r.stderr));
  return fs.readFileSync(file);
}

// How many of the canvas's pixels differ from `rgb` (the screen), and the first that does.
function canvasDifference(page, rgb) {
  return page.evaluate((b64) => {
    const screen = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const canvas = document.querySelector('#screen canvas');
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let differ = 0;
    let first = null;
    for (let i = 0, j = 0; j < screen.length; i += 4, j += 3) {
      if (px[i] !== screen[j] || px[i + 1] !== screen[j + 1] || px[i + 2] !== screen[j + 2]) {
        differ += 1;
        if (!first) first = { at: j / 3, canvas: [px[i], px[i + 1], px[i + 2]], screen: [screen[j], screen[j + 1], screen[j + 2]] };
      }
    }
    return { differ, first, size: [canvas.width, canvas.height] };
  }, rgb.toString('base64'));
}

// Issue 22: where the screen moves like video, noVNC gets H.264 (encoding 50) and decodes it with
// WebCodecs; once it stops, an exact copy follows and the canvas equals the screen, pixel for
// pixel (H.264 and JPEG are lossy). The viewer's statistics say so, and its picture choice
// reaches the agent: "Prefer speed" caps the video's bitrate lower. Once per language.
const STATS = {
  en: { auto: 'Automatic', speed: 'Prefer speed', label: 'Picture', fps: 'frames/s', rtt: 'round trip' },
  nb: { auto: 'Automatisk', speed: 'Prioriter fart', label: 'Bilde', fps: 'bilder/s', rtt: 'tur-retur' },
};
for (const lang of ['en', 'nb']) {
  test(`H.264 (${lang}): moving content arrives as video, and once it stops the canvas equals the screen`, async () => {
    const words = STATS[lang];
    // On loopback exact rectangles keep up with this screen, and the agent would rightly keep
    // them: --h264-always sends motion as video regardless (bench/wan measures the choice).
    const joined = await join(`h264-${lang}`, ['--h264-always']);
    const page = await openViewer(joined, lang);
    await allow(joined.state, joined.agent, false);
    await waitConnected(page, lang);
    await waitForPattern(page, `agent_viewer_h264_${lang}_failed.png`);
    const picture = page.getByRole('combobox', { name: words.label });
    assert.equal(await picture.inputValue(), 'auto');
    if (lang === 'nb') await picture.selectOption({ label: words.speed });
    // Count the H.264 rectangles noVNC decodes.
    await page.evaluate(() => {
      const decoder = window.reachRfb._decoders[50];
      const decodeRect = decoder.decodeRect.bind(decoder);
      window.reachH264 = 0;
      decoder.decodeRect = (...args) => {
        const done = decodeRect(...args);
        if (done) window.reachH264 += 1;
        return done;
      };
    });
    // Three seconds of whole-screen motion (a photo-like field sliding), then the pattern again.
    const load = start(path.join(BIN, 'reach_bench_screen_load'),
      ['--load', 'full', '--fps', '30', '--seconds', '3', '--display', display]);
    await until('the moving screen in the viewer', () => page.evaluate(() => window.reachH264 > 0));
    // The statistics: frames, bitrate, the agent's round trip and the encoding.
    const stats = page.locator('#stats');
    await until('the statistics saying H.264', async () => {
      const t = await stats.textContent();
      return t.includes('H.264') && t.includes(words.fps) && t.includes(words.rtt);
    });
    await page.screenshot({ path: path.join(OUT_DIR, `agent_viewer_h264_${lang}.png`) });
    const bitrate = agentSession(joined.state).videoBitrate;
    // The agent's ceiling: bits per pixel per frame 0.02 + 0.01 × quality level, at 30 frames/s
    // over the 1024×768 screen: quality 2 (Prefer speed) 943,718; quality 6 (Automatic) 1,887,436.
    assert.ok(bitrate > 0 && bitrate <= (lang === 'nb' ? 943718 : 1887436), `video bitrate ${bitrate}`);
    assert.deepEqual(await load.exited, { code: 0, signal: null }, load.err);
    const frames = await page.evaluate(() => window.reachH264);
    assert.ok(frames >= 10, `${frames} H.264 frames in three seconds of motion`);
    // Still now: within a second or two the canvas is the screen exactly.
    const screen = screenRgb();
    let diff;
    await until('the canvas equal to the screen', async () => {
      diff = await canvasDifference(page, screen);
      return diff.differ === 0;
    }, 10000).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(diff)}`);
    });
    await endByDeviceUser(joined, page, lang);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

// Issue 22: noVNC takes the agent's ContinuousUpdates and Fence: it asks once, and the screen
// follows without a FramebufferUpdateRequest per frame (each used to wait a round trip). Last in
// the file: it paints the display's background red.
test('continuous updates: the viewer asks once, then the screen follows without requests', async () => {
  const joined = await join('continuous');
  const page = await openViewer(joined);
  await allow(joined.state, joined.agent, false);
  await waitConnected(page);
  await waitForPattern(page, 'agent_viewer_continuous_failed.png');
  await until('noVNC enabling continuous updates', () => page.evaluate(() => window.reachRfb._enabledContinuousUpdates === true));
  // From here on, count the viewer's update requests.
  await page.evaluate(() => {
    const messages = window.reachRfb.constructor.messages;
    const request = messages.fbUpdateRequest;
    window.reachRequests = 0;
    messages.fbUpdateRequest = function (...args) {
      window.reachRequests += 1;
      return request.apply(this, args);
    };
  });
  const red = path.join(tmp, 'red.png');
  spawnSync('convert', ['-size', `${WIDTH}x${HEIGHT}`, 'xc:#ff0000', red]);
  spawnSync('display', ['-window', 'root', red], { env: { ...process.env, DISPLAY: display }, timeout: 20000 });
  await until('the red screen in the viewer', async () => {
    const s = await sampleQuadrants(page);
    return s && s.pixels.every(([r, g, b]) => r > 240 && g < 16 && b < 16);
  });
  assert.equal(await page.evaluate(() => window.reachRequests), 0, 'no update request was needed');
  await endByDeviceUser(joined, page);
  assert.deepEqual(page.errors, []);
  await page.close();
});
