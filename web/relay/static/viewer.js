// The supporter's viewer: noVNC on the relay's supporter stream, end-to-end encrypted with the
// device (e2e.js; docs/session-security.md). The stream URL comes from the page (data-stream);
// the link itself is the only credential.
import RFB from './novnc/core/rfb.js';
import { E2eSocket } from './e2e.js';

const statusEl = document.getElementById('status');
const viewOnly = document.getElementById('view-only');
const endButton = document.getElementById('end');
const quality = document.getElementById('quality');
const statsEl = document.getElementById('stats');
const codeEl = document.getElementById('code');
const screen = document.getElementById('screen');
const stream = document.body.dataset.stream;
// The page's words, in its language (the relay puts them on <body> as data-t-*).
const say = (key) => document.body.dataset['t' + key.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())];

function status(text, kind) {
  statusEl.textContent = text;
  statusEl.title = text;  // the bar may cut it short
  statusEl.className = kind || '';
}

// WebCrypto exists on secure pages only (HTTPS, or this machine): without it there is no
// end-to-end encryption, and the viewer does not fall back to a stream the relay could read.
if (!window.isSecureContext || !globalThis.crypto || !crypto.subtle) {
  status(say('e2e-insecure'), 'bad');
  endButton.disabled = true;
  viewOnly.disabled = true;
  throw new Error('the viewer needs a secure context for end-to-end encryption');
}

// A path on this page's origin, or (with several relay nodes) the ws(s):// URL of the node that
// owns the session.
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
const streamUrl = /^wss?:\/\//.test(stream) ? stream : scheme + location.host + stream;
let ended = false;       // the supporter pressed End session
let received = 0;        // stream bytes (as the relay carries them) since the last statistics tick
let refusal = null;     // the device's RFB refusal reason, if it refused
let closing = null;     // the stream's close frame: { code, reason }
let deviceSaid = null;  // the reason in the device's own close record (the relay cannot forge it)
let e2eFailure = null;  // this end's failed check (an E2eError)
status(say('connecting'));
// The stream is opened here, not by noVNC, to read its close frame: the relay closes the
// supporter's end with the device's reason ("ended by the device user"), 1000 when the session
// closed normally and 4000 when the device never came.
const socket = new WebSocket(streamUrl);
socket.binaryType = 'arraybuffer';
socket.addEventListener('close', (e) => { closing = { code: e.code, reason: e.reason }; });
let heard = false;  // the device's end has answered (the relay opens the stream before it comes)
socket.addEventListener('message', (e) => {
  if (typeof e.data === 'string') return;
  received += e.data.byteLength;
  if (!heard) {
    heard = true;
    status(say('securing'));
  }
});
// A link the hub made binds the session to the device: its fragment (never sent to any server)
// holds the session's secret and the device key's fingerprint. Read, then taken out of the
// address bar and the history.
function binding() {
  const params = new URLSearchParams(location.hash.slice(1));
  const s = params.get('s');
  const fp = params.get('fp');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  if (!s) return {};
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  let secret;
  try {
    secret = Uint8Array.from(atob(b64 + '='.repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0));
  } catch {
    secret = new Uint8Array(0);
  }
  // A damaged secret is still passed on: the handshake then fails and says the link is incomplete.
  // A damaged secret or fingerprint is passed on as one that cannot match: the handshake then
  // fails and the page says why, rather than going on without the check.
  const fpOk = fp === null || /^[0-9a-f]{4}(-[0-9a-f]{4}){7}$/.test(fp);
  return { secret: secret.length === 32 ? secret : new Uint8Array(32), expectedFingerprint: fp === null ? null : fpOk ? fp : 'damaged' };
}
// noVNC reads the stream through the encrypting channel; the device's notices arrive inside it.
const channel = new E2eSocket(socket, binding(), {
  established: (code) => {
    codeEl.textContent = say('code').replace('{code}', code.slice(0, 3) + '\u2009' + code.slice(3));
    codeEl.title = say('code-hint');
    codeEl.setAttribute('aria-description', say('code-hint'));
    codeEl.hidden = false;
  },
  notice: (text) => notice(text),
  failed: (e) => { e2eFailure = e; },
  peerClosed: (reason) => { deviceSaid = reason; },
});
const rfb = new RFB(screen, channel, { shared: true });
rfb.scaleViewport = true;
rfb.resizeSession = false;
rfb.viewOnly = viewOnly.checked;
window.reachRfb = rfb;  // for the end-to-end tests

