#!/usr/bin/env node
// grpc-loadgen — a load generator for etcd's v3 gRPC API (etcd itself or raftkit-meta), the gRPC
// counterpart of ../shared/bench/loadgen.mjs: the same key space (keys "k" + base-36 index, 16
// bytes; values from a pool of 64 random alphanumeric strings) and the same one-line JSON result
// (ops_per_s, lat_ms p50/p90/p99/max, errors, the generator's own CPU%), so the two can be read
// side by side. Messages are encoded by @grpc/proto-loader from packages/metadata-demo/proto
// (etcd's message and field numbers), so the bytes on the wire are what etcd's own clients send.
// Transport: node:http2 with gRPC's framing by hand (default, --client http2), or @grpc/grpc-js
// (--client grpc-js), which costs this 2-core VM about twice the CPU per call (see below).
//
// Three modes:
//
//   closed loop (default): C clients, each with one request in flight, multiplexed over a few
//   HTTP/2 connections per target (--conns); client i talks to target i % targets.
//     node bench/grpc-loadgen.mjs --url 127.0.0.1:2379 --op put -c 64 -t 8
//     node bench/grpc-loadgen.mjs --url A,B,C --op range --prefill -c 256 -t 8   (linearizable)
//     node bench/grpc-loadgen.mjs --url A --op txn -c 64 -t 8    (compare version > 0, then put)
//
//   fixed rate (--rate R): R puts per second whatever the latency (open loop, at most 1,000 in
//   flight), each value starting with the send time (CLOCK_MONOTONIC, µs, --stamp) so watchers in
//   another process on this machine can compute their lag. The watch fan-out writer.
//     node bench/grpc-loadgen.mjs --url A --rate 500 --key-prefix w/ --keys 100 --stamp -t 8
//
//   watchers (--watch): W watches of the prefix --key-prefix, over --streams streams per target
//   (many watches per stream, as etcd's clients multiplex them). Prints {"ready":true,...} once
//   every watch is created and {"progress":EVENTS} every 250 ms, counts events and each event's lag
//   (receipt minus the stamp in its value) until stdin gets "stop" or closes, then prints the
//   result line (events_per_s over the first to the last event received).
//     node bench/grpc-loadgen.mjs --watch --url A,B,C --watchers 1000 --streams 10 --key-prefix w/
//
// Options: --url H:P[,H:P...]  --op put|range|txn or a mix put=1,range=9  -c N  -t SECONDS
//   -n OPS  --warmup S  --keys K  --key-size B  --value-size B  --key-prefix P  --prefill
//   --serializable  --conns N (HTTP/2 connections per target, default 2)  --timeout MS
//   --rate R  --stamp  --watch  --watchers W  --streams S  --label STR  --client http2|grpc-js
// Output: exactly one JSON line on stdout (after the ready line in --watch mode).
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../packages/metadata-demo/proto');

