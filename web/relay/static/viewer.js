// The supporter's viewer: noVNC on the relay's supporter stream. The stream URL comes from the
// page (data-stream); the link itself is the only credential.
import RFB from './novnc/core/rfb.js';

const statusEl = document.getElementById('status');
const viewOnly = document.getElementById('view-only');
const endButton = document.getElementById('end');
const screen = document.getElementById('screen');
const stream = document.body.dataset.stream;
// The page's words, in its language (the relay puts them on <body> as data-t-*).
const say = (key) => document.body.dataset['t' + key.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())];

function status(text, kind) {
  statusEl.textContent = text;
  statusEl.className = kind || '';
}

// A path on this page's origin, or (with several relay nodes) the ws(s):// URL of the node that
// owns the session.
const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
const streamUrl = /^wss?:\/\//.test(stream) ? stream : scheme + location.host + stream;
let ended = false;
status(say('connecting'));
const rfb = new RFB(screen, streamUrl, { shared: true });
rfb.scaleViewport = true;
rfb.resizeSession = false;
rfb.viewOnly = viewOnly.checked;
window.reachRfb = rfb;  // for the end-to-end tests

rfb.addEventListener('connect', () => {
  status(say(rfb.viewOnly ? 'connected-view-only' : 'connected'), 'good');
});
rfb.addEventListener('desktopname', (e) => {
  document.title = e.detail.name + ' · ' + say('title');
});
rfb.addEventListener('disconnect', (e) => {
  endButton.disabled = true;
  if (ended) status(say('you-ended'), 'bad');
  else if (e.detail.clean) status(say('ended'), 'bad');
  else status(say('lost'), 'bad');
});
rfb.addEventListener('securityfailure', (e) => {
  status(say('refused') + (e.detail.reason || say('no-reason')), 'bad');
});
viewOnly.addEventListener('change', () => {
  rfb.viewOnly = viewOnly.checked;
  status(say(rfb.viewOnly ? 'view-only' : 'full-control'), 'good');
});
endButton.addEventListener('click', () => {
  ended = true;
  rfb.disconnect();
});
