// The supporter's viewer: noVNC on the relay's supporter stream. The stream URL comes from the
// page (data-stream); the link itself is the only credential.
import RFB from './novnc/core/rfb.js';

const statusEl = document.getElementById('status');
const viewOnly = document.getElementById('view-only');
const endButton = document.getElementById('end');
const screen = document.getElementById('screen');
const stream = document.body.dataset.stream;

function status(text, kind) {
  statusEl.textContent = text;
  statusEl.className = kind || '';
}

const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
let ended = false;
status('Connecting to the relay… waiting for the device to share its screen.');
const rfb = new RFB(screen, scheme + location.host + stream, { shared: true });
rfb.scaleViewport = true;
rfb.resizeSession = false;
rfb.viewOnly = viewOnly.checked;
window.reachRfb = rfb;  // for the end-to-end tests

rfb.addEventListener('connect', () => {
  status('Connected: you see the device\'s screen' + (rfb.viewOnly ? ' (view only).' : '.'), 'good');
});
rfb.addEventListener('desktopname', (e) => {
  document.title = e.detail.name + ' · Reach viewer';
});
rfb.addEventListener('disconnect', (e) => {
  endButton.disabled = true;
  if (ended) status('You ended the session. The link no longer works.', 'bad');
  else if (e.detail.clean) status('The session has ended. Request a new session to connect again.', 'bad');
  else status('The connection to the session was lost. Request a new session to connect again.', 'bad');
});
rfb.addEventListener('securityfailure', (e) => {
  status('The device refused the connection: ' + (e.detail.reason || 'no reason given'), 'bad');
});
viewOnly.addEventListener('change', () => {
  rfb.viewOnly = viewOnly.checked;
  status(rfb.viewOnly ? 'View only: your keyboard and mouse are not sent.' : 'Full control.', 'good');
});
endButton.addEventListener('click', () => {
  ended = true;
  rfb.disconnect();
});