const { values: o } = parseArgs({
  options: {
    url: { type: 'string', default: '127.0.0.1:2379' },
    op: { type: 'string', default: 'put' },
    concurrency: { type: 'string', short: 'c', default: '16' },
    duration: { type: 'string', short: 't', default: '10' },
    ops: { type: 'string', short: 'n', default: '100000000' },
    warmup: { type: 'string', default: '0' },
    keys: { type: 'string', default: '10000' },
    'key-size': { type: 'string', default: '16' },
    'value-size': { type: 'string', default: '256' },
    'key-prefix': { type: 'string', default: 'k' },
    prefill: { type: 'boolean', default: false },
    serializable: { type: 'boolean', default: false },
    conns: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '10000' },
    rate: { type: 'string' },
    stamp: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
    watchers: { type: 'string', default: '1000' },
    streams: { type: 'string', default: '10' },
    label: { type: 'string' },
    client: { type: 'string', default: 'http2' },
  },
});
const num = (k) => {
  const v = Number(o[k]);
  if (!Number.isFinite(v)) die(`--${k} must be a number`);
  return v;
};
function die(msg) {
  process.stderr.write(`grpc-loadgen: ${msg}\n`);
  process.exit(2);
}
const C = Math.max(1, num('concurrency') | 0);
const DURATION = num('duration');
const MAX_OPS = num('ops');
const WARMUP = num('warmup');
const NKEYS = num('keys');
const KEY_SIZE = num('key-size');
const VALUE_SIZE = num('value-size');
const PREFIX = o['key-prefix'];
const CONNS = Math.max(1, num('conns') | 0);
const TIMEOUT = num('timeout');
const targets = o.url.split(',').map((u) => u.replace(/^https?:\/\//, '').replace(/\/$/, ''));

// The hard stop: whatever happens, this process ends (a stuck server must not hang the bench).
const hardStop = setTimeout(() => die('hard time limit hit'), (WARMUP + DURATION + 120 + (o.prefill ? 120 : 0) + (o.watch ? 600 : 0)) * 1000);
hardStop.unref();

// ---------- protocol ----------
// keepCase: etcd's snake_case field names; enums as names; int64 as strings (no Long objects).
const pkgDef = protoLoader.loadSync('rpc.proto', { includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: false, oneofs: true });
const KV = pkgDef['etcdserverpb.KV'];
const WATCH = pkgDef['etcdserverpb.Watch'].Watch;

// Two transports, the same messages (proto-loader's encoders) and the same framing on the wire:
//   http2 (default): node:http2 sessions with gRPC's length-prefixed framing written by hand. A
//     unary call costs ~25-40 µs of this process's CPU, about what the shared HTTP loadgen spends.
//   grpc-js: @grpc/grpc-js clients, as the npm etcd3 client uses. ~200 µs of CPU per call on this
//     VM (interceptor chain, a stack-trace Error per call, metadata objects, GC): at 10,000
//     calls/s that is a whole core of the two, taken from the servers under test, so both
//     systems would be measured against the client's ceiling instead of their own.
// Either way: one connection object per HTTP/2 connection, `conns` of them per target.
const TRANSPORT = o.client;
if (!['http2', 'grpc-js'].includes(TRANSPORT)) die('--client must be http2 or grpc-js');

/** In-flight calls, for the timeout sweep (one timer for all instead of a deadline per call). */
const inflight = new Set();
const sweeper = setInterval(() => {
  const now = performance.now();
  for (const f of inflight) if (now - f.t > TIMEOUT) f.cancel();
}, 250);
sweeper.unref();

function frame(payload) {
  const f = Buffer.allocUnsafe(5 + payload.length);
  f[0] = 0; // not compressed
  f.writeUInt32BE(payload.length, 1);
  payload.copy(f, 5);
  return f;
}

class H2Conn {
  constructor(target) {
    this.target = target;
    // a large window: a watch stream's events must not wait for window updates
    this.session = http2.connect(`http://${target}`, { settings: { initialWindowSize: 8 << 20 } });
    this.session.on('error', () => {}); // reported per call
    this.headers = new Map();
  }
  ready() {
    return new Promise((res, rej) => {
      if (this.session.connected) return res();
      this.session.once('connect', () => {
        this.session.setLocalWindowSize(64 << 20);
        res();
      });
      this.session.once('error', (e) => rej(new Error(`connect ${this.target}: ${e.message}`)));
    });
  }
  hdr(path) {
    let h = this.headers.get(path);
    if (!h) this.headers.set(path, (h = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' }));
    return h;
  }
  /** Resolves with null (ok) or an error string. */
  unary(op, req) {
    return new Promise((resolve) => {
      const s = this.session.request(this.hdr(op.method), { endStream: false });
      const chunks = [];
      let gstatus;
      let gmessage;
      let done = false;
      const f = { t: performance.now(), cancel: () => s.close(http2.constants.NGHTTP2_CANCEL) };
      inflight.add(f);
      const finish = (err) => {
        if (done) return;
        done = true;
        inflight.delete(f);
        if (err) return resolve(err);
        if (gstatus !== '0') return resolve(gstatus === undefined ? 'no grpc-status' : `grpc-status ${gstatus}: ${decodeURIComponent(gmessage ?? '')}`);
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (body.length < 5) return resolve('no message received');
        try {
          const res = op.def.responseDeserialize(body.subarray(5, 5 + body.readUInt32BE(1)));
          resolve(op.ok(res) ? null : `unexpected response ${JSON.stringify(res).slice(0, 120)}`);
        } catch (e) {
          resolve(`undecodable response: ${e.message}`);
        }
      };
      // a Trailers-Only answer (an error) carries grpc-status in the headers
      s.on('response', (h) => {
        if (h['grpc-status'] !== undefined) {
          gstatus = h['grpc-status'];
          gmessage = h['grpc-message'];
        }
      });
      s.on('trailers', (h) => {
        gstatus = h['grpc-status'];
        gmessage = h['grpc-message'];
      });
      s.on('data', (d) => chunks.push(d));
      s.on('error', (e) => finish(e.message));
      s.on('close', () => finish(s.rstCode && s.rstCode !== http2.constants.NGHTTP2_NO_ERROR ? `stream reset ${s.rstCode}` : undefined));
      s.end(frame(op.def.requestSerialize(req)));
    });
  }
  /** A bidi stream; onMessage(raw message bytes) for each message. */
  bidi(path, serialize, onMessage, onError) {
    const s = this.session.request(this.hdr(path), { endStream: false });
    let buf = null;
    s.on('data', (d) => {
      buf = buf && buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) break;
        onMessage(buf.subarray(5, 5 + len));
        buf = buf.subarray(5 + len);
      }
    });
    s.on('trailers', (h) => h['grpc-status'] !== '0' && onError(`grpc-status ${h['grpc-status']}: ${h['grpc-message'] ?? ''}`));
    s.on('error', (e) => onError(e.message));
    return { write: (m) => s.write(frame(serialize(m))), cancel: () => s.close(http2.constants.NGHTTP2_CANCEL) };
  }
  close() {
    this.session.destroy();
  }
}

// grpc-js folds clients with the same target onto one shared connection unless each has a local
// subchannel pool.
const CHANNEL_OPTS = { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };
class GrpcJsConn {
  constructor(target) {
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), CHANNEL_OPTS);
  }
  ready() {
    return new Promise((res, rej) => this.client.waitForReady(Date.now() + 10_000, (e) => (e ? rej(new Error(`connect ${this.client.getChannel().getTarget()}: ${e.message}`)) : res())));
  }
  unary(op, req) {
    return new Promise((resolve) => {
      const f = { t: performance.now(), cancel: null };
      const call = this.client.makeUnaryRequest(op.method, op.def.requestSerialize, op.def.responseDeserialize, req, (err, res) => {
        inflight.delete(f);
        if (err) resolve(err.details || err.message);
        else resolve(op.ok(res) ? null : `unexpected response ${JSON.stringify(res).slice(0, 120)}`);
      });
      f.cancel = () => call.cancel();
      inflight.add(f);
    });
  }
  bidi(path, serialize, onMessage, onError) {
    // the deserializer hands over the raw bytes; onMessage decodes what it needs
    const s = this.client.makeBidiStreamRequest(path, serialize, (b) => b);
    s.on('data', onMessage);
    s.on('error', (e) => onError(e.details || e.message));
    return { write: (m) => s.write(m), cancel: () => s.cancel() };
  }
  close() {
    this.client.close();
  }
}