// The picture choice is noVNC's quality level (its SetEncodings carry it): the agent's H.264
// bitrate ceiling and Tight's JPEG quality follow it. Kept for this browser.
const LEVELS = { speed: 2, auto: 6, quality: 9 };
const QUALITY_KEY = 'reach.viewer.quality';
let chosen = 'auto';
try { chosen = localStorage.getItem(QUALITY_KEY) || 'auto'; } catch { /* storage off */ }
if (!(chosen in LEVELS)) chosen = 'auto';
quality.value = chosen;
rfb.qualityLevel = LEVELS[chosen];
quality.addEventListener('change', () => {
  rfb.qualityLevel = LEVELS[quality.value];
  try { localStorage.setItem(QUALITY_KEY, quality.value); } catch { /* storage off */ }
});

// Statistics, once a second: frames shown (noVNC ends each FramebufferUpdate with its display's
// flip), the stream's bitrate as received, the round trip the agent measured (its "link"
// notice) and the encoding that carried most rectangles. noVNC 1.7 has no event for these: the
// display and the decoders are wrapped here (the version is pinned in package.json).
const ENCODING_NAMES = { 0: 'Raw', 1: 'CopyRect', 7: 'Tight', 16: 'ZRLE', 50: 'H.264' };
let frames = 0;
let rects = {};
let rtt = null;
const flip = rfb._display.flip.bind(rfb._display);
// A flip asked for while the render queue is busy is queued and replayed later (fromQueue):
// counted once, when asked for.
rfb._display.flip = (fromQueue) => { if (!fromQueue) frames += 1; return flip(fromQueue); };
for (const [number, decoder] of Object.entries(rfb._decoders)) {
  if (!(number in ENCODING_NAMES)) continue;
  const decodeRect = decoder.decodeRect.bind(decoder);
  decoder.decodeRect = (...args) => {
    const done = decodeRect(...args);
    if (done) rects[number] = (rects[number] || 0) + 1;
    return done;
  };
}
const number = new Intl.NumberFormat(document.documentElement.lang || 'en', { maximumFractionDigits: 1 });
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const seconds = (now - last) / 1000;
  last = now;
  if (!connected) return;
  // Video counts first: a few H.264 frames carry most of the picture while motion lasts.
  const top = rects[50] ? 50 : Object.keys(rects).sort((a, b) => rects[b] - rects[a])[0];
  const text = say(rtt === null ? 'stats-no-rtt' : 'stats')
    .replace('{fps}', number.format(Math.round(frames / seconds)))
    .replace('{mbps}', number.format(received * 8 / seconds / 1e6))
    .replace('{rtt}', rtt === null ? '' : String(rtt))
    .replace('{encoding}', top ? ENCODING_NAMES[top] : '–');
  statsEl.textContent = text;
  frames = 0;
  received = 0;
  rects = {};
}, 1000);

let connected = false;
let userViewOnly = false;  // the device user allowed viewing only: the supporter cannot take control
let countdown = 0;         // the timer of "waiting for the user to allow (4:54)"
rfb.addEventListener('connect', () => {
  connected = true;
  clearInterval(countdown);
  if (userViewOnly) status(say('user-view-only'), 'calm');
  else status(say(rfb.viewOnly ? 'connected-view-only' : 'connected'), 'good');
});

