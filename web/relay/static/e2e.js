// The session's end-to-end encryption, the supporter's end, on WebCrypto: the twin of reach's
// link/e2e.cpp (the device's end is reach-agent). The protocol is docs/session-security.md:
//
//   S -> A  commit   0x01 "REACH-E2E-1" flags H(S_pub || n_S)
//   A -> S  hello    0x02 flags A_pub n_A
//   S -> A  reveal   0x03 S_pub n_S, then the supporter-proof record
//   A -> S  the device-proof record (the device's Ed25519 key, its signature over the transcript)
//
// then records: AES-256-GCM under each direction's key, the nonce being the direction's IV XOR
// the record's sequence number; plaintext kind(1) payload (0 stream, 1 notice, 2 close, 3 proof).
//
// E2eSocket wraps a WebSocket in the channel noVNC's RFB takes (send, close, binaryType, on*,
// protocol, readyState): noVNC sees the stream's bytes in the clear, the relay sees records. The
// channel opens (onopen) only once the device has proven its key; until then nothing is drawn.
// Any failure closes the stream with the reason (error.code, one of those below) and nothing is
// ever passed on unencrypted.

const VERSION = new TextEncoder().encode('REACH-E2E-1');
const HAS_SECRET = 0x01;
const KIND = { stream: 0, notice: 1, close: 2, proof: 3 };
const DEVICE_PROOF = new TextEncoder().encode('reach e2e device proof v1');
const SUPPORTER_PROOF = new TextEncoder().encode('reach e2e supporter proof v1');
const te = new TextEncoder();
const td = new TextDecoder();