function connections(perTarget) {
  const list = [];
  // interleaved (t0, t1, t2, t0, ...) so that client i % list.length lands on target i % targets
  for (let k = 0; k < perTarget; k++) for (const t of targets) list.push(TRANSPORT === 'http2' ? new H2Conn(t) : new GrpcJsConn(t));
  return list;
}
async function waitReady(conns) {
  await Promise.all(conns.map((c) => withTimeout(c.ready(), 10_000, 'connect')));
}
function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(t));
}

// ---------- data (the shared loadgen's key and value scheme) ----------
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randStr = (n) => Array.from({ length: n }, () => ALNUM[(Math.random() * ALNUM.length) | 0]).join('');
const keys = Array.from({ length: NKEYS }, (_, i) => {
  const id = i.toString(36);
  if (PREFIX.length + id.length > KEY_SIZE) die('key-size too small for key space and prefix');
  return Buffer.from(PREFIX + id.padStart(KEY_SIZE - PREFIX.length, '0'));
});
const VALUE_POOL = 64;
const values = Array.from({ length: VALUE_POOL }, () => Buffer.from(randStr(VALUE_SIZE)));
const STAMP_DIGITS = 16;
const nowUs = () => {
  const [s, ns] = process.hrtime(); // CLOCK_MONOTONIC: the same clock in every process on this machine
  return s * 1e6 + Math.floor(ns / 1000);
};
function stampedValue() {
  const v = Buffer.from(values[(Math.random() * VALUE_POOL) | 0]);
  v.write(String(nowUs()).padStart(STAMP_DIGITS, '0'), 0, 'latin1');
  return v;
}