// A notice from the device's end: {"type":"asking","seconds":N}, {"type":"access","viewOnly":b}
// or {"type":"link","rttMs":N,"kbps":N}.
// The device may be anyone's: only these two shapes are read, and nothing of it becomes markup.
function notice(text) {
  let n;
  try { n = JSON.parse(text); } catch { return; }
  if (!n || typeof n !== 'object') return;
  if (n.type === 'asking' && Number.isInteger(n.seconds) && n.seconds > 0 && n.seconds <= 3600 && !connected) {
    const due = Date.now() + n.seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((due - Date.now()) / 1000));
      const time = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
      if (!connected && !ended) status(say('asking').replace('{time}', time));
      if (left === 0) clearInterval(countdown);
    };
    clearInterval(countdown);
    tick();
    countdown = setInterval(tick, 1000);
  } else if (n.type === 'link' && Number.isInteger(n.rttMs) && n.rttMs >= 0 && n.rttMs <= 600000) {
    rtt = n.rttMs;
  } else if (n.type === 'access' && typeof n.viewOnly === 'boolean') {
    userViewOnly = n.viewOnly;
    if (!userViewOnly) return;
    rfb.viewOnly = true;
    viewOnly.checked = true;
    viewOnly.disabled = true;
    if (connected) status(say('user-view-only'), 'calm');
  }
}
rfb.addEventListener('desktopname', (e) => {
  document.title = e.detail.name + ' · ' + say('title');
});
// How the session ended, in words: [text, kind]. A person's choice (the supporter's End, the
// user's Deny or End, a close at the relay) is a normal end ('calm'); only failures are 'bad'.
const E2E_TEXTS = { e2eBadRecord: 'e2e-record', e2eCommitment: 'e2e-record', e2eDeviceKey: 'e2e-key', e2eSecret: 'e2e-secret', e2eHandshake: 'e2e-handshake' };
function endOf(clean) {
  if (e2eFailure) return [say(E2E_TEXTS[e2eFailure.code] || 'e2e-handshake'), 'bad'];
  if (ended) return [say('you-ended'), 'calm'];
  // The device's own words when it said them inside the channel, else the relay's close frame.
  const reason = deviceSaid !== null ? deviceSaid : closing && closing.code === 1000 ? closing.reason : '';
  // The device ended the session because a check failed at its end (the relay passes that on).
  const failedThere = /^end-to-end check failed \((\w+)\)$/.exec(reason);
  if (failedThere) return [say(E2E_TEXTS[failedThere[1]] || 'e2e-handshake'), 'bad'];
  if (refusal !== null) {
    // reach-agent refuses with a sentence, then closes with "denied by the device user" both when
    // the user chose Deny and when nobody answered in time (the sentence tells them apart).
    if (/did not answer/i.test(refusal)) return [say('no-answer'), 'calm'];
    if (reason === 'denied by the device user' || /denied the session/i.test(refusal)) {
      return [say('denied'), 'calm'];
    }
    return [say('refused') + (refusal || say('no-reason')), 'bad'];
  }
  if (reason === 'ended by the device user') return [say('user-ended'), 'calm'];
  if (reason === 'session closed') return [say('closed'), 'calm'];
  if (closing && closing.code === 4000) return [say('peer-timeout'), 'bad'];
  if (clean || (closing && closing.code === 1000)) return [say('ended'), 'calm'];
  return [say('lost'), 'bad'];
}
rfb.addEventListener('disconnect', (e) => {
  clearInterval(countdown);
  endButton.disabled = true;
  const [text, kind] = endOf(e.detail.clean);
  status(text, kind);
  // A failure is said in full over the screen too: the bar may cut it short. (The status is
  // what screen readers announce; this copy is hidden from them.)
  if (kind === 'bad') {
    const message = document.getElementById('message');
    message.textContent = text;
    message.hidden = false;
  }
});
rfb.addEventListener('securityfailure', (e) => {
  refusal = e.detail.reason || '';
});
viewOnly.addEventListener('change', () => {
  if (userViewOnly) return;
  rfb.viewOnly = viewOnly.checked;
  status(say(rfb.viewOnly ? 'view-only' : 'full-control'), 'good');
});
endButton.addEventListener('click', () => {
  ended = true;
  rfb.disconnect();
});