export class E2eError extends Error {
  // code: e2eHandshake, e2eCommitment, e2eBadRecord, e2eDeviceKey, e2eSecret, e2eInsecure
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

// The fingerprint the company portal shows for a device key: the first 16 bytes of its
// SHA-256, as 8 groups of 4 hex digits.
export async function fingerprint(publicKey) {
  const hex = Array.from((await sha256(publicKey)).slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return hex.match(/.{4}/g).join('-');
}

function nonce(iv, seq) {
  const n = iv.slice();
  let s = BigInt(seq);
  for (let i = 11; i >= 4; i--) {
    n[i] ^= Number(s & 0xffn);
    s >>= 8n;
  }
  return n;
}

// The supporter's end of the handshake and the records, sans I/O (promises in, bytes out).
export class E2eSupporter {
  // secret: the hub's 32-byte session secret (Uint8Array) or null; expectedFingerprint: the
  // device key's fingerprint the hub gave, or null (a session by code: the code is the check).
  constructor({ secret = null, expectedFingerprint = null } = {}) {
    if (!globalThis.crypto || !crypto.subtle) {
      throw new E2eError('e2eInsecure', 'WebCrypto is available on secure (HTTPS) pages only.');
    }
    this.secret = secret;
    this.expected = expectedFingerprint;
    this.step = 'start';
    this.sendSeq = 0;
    this.recvSeq = 0;
    this.code = '';
    this.devicePublicKey = null;
  }

  fail(code, message) {
    this.step = 'failed';
    throw new E2eError(code, message);
  }

  // The commit, the first message to send.
  async start() {
    this.pair = await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
    this.ownPublic = new Uint8Array(await crypto.subtle.exportKey('raw', this.pair.publicKey));
    this.ownNonce = crypto.getRandomValues(new Uint8Array(32));
    this.commit = concat(Uint8Array.of(0x01), VERSION, Uint8Array.of(this.secret ? HAS_SECRET : 0),
      await sha256(concat(this.ownPublic, this.ownNonce)));
    this.step = 'hello';
    return this.commit;
  }

  // One received message: { send: [messages], stream: Uint8Array|null, notices: [text],
  // established: bool, closed: string|null }. Throws E2eError (final).
  async receive(message) {
    const m = new Uint8Array(message);
    if (this.step === 'failed') throw new E2eError('e2eBadRecord', 'The session\'s encryption has already failed.');
    if (this.step === 'hello') return this.onHello(m);
    if (this.step === 'proof' || this.step === 'done') return this.onRecord(m);
    return this.fail('e2eHandshake', 'The device spoke before the handshake began.');
  }

  async onHello(m) {
    if (m.length !== 66 || m[0] !== 0x02 || (m[1] & ~HAS_SECRET)) {
      return this.fail('e2eHandshake', 'The device did not answer with Reach\'s end-to-end encryption.');
    }
    const peerHasSecret = (m[1] & HAS_SECRET) !== 0;
    if (peerHasSecret !== Boolean(this.secret)) {
      return this.fail('e2eSecret', peerHasSecret ? 'The link lacks the session\'s key.' : 'The device was not given this session\'s key.');
    }
    this.hello = m.slice();
    const peerPublic = m.slice(2, 34);
    this.reveal = concat(Uint8Array.of(0x03), this.ownPublic, this.ownNonce);
    this.th = await sha256(concat(this.commit, this.hello, this.reveal));
    let shared;
    try {
      const peer = await crypto.subtle.importKey('raw', peerPublic, { name: 'X25519' }, true, []);
      shared = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: peer }, this.pair.privateKey, 256));
    } catch {
      return this.fail('e2eHandshake', 'The device\'s key is not a valid key.');
    }
    if (shared.every((b) => b === 0)) return this.fail('e2eHandshake', 'The device\'s key is not a valid key.');
    const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveBits']);
    const salt = this.secret || new Uint8Array(32);
    const expand = async (what, n) => new Uint8Array(await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt, info: concat(te.encode('reach e2e v1 ' + what), this.th) }, ikm, n * 8));
    const aes = (raw, use) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, [use]);
    this.recvKey = await aes(await expand('a2s key', 32), 'decrypt');
    this.sendKey = await aes(await expand('s2a key', 32), 'encrypt');
    this.recvIv = await expand('a2s iv', 12);
    this.sendIv = await expand('s2a iv', 12);
    const c = await expand('code', 8);
    let v = 0n;
    for (const b of c) v = (v << 8n) | BigInt(b);
    this.code = String(v % 1000000n).padStart(6, '0');
    this.step = 'proof';
    return { send: [this.reveal, await this.seal(KIND.proof, SUPPORTER_PROOF)], stream: null, notices: [], established: false, closed: null };
  }

  async onRecord(m) {
    const seq = this.recvSeq++;
    let plain;
    try {
      plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce(this.recvIv, seq) }, this.recvKey, m));
    } catch {
      plain = null;
    }
    if (!plain || plain.length === 0) {
      if (this.step === 'proof') {
        return this.fail('e2eSecret', this.secret ? 'The device does not hold this session\'s key.' : 'The two ends could not agree on the session\'s keys.');
      }
      return this.fail('e2eBadRecord', 'The session\'s data was changed, lost or replayed on the way.');
    }
    const kind = plain[0];
    const payload = plain.subarray(1);
    const r = { send: [], stream: null, notices: [], established: false, closed: null };
    if (this.step === 'proof') {
      if (kind !== KIND.proof || payload.length !== 96) return this.fail('e2eDeviceKey', 'The device\'s proof is malformed.');
      const pub = payload.slice(0, 32);
      let ok = false;
      try {
        const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, true, ['verify']);
        ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, payload.slice(32), concat(DEVICE_PROOF, this.th));
      } catch {
        ok = false;
      }
      if (!ok) return this.fail('e2eDeviceKey', 'The device\'s proof of its key is wrong.');
      if (this.expected && (await fingerprint(pub)) !== this.expected) {
        return this.fail('e2eDeviceKey', 'The device\'s key is not the one the hub registered.');
      }
      this.devicePublicKey = pub;
      this.step = 'done';
      r.established = true;
      return r;
    }
    if (kind === KIND.stream && payload.length > 0) r.stream = payload;
    else if (kind === KIND.notice) r.notices.push(td.decode(payload));
    else if (kind === KIND.close) {
      r.closed = td.decode(payload);
      this.step = 'failed';  // nothing may follow a close
    } else return this.fail('e2eBadRecord', 'The device sent a record of an unknown kind.');
    return r;
  }

  // A record; the sequence number is taken now, so call in the order the records must leave.
  seal(kind, payload) {
    const seq = this.sendSeq++;
    const plain = concat(Uint8Array.of(kind), payload);
    return crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce(this.sendIv, seq) }, this.sendKey, plain)
      .then((c) => new Uint8Array(c));
  }
}