// A request per op; the response check. Range is linearizable unless --serializable.
const OPS = {
  put: {
    method: '/etcdserverpb.KV/Put', def: KV.Put,
    req: (ki, vi) => ({ key: keys[ki], value: o.stamp ? stampedValue() : values[vi] }),
    ok: () => true,
  },
  range: {
    method: '/etcdserverpb.KV/Range', def: KV.Range,
    req: (ki) => (o.serializable ? { key: keys[ki], serializable: true } : { key: keys[ki] }),
    ok: () => true,
  },
  // A compare-and-put: the key's version above 0 (it exists, after --prefill), then put. Every
  // such txn succeeds; one that did not would count as an error.
  txn: {
    method: '/etcdserverpb.KV/Txn', def: KV.Txn,
    req: (ki, vi) => ({ compare: [{ result: 'GREATER', target: 'VERSION', key: keys[ki], version: '0' }], success: [{ request_put: { key: keys[ki], value: values[vi] } }] }),
    ok: (res) => res.succeeded === true,
  },
};
const mix = o.op.split(',').map((p) => {
  const [name, w] = p.split('=');
  if (!OPS[name]) die(`unknown op ${name} (put, range, txn)`);
  return { op: OPS[name], name, w: w === undefined ? 1 : Number(w) };
});
const totalW = mix.reduce((a, m) => a + m.w, 0);
function pickOp() {
  if (mix.length === 1) return mix[0];
  let r = Math.random() * totalW;
  for (const m of mix) if ((r -= m.w) < 0) return m;
  return mix[mix.length - 1];
}

// ---------- unary calls ----------
/** One call of op on a connection: null when it succeeded, else an error string. */
function call(conn, op, ki, vi) {
  return conn.unary(op, op.req(ki, vi));
}

function percentiles(lat, n) {
  const sorted = lat.subarray(0, n).sort();
  const pct = (p) => (n ? sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] : null);
  const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return { p50: r3(pct(50)), p90: r3(pct(90)), p99: r3(pct(99)), max: r3(n ? sorted[n - 1] : null), mean: r3(n ? sum / n : null) };
}
class Samples {
  constructor() {
    this.a = new Float64Array(1 << 16);
    this.n = 0;
  }
  push(x) {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
}
const cpuPct = (cpu, seconds) => Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 1000) / 10;

async function closedLoop(clients) {
  if (o.prefill) {
    // every key once, unmeasured, so ranges find a value and txn compares succeed
    let next = 0;
    let errors = 0;
    await Promise.all(Array.from({ length: C }, async (_, ci) => {
      for (let ki; (ki = next++) < NKEYS; ) if (await call(clients[ci % clients.length], OPS.put, ki, ki % VALUE_POOL)) errors++;
    }));
    if (errors) process.stderr.write(`grpc-loadgen: ${errors} prefill errors\n`);
  }
  let seq = 0;
  if (WARMUP > 0) {
    const end = performance.now() + WARMUP * 1000;
    await Promise.all(Array.from({ length: C }, async (_, ci) => {
      while (performance.now() < end) await call(clients[ci % clients.length], pickOp().op, (Math.random() * NKEYS) | 0, seq++ % VALUE_POOL);
    }));
  }
  const lat = new Samples();
  let issued = 0;
  let errors = 0;
  const errSamples = new Map();
  const perOp = {};
  const t0 = performance.now();
  const deadline = t0 + DURATION * 1000;
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: C }, async (_, ci) => {
    const client = clients[ci % clients.length];
    while (issued < MAX_OPS && performance.now() < deadline) {
      issued++;
      const m = pickOp();
      const s = performance.now();
      const err = await call(client, m.op, (Math.random() * NKEYS) | 0, seq++ % VALUE_POOL);
      if (err) {
        errors++;
        if (errSamples.size < 5 || errSamples.has(err)) errSamples.set(err, (errSamples.get(err) ?? 0) + 1);
      } else {
        lat.push(performance.now() - s);
        perOp[m.name] = (perOp[m.name] ?? 0) + 1;
      }
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  return {
    label: o.label, client: TRANSPORT, op: o.op, url: o.url, concurrency: C, connections: clients.length,
    key_size: KEY_SIZE, value_size: VALUE_SIZE, keys: NKEYS, serializable: o.serializable,
    ops: lat.n, errors, duration_s: Math.round(elapsed * 1000) / 1000, ops_per_s: Math.round(lat.n / elapsed),
    lat_ms: percentiles(lat.a, lat.n), loadgen_cpu_pct: cpuPct(process.cpuUsage(cpu0), elapsed),
    per_op: mix.length > 1 ? perOp : undefined, error_samples: errors ? Object.fromEntries(errSamples) : undefined,
    ts: new Date().toISOString(),
  };
}

/** --rate: R puts per second on a fixed schedule, whatever the latency (the watch writer). */
async function fixedRate(clients) {
  const rate = num('rate');
  const lat = new Samples();
  let issued = 0;
  let done = 0;
  let errors = 0;
  let late = 0;
  const errSamples = new Map();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const total = Math.min(MAX_OPS, Math.floor(rate * DURATION));
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      // send what is due by now; past 1,000 in flight the writer skips (counted as late)
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (issued < due) {
        const ki = issued % NKEYS;
        issued++;
        if (issued - done > 1000) {
          late++;
          continue;
        }
        const s = performance.now();
        call(clients[issued % clients.length], OPS.put, ki, issued % VALUE_POOL).then((err) => {
          done++;
          if (err) {
            errors++;
            if (errSamples.size < 5 || errSamples.has(err)) errSamples.set(err, (errSamples.get(err) ?? 0) + 1);
          } else lat.push(performance.now() - s);
          if (issued >= total && done + late >= total) resolve();
        });
      }
      if (issued >= total) clearInterval(tick);
      if (issued >= total && done + late >= total) resolve();
    }, 2);
  });
  const elapsed = (performance.now() - t0) / 1000;
  return {
    label: o.label, client: TRANSPORT, op: 'put', mode: 'rate', rate, url: o.url, value_size: VALUE_SIZE, keys: NKEYS, key_prefix: PREFIX,
    ops: lat.n, errors, late, duration_s: Math.round(elapsed * 1000) / 1000, ops_per_s: Math.round(lat.n / elapsed),
    lat_ms: percentiles(lat.a, lat.n), loadgen_cpu_pct: cpuPct(process.cpuUsage(cpu0), elapsed),
    error_samples: errors ? Object.fromEntries(errSamples) : undefined, ts: new Date().toISOString(),
  };
}

// ---------- watchers ----------
// The watch stream's responses are decoded by hand: at 1,000 watchers every put is 1,000
// WatchResponse messages, and a full protobufjs decode of each would make this process the
// bottleneck. Only what is counted is read: watch_id (2), created (3), canceled (4), and in each
// event (11) the kv (2) value's (5) leading stamp. Both systems get the same decoder.
function varint(buf, pos) {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos.i++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 128;
  }
}
function skip(buf, pos, wire) {
  if (wire === 0) varint(buf, pos);
  else if (wire === 1) pos.i += 8;
  else if (wire === 2) {
    const len = varint(buf, pos); // (not `pos.i += varint(...)`: that reads pos.i before the call moves it)
    pos.i += len;
  }
  else if (wire === 5) pos.i += 4;
  else throw new Error(`wire type ${wire}`);
}
/** The stamp at the start of a kv's value, or -1. */
function kvStamp(buf, start, end) {
  const pos = { i: start };
  while (pos.i < end) {
    const tag = varint(buf, pos);
    if (tag >>> 3 === 5 && (tag & 7) === 2) {
      const len = varint(buf, pos);
      if (len < STAMP_DIGITS) return -1;
      let v = 0;
      for (let k = pos.i; k < pos.i + STAMP_DIGITS; k++) {
        const d = buf[k] - 48;
        if (d < 0 || d > 9) return -1;
        v = v * 10 + d;
      }
      return v;
    }
    skip(buf, pos, tag & 7);
  }
  return -1;
}
const wstats = { cpuFirst: null, events: 0, responses: 0, created: 0, canceled: 0, unstamped: 0, first: 0, last: 0, lag: new Samples(), perTarget: targets.map(() => 0), cancelReasons: new Map() };
/** Counts one WatchResponse's events and lags (called as each message arrives). */
function watchMessage(targetIdx) {
  return (buf) => {
    const now = nowUs();
    const pos = { i: 0 };
    let events = 0;
    let created = false;
    let canceled = false;
    while (pos.i < buf.length) {
      const tag = varint(buf, pos);
      const field = tag >>> 3;
      if (field === 3 && (tag & 7) === 0) created = varint(buf, pos) === 1;
      else if (field === 4 && (tag & 7) === 0) canceled = varint(buf, pos) === 1;
      else if (field === 11 && (tag & 7) === 2) {
        const len = varint(buf, pos);
        const end = pos.i + len;
        events++;
        while (pos.i < end) {
          const t2 = varint(buf, pos);
          if (t2 >>> 3 === 2 && (t2 & 7) === 2) {
            const l2 = varint(buf, pos);
            const s = kvStamp(buf, pos.i, pos.i + l2);
            if (s < 0) wstats.unstamped++;
            else wstats.lag.push((now - s) / 1000);
            pos.i += l2;
          } else skip(buf, pos, t2 & 7);
        }
        pos.i = end;
      } else skip(buf, pos, tag & 7);
    }
    wstats.responses++;
    if (events) {
      if (!wstats.events) {
        wstats.first = now;
        wstats.cpuFirst = process.cpuUsage();
      }
      wstats.last = now;
      wstats.events += events;
      wstats.perTarget[targetIdx] += events;
    }
    if (created) wstats.created++;
    if (canceled) {
      wstats.canceled++;
      const why = WATCH.responseDeserialize(buf).cancel_reason || 'canceled';
      wstats.cancelReasons.set(why, (wstats.cancelReasons.get(why) ?? 0) + 1);
    }
  };
}