// A WebSocket-like channel for noVNC over a WebSocket to the relay. Callbacks in `on`:
// established(code), notice(text), failed(E2eError) and peerClosed(reason).
export class E2eSocket {
  constructor(socket, options = {}, on = {}) {
    this.socket = socket;
    this.on = on;
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    this.protocol = '';
    this.open = false;
    this.failure = null;
    this.end = new E2eSupporter(options);
    // Received messages are handled one at a time, in order; records sent leave in the order
    // their sequence numbers were taken.
    this.inbound = Promise.resolve();
    this.outbound = Promise.resolve();
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => {
      this.outbound = this.outbound.then(() => this.end.start()).then((c) => socket.send(c)).catch((e) => this.fail(e));
    });
    socket.addEventListener('message', (e) => {
      if (typeof e.data === 'string') return;  // the relay's text: no word of the device's
      const data = e.data;
      this.inbound = this.inbound.then(() => this.handle(data));
    });
    socket.addEventListener('close', (e) => {
      this.open = false;
      // What arrived before the close is delivered first.
      this.inbound = this.inbound.then(() => this.onclose && this.onclose(e));
    });
    socket.addEventListener('error', (e) => this.onerror && this.onerror(e));
  }

  get binaryType() { return 'arraybuffer'; }
  set binaryType(v) { /* always arraybuffer */ }
  get readyState() {
    if (this.socket.readyState === WebSocket.OPEN && !this.open) return WebSocket.CONNECTING;
    return this.socket.readyState;
  }
  get bufferedAmount() { return this.socket.bufferedAmount; }
  get code() { return this.end.code; }

  async handle(data) {
    if (this.failure) return;
    let r;
    try {
      r = await this.end.receive(data);
    } catch (e) {
      this.fail(e);
      return;
    }
    for (const m of r.send) this.socket.send(m);
    if (r.established) {
      this.open = true;
      if (this.on.established) this.on.established(this.end.code);
      if (this.onopen) this.onopen(new Event('open'));
    }
    for (const n of r.notices) if (this.on.notice) this.on.notice(n);
    if (r.stream && this.onmessage) this.onmessage({ data: r.stream.buffer.slice(r.stream.byteOffset, r.stream.byteOffset + r.stream.byteLength) });
    if (r.closed !== null && this.on.peerClosed) this.on.peerClosed(r.closed);
  }

  fail(e) {
    if (this.failure) return;
    this.failure = e instanceof E2eError ? e : new E2eError('e2eHandshake', String(e && e.message || e));
    if (this.on.failed) this.on.failed(this.failure);
    // The reason travels to the device's end through the relay (which may drop it: the device
    // then sees the stream end).
    try { this.socket.close(1000, `end-to-end check failed (${this.failure.code})`); } catch { /* closed */ }
  }

  // noVNC hands a view into a buffer it reuses: copied now, sealed and sent in order.
  send(data) {
    if (!this.open || this.failure) return;
    const bytes = new Uint8Array(data.buffer ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data);
    if (bytes.length === 0) return;
    const sealed = this.end.seal(KIND.stream, bytes);
    this.outbound = this.outbound.then(() => sealed).then((c) => {
      if (this.socket.readyState === WebSocket.OPEN) this.socket.send(c);
    }).catch((e) => this.fail(e));
  }

  close(reason = 'the supporter ended the session') {
    if (this.open && !this.failure) {
      const sealed = this.end.seal(KIND.close, te.encode(reason));
      this.outbound = this.outbound.then(() => sealed).then((c) => {
        if (this.socket.readyState === WebSocket.OPEN) this.socket.send(c);
      }).catch(() => {});
    }
    this.outbound = this.outbound.then(() => this.socket.close());
  }
}