async function watchers(clients) {
  const W = num('watchers');
  const perTarget = Math.max(1, num('streams') | 0);
  // a prefix watch: [prefix, prefix with its last byte + 1)
  const key = Buffer.from(PREFIX);
  const rangeEnd = Buffer.from(key);
  rangeEnd[rangeEnd.length - 1]++;
  const streams = [];
  for (let k = 0; k < perTarget; k++) {
    for (let t = 0; t < targets.length; t++) {
      const conn = clients[(k * targets.length + t) % clients.length];
      const s = conn.bidi('/etcdserverpb.Watch/Watch', WATCH.requestSerialize, watchMessage(t), (e) => {
        if (!stopping) wstats.cancelReasons.set(`stream error: ${e}`, 1);
      });
      streams.push(s);
    }
  }
  // watches round-robin over the streams: watch j on stream j % streams
  for (let j = 0; j < W; j++) streams[j % streams.length].write({ create_request: { key, range_end: rangeEnd } });
  const t0 = performance.now();
  while (wstats.created < W) {
    if (performance.now() - t0 > 60_000) die(`only ${wstats.created} of ${W} watches created in 60 s`);
    if (wstats.canceled) die(`watch canceled at creation: ${[...wstats.cancelReasons.keys()]}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write(JSON.stringify({ ready: true, watchers: W, streams: streams.length, create_ms: Math.round(performance.now() - t0) }) + '\n');
  // measure until told to stop (stdin "stop" or closed) or the duration's limit; a progress line
  // every 250 ms lets the caller wait for the last events instead of guessing a drain time
  const progress = setInterval(() => process.stdout.write(`{"progress":${wstats.events}}\n`), 250);
  await new Promise((resolve) => {
    setTimeout(resolve, (DURATION + 300) * 1000).unref();
    process.stdin.on('data', (d) => {
      if (String(d).includes('stop')) resolve();
    });
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
  });
  clearInterval(progress);
  stopping = true;
  const window = wstats.events ? (wstats.last - wstats.first) / 1e6 : 0;
  // CPU from the first event to the last (the idle tail after the last event would dilute it)
  const cpu = wstats.events ? process.cpuUsage(wstats.cpuFirst) : { user: 0, system: 0 };
  for (const s of streams) s.cancel();
  return {
    label: o.label, client: TRANSPORT, mode: 'watch', url: o.url, watchers: W, streams: streams.length, connections: clients.length, key_prefix: PREFIX,
    events: wstats.events, responses: wstats.responses, window_s: Math.round(window * 1000) / 1000,
    events_per_s: window > 0 ? Math.round(wstats.events / window) : 0, events_per_target: wstats.perTarget,
    lag_ms: percentiles(wstats.lag.a, wstats.lag.n), unstamped: wstats.unstamped, canceled: wstats.canceled,
    cancel_reasons: wstats.cancelReasons.size ? Object.fromEntries(wstats.cancelReasons) : undefined,
    loadgen_cpu_pct: window > 0 ? cpuPct(cpu, window) : 0, ts: new Date().toISOString(),
  };
}
let stopping = false;

// ---------- main ----------
// watchers: a few connections per target carry all the streams (etcd's clients use one)
const clients = connections(o.watch ? 1 : CONNS);
await waitReady(clients);
const result = o.watch ? await watchers(clients) : o.rate !== undefined ? await fixedRate(clients) : await closedLoop(clients);
process.stdout.write(JSON.stringify(result) + '\n');
for (const c of clients) c.close();
process.exit(0);
