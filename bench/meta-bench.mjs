#!/usr/bin/env node
// bench:meta — raftkit-meta (packages/metadata-demo) against etcd 3.4, in the same run, with the
// same load through the same clients. A 3-node raftkit-meta cluster and a 3-member etcd (started
// by ../shared/bench/etcd-cluster.sh), both on 127.0.0.1 with fsync on, run side by side for the
// whole bench; every level runs --rounds times per system, alternating raftkit, etcd, raftkit,
// etcd..., because this VM's speed drifts by 1.5x within an hour. Three parts:
//
//   gateway  etcd's JSON gateway (/v3/kv/...) driven by the shared ../shared/bench/loadgen.mjs:
//            puts (to the leader) and linearizable gets (spread over the 3 nodes) at concurrency
//            1, 16, 64 and 256; txns (compare version > 0, then put; to the leader) at 64 and 256.
//            256-byte values over 10,000 keys, prefilled once.
//   grpc     the same levels over etcd's gRPC API, driven by bench/grpc-loadgen.mjs (2 HTTP/2
//            connections per node carry all the clients; proto-loader's encoders over node:http2,
//            or over @grpc/grpc-js with --grpc-client grpc-js, which costs this 2-core VM ~2x the
//            client CPU per call; see grpc-loadgen.mjs).
//   watch    watch fan-out: 1,000 watches of one prefix spread over the 3 nodes (10 gRPC streams
//            per node, ~33 watches each), one writer putting at a fixed rate (500/s) to the leader
//            with the send time in each value; events delivered per second and the lag from the
//            put's send to each watcher's receipt.
//
// Every run prints its figure and the servers' CPU (% of one core; leader first); each level
// ends with the medians and the raftkit/etcd ratio; the end lists the targets met or missed (puts
// and linearizable gets at 64 and 256 at least 2x etcd's throughput with p99 no worse; watch
// events/s at least etcd's). The last line is JSON. The store is compacted (physical) after every
// run, on both systems alike, so every round starts from the same small history.
//
//   npm run bench:meta                                         # ~15 min with the defaults
//   npm run bench:meta -- --seconds 2 --rounds 1 --parts grpc  # a quick look
//   npm run bench:meta -- --json                               # only the JSON line
//
// Needs Debian's etcd-server and etcd-client (etcd, etcdctl on PATH). Everything started here is
// stopped by PID at the end, on failure and on Ctrl-C, and the data dirs are removed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { children, freePorts, LOADGEN, root, median, runLoadgen, sleep, track } from './lib.mjs';

const SHARED = join(root, '../shared/bench');
const ETCD_SCRIPT = join(SHARED, 'etcd-cluster.sh');
const META_BIN = join(root, 'packages/metadata-demo/bin/raftkit-meta.js');
const GRPC_LOADGEN = join(root, 'bench/grpc-loadgen.mjs');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    parts: { type: 'string', default: 'gateway,grpc,watch' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1,16,64,256' },
    'txn-concurrency': { type: 'string', default: '64,256' },
    watchers: { type: 'string', default: '1000' },
    'watch-streams': { type: 'string', default: '10' },
    'watch-rate': { type: 'string', default: '500' },
    'grpc-client': { type: 'string', default: 'http2' },
    json: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Math.max(1, Number(values.rounds) | 0);
const PARTS = values.parts.split(',');
const LEVELS = values.concurrency.split(',').map(Number);
const TXN_LEVELS = values['txn-concurrency'].split(',').map(Number);
const WATCHERS = Number(values.watchers);
const WATCH_STREAMS = Number(values['watch-streams']);
const WATCH_RATE = Number(values['watch-rate']);
const GRPC_CLIENT = values['grpc-client'];
const SYSTEMS = ['raftkit', 'etcd'];
const log = (...a) => {
  if (!values.json) console.log(...a);
};
function fail(msg) {
  console.error(`bench:meta: ${msg}`);
  process.exit(2);
}
if (!['http2', 'grpc-js'].includes(GRPC_CLIENT)) fail('--grpc-client must be http2 or grpc-js');
for (const p of PARTS) if (!['gateway', 'grpc', 'watch'].includes(p)) fail(`unknown part ${p} (gateway, grpc, watch)`);
if (!(SECONDS > 0)) fail('--seconds must be positive');
for (const f of [LOADGEN, ETCD_SCRIPT]) if (!existsSync(f)) fail(`missing ${f} (the shared bench folder must sit beside the repository)`);
if (!existsSync(join(root, 'packages/metadata-demo/dist/src/main.js'))) fail('build first: npm run build');
const haveEtcd = () => spawnSync('sh', ['-c', 'command -v etcd && command -v etcdctl']).status === 0;
if (!haveEtcd() && process.getuid?.() === 0) {
  // The anchor is part of the bench: as root, install Debian's etcd (as the tests do for etcdctl).
  log('installing etcd-server and etcd-client with apt-get ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['install', '-y', 'etcd-server', 'etcd-client'], { stdio: 'ignore', env }).status !== 0) {
    spawnSync('sh', ['-c', 'apt-get update && apt-get install -y etcd-server etcd-client'], { stdio: 'ignore', env });
  }
}
if (!haveEtcd()) fail('etcd is not installed and could not be: apt-get install etcd-server etcd-client (as root)');

// ---------- cleanup: whatever way the script ends ----------
// lib.mjs SIGKILLs the tracked children (raftkit nodes, load generators) on exit; etcd's members
// were started by etcd-cluster.sh (nohup), so its `stop` (by the PIDs it saved) runs here too.
const DIR = mkdtempSync(join(tmpdir(), 'raftkit-metabench-'));
const ETCD_ENV = { ...process.env, ETCD_BENCH_STATE: join(DIR, 'etcd-state') };
let etcdUp = false;
process.on('exit', () => {
  if (etcdUp) spawnSync('bash', [ETCD_SCRIPT, 'stop'], { env: ETCD_ENV, timeout: 20_000, stdio: 'ignore' });
  rmSync(DIR, { recursive: true, force: true });
});
process.on('SIGTERM', () => process.exit(143));

/** Rejects after `ms`: every wait in this script has a bound. */
function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(t));
}
async function postJson(url, body, ms = 10_000) {
  const r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(ms) });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}
const b64 = (s) => Buffer.from(s).toString('base64');

// ---------- the systems ----------
// Each system: http[] (gateway base URLs), grpc[] (host:port), pids[] (servers), leader() -> index.

async function startRaftkit() {
  const ports = await freePorts(6);
  const http = ports.slice(0, 3);
  const grpcPorts = ports.slice(3);
  const peers = http.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const procs = http.map((p, i) =>
    track(spawn(process.execPath, [META_BIN, '--id', String(i + 1), '--listen', `127.0.0.1:${p}`, '--grpc-listen', `127.0.0.1:${grpcPorts[i]}`, '--peers', peers, '--data-dir', join(DIR, `meta-n${i + 1}`), '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] })),
  );
  for (const c of procs) c.on('exit', (code, sig) => !stopping && fail(`a raftkit-meta node exited (${code ?? sig}) during the bench`));
  const sys = {
    name: 'raftkit',
    http: http.map((p) => `http://127.0.0.1:${p}`),
    grpc: grpcPorts.map((p) => `127.0.0.1:${p}`),
    pids: procs.map((c) => c.pid),
    procs,
    async leader() {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        for (const [i, base] of sys.http.entries()) {
          const st = await fetch(`${base}/v1/status`, { signal: AbortSignal.timeout(1000) }).then((r) => r.json()).catch(() => undefined);
          if (st?.groups?.find((g) => g.group === 'meta')?.role === 'leader') return i;
        }
        await sleep(100);
      }
      fail('raftkit-meta has no leader after 30 s');
    },
  };
  await sys.leader();
  return sys;
}

async function startEtcd() {
  const run = (...args) => {
    const r = spawnSync('bash', [ETCD_SCRIPT, ...args], { env: ETCD_ENV, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`etcd-cluster.sh ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
    return r.stdout.trim();
  };
  // the script's fixed ports may be taken by someone else's etcd: try a few bases
  let err;
  for (const base of [process.env.ETCD_BENCH_PORT_BASE ?? '29790', '31790', '33790']) {
    ETCD_ENV.ETCD_BENCH_PORT_BASE = base;
    try {
      etcdUp = true;
      run('start', '3');
      err = undefined;
      break;
    } catch (e) {
      err = e;
      etcdUp = existsSync(join(ETCD_ENV.ETCD_BENCH_STATE, 'pids'));
      if (etcdUp) run('stop');
      etcdUp = false;
      if (!/already in use/.test(e.message)) break;
    }
  }
  if (err) fail(err.message);
  const eps = run('endpoints').split(',');
  const sys = {
    name: 'etcd',
    http: eps.map((e) => (e.startsWith('http') ? e : `http://${e}`)),
    grpc: eps.map((e) => e.replace(/^https?:\/\//, '')),
    pids: readFileSync(join(ETCD_ENV.ETCD_BENCH_STATE, 'pids'), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[0])),
    async leader() {
      const l = run('leader');
      const i = sys.http.indexOf(l.startsWith('http') ? l : `http://${l}`);
      if (i < 0) fail(`etcd leader ${l} is not one of ${sys.http}`);
      return i;
    },
    stop: () => run('stop'),
  };
  return sys;
}

// ---------- measurement helpers ----------
/** utime + stime of a process (all its threads), in clock ticks (100 per second on Linux). */
function cpuTicks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(x[11]) + Number(x[12]);
  } catch {
    return NaN;
  }
}
/** Samples the servers' CPU around fn(); returns [result, cpu% per server, leader first]. */
async function withCpu(sys, leader, fn) {
  const order = [leader, ...[0, 1, 2].filter((i) => i !== leader)];
  const t0 = performance.now();
  const c0 = order.map((i) => cpuTicks(sys.pids[i]));
  const r = await fn();
  const secs = (performance.now() - t0) / 1000;
  return [r, order.map((i, k) => Math.round((cpuTicks(sys.pids[i]) - c0[k]) / secs))];
}

/** Compacts the store to its current revision (physically), the same on both systems. */
async function compact(sys) {
  const base = sys.http[0];
  const rev = Number((await postJson(`${base}/v3/kv/range`, { key: b64('k'), limit: 1 })).header.revision);
  // nothing written since the last compaction (gets): compacting again would be refused
  if (rev <= (sys.compacted ?? 0)) return 0;
  sys.compacted = rev;
  const t = performance.now();
  await postJson(`${base}/v3/kv/compaction`, { revision: rev, physical: true }, 120_000);
  return Math.round(performance.now() - t);
}

/** Runs grpc-loadgen with args; resolves with its JSON result line. */
function runGrpcLoadgen(args, ms) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const child = track(spawn(process.execPath, [GRPC_LOADGEN, '--client', GRPC_CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }));
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`grpc-loadgen exited ${code}`))));
    }),
    ms,
    'grpc-loadgen',
  );
}

const fmt = (n) => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n === null || n === undefined ? '-' : n < 10 ? n.toFixed(1) : String(Math.round(n)));

// ---------- the KV levels (gateway and gRPC) ----------
const COMMON = ['-t', String(SECONDS), '-n', '100000000', '--warmup', '1', '--keys', '10000', '--value-size', '256'];
let TXN_SPEC;

/** One run of one level against one system: the load generator's result and the servers' CPU. */
async function kvRun(part, op, c, sys) {
  const leader = await sys.leader();
  // puts and txns go to the leader, gets are spread over all three nodes, on both systems
  const toAll = op === 'get';
  const limit = (SECONDS + 90) * 1000;
  const [r, cpu] = await withCpu(sys, leader, () => {
    if (part === 'gateway') {
      const url = toAll ? sys.http.join(',') : sys.http[leader];
      const adapter = op === 'txn' ? ['--adapter', 'generic', '--spec', TXN_SPEC] : ['--adapter', 'etcd'];
      // loadgen stops itself after warmup + duration + 60 s; the outer bound is a second guard
      return withTimeout(runLoadgen([...adapter, '--url', url, '--op', op, '-c', String(c), ...COMMON, '--label', `${sys.name} gateway ${op} c${c}`]), limit, 'loadgen');
    }
    const url = toAll ? sys.grpc.join(',') : sys.grpc[leader];
    return runGrpcLoadgen(['--url', url, '--op', op === 'get' ? 'range' : op, '-c', String(c), '--conns', '2', ...COMMON, '--label', `${sys.name} grpc ${op} c${c}`], limit);
  });
  const compactMs = await compact(sys);
  await sleep(300);
  return { ops_per_s: r.ops_per_s, p50_ms: r.lat_ms.p50, p99_ms: r.lat_ms.p99, max_ms: r.lat_ms.max, errors: r.errors, error_samples: r.error_samples, loadgen_cpu_pct: r.loadgen_cpu_pct, server_cpu_pct: cpu, compact_ms: compactMs };
}

function kvLine(name, x) {
  return `${name.padEnd(7)} ${fmt(x.ops_per_s).padStart(7)} ops/s  p50 ${ms(x.p50_ms).padStart(4)}  p99 ${ms(x.p99_ms).padStart(4)} ms  cpu ${x.server_cpu_pct.join('/')}% gen ${Math.round(x.loadgen_cpu_pct)}%${x.errors ? `  ERRORS ${x.errors} ${JSON.stringify(x.error_samples)}` : ''}`;
}

async function kvPart(part, systems) {
  const levels = [...LEVELS.map((c) => ['put', c]), ...LEVELS.map((c) => ['get', c]), ...TXN_LEVELS.map((c) => ['txn', c])];
  const out = [];
  log(`\n== ${part}: ${part === 'gateway' ? 'shared loadgen over the JSON gateway' : `grpc-loadgen over gRPC (${GRPC_CLIENT})`}; puts and txns to the leader, linearizable gets over all 3 nodes; ${SECONDS} s per run after 1 s warm-up; cpu = servers' % of one core, leader first`);
  for (const [op, c] of levels) {
    const row = { part, op, concurrency: c, runs: { raftkit: [], etcd: [] } };
    log(`${part} ${op} c${c}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of SYSTEMS) {
        const x = await kvRun(part, op, c, systems[name]);
        row.runs[name].push(x);
        log(`  ${round + 1}  ${kvLine(name, x)}`);
      }
    }
    for (const name of SYSTEMS) {
      row[name] = { ops_per_s: median(row.runs[name].map((x) => x.ops_per_s)), p50_ms: median(row.runs[name].map((x) => x.p50_ms)), p99_ms: median(row.runs[name].map((x) => x.p99_ms)), errors: row.runs[name].reduce((a, x) => a + x.errors, 0) };
    }
    row.ratio = Math.round((row.raftkit.ops_per_s / row.etcd.ops_per_s) * 100) / 100;
    log(`  median  raftkit ${fmt(row.raftkit.ops_per_s)} ops/s p99 ${ms(row.raftkit.p99_ms)} ms | etcd ${fmt(row.etcd.ops_per_s)} ops/s p99 ${ms(row.etcd.p99_ms)} ms | ${row.ratio}x`);
    out.push(row);
  }
  return out;
}

// ---------- watch fan-out ----------
const WATCH_KEYS = 100;
const WATCH_VALUE = 64;

/** Starts the watchers; resolves once every watch is created, with a handle to stop them. */
function startWatchers(sys) {
  const child = track(spawn(process.execPath, [GRPC_LOADGEN, '--client', GRPC_CLIENT, '--watch', '--url', sys.grpc.join(','), '--watchers', String(WATCHERS), '--streams', String(WATCH_STREAMS), '--key-prefix', 'w/', '-t', String(SECONDS), '--label', `${sys.name} watchers`], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const w = { child, progress: 0, lastChange: performance.now(), result: null };
  let buf = '';
  let onReady;
  let onResult;
  const ready = new Promise((res, rej) => {
    onReady = res;
    child.on('exit', (code) => rej(new Error(`watchers exited ${code} before they were ready`)));
  });
  w.done = new Promise((res, rej) => {
    onResult = res;
    child.on('exit', (code) => (code === 0 ? res(w.result) : rej(new Error(`watchers exited ${code}`))));
  });
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (line.ready) onReady(line);
      else if ('progress' in line) {
        if (line.progress !== w.progress) w.lastChange = performance.now();
        w.progress = line.progress;
      } else {
        w.result = line;
        onResult(line);
      }
    }
  });
  w.ready = withTimeout(ready, 90_000, 'watch creation');
  return w;
}

async function watchRun(sys) {
  const leader = await sys.leader();
  const w = startWatchers(sys);
  const ready = await w.ready;
  const [r, cpu] = await withCpu(sys, leader, async () => {
    const writer = await runGrpcLoadgen(['--url', sys.grpc[leader], '--rate', String(WATCH_RATE), '-t', String(SECONDS), '--conns', '1', '--key-prefix', 'w/', '--keys', String(WATCH_KEYS), '--value-size', String(WATCH_VALUE), '--stamp', '--label', `${sys.name} watch writer`], (SECONDS + 90) * 1000);
    // wait for the last events: until every acknowledged put reached every watcher, or no new
    // event for 2 s, at most 30 s
    const expected = writer.ops * WATCHERS;
    const deadline = performance.now() + 30_000;
    while (w.progress < expected && performance.now() - w.lastChange < 2000 && performance.now() < deadline) await sleep(100);
    w.child.stdin.end('stop\n');
    const watch = await withTimeout(w.done, 30_000, 'watchers result');
    return { writer, watch, expected };
  });
  const compactMs = await compact(sys);
  await sleep(300);
  const { writer, watch, expected } = r;
  return {
    events_per_s: watch.events_per_s, events: watch.events, expected, delivered: expected ? Math.round((watch.events / expected) * 10000) / 10000 : null,
    lag_p50_ms: watch.lag_ms.p50, lag_p99_ms: watch.lag_ms.p99, lag_max_ms: watch.lag_ms.max, window_s: watch.window_s,
    puts_per_s: writer.ops_per_s, put_p50_ms: writer.lat_ms.p50, put_p99_ms: writer.lat_ms.p99, writer_errors: writer.errors, writer_late: writer.late,
    canceled: watch.canceled, cancel_reasons: watch.cancel_reasons, create_ms: ready.create_ms, events_per_node: watch.events_per_target,
    watcher_cpu_pct: watch.loadgen_cpu_pct, server_cpu_pct: cpu, compact_ms: compactMs,
  };
}

async function watchPart(systems) {
  log(`\n== watch: ${WATCHERS} watches of prefix w/ over ${WATCH_STREAMS} gRPC streams per node (3 nodes), writer ${WATCH_RATE} puts/s to the leader for ${SECONDS} s (${WATCH_VALUE}-byte values, ${WATCH_KEYS} keys); lag = receipt - the put's send time`);
  const row = { part: 'watch', watchers: WATCHERS, rate: WATCH_RATE, runs: { raftkit: [], etcd: [] } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of SYSTEMS) {
      const x = await watchRun(systems[name]);
      row.runs[name].push(x);
      log(`  ${round + 1}  ${name.padEnd(7)} ${fmt(x.events_per_s).padStart(8)} events/s (${(x.delivered * 100).toFixed(1)}% of ${fmt(x.expected)} delivered)  lag p50 ${ms(x.lag_p50_ms)} p99 ${ms(x.lag_p99_ms)} ms  puts ${fmt(x.puts_per_s)}/s p99 ${ms(x.put_p99_ms)} ms  cpu ${x.server_cpu_pct.join('/')}% watchers ${Math.round(x.watcher_cpu_pct)}%${x.canceled ? `  CANCELED ${x.canceled} ${JSON.stringify(x.cancel_reasons)}` : ''}${x.writer_errors || x.writer_late ? `  writer errors ${x.writer_errors} late ${x.writer_late}` : ''}`);
    }
  }
  for (const name of SYSTEMS) {
    const rs = row.runs[name];
    row[name] = { events_per_s: median(rs.map((x) => x.events_per_s)), lag_p99_ms: median(rs.map((x) => x.lag_p99_ms)), delivered: median(rs.map((x) => x.delivered)) };
  }
  row.ratio = Math.round((row.raftkit.events_per_s / row.etcd.events_per_s) * 100) / 100;
  log(`  median  raftkit ${fmt(row.raftkit.events_per_s)} events/s lag p99 ${ms(row.raftkit.lag_p99_ms)} ms | etcd ${fmt(row.etcd.events_per_s)} events/s lag p99 ${ms(row.etcd.lag_p99_ms)} ms | ${row.ratio}x`);
  return row;
}

// ---------- main ----------
let stopping = false;
const result = { bench: 'meta-vs-etcd', seconds: SECONDS, rounds: ROUNDS, parts: PARTS, grpc_client: GRPC_CLIENT, node: process.version, started: new Date().toISOString() };
log(`bench:meta: raftkit-meta vs etcd ${spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].replace('etcd Version: ', '')}, 3 nodes each on 127.0.0.1, fsync on; data under ${DIR}`);
const systems = {};
systems.raftkit = await withTimeout(startRaftkit(), 60_000, 'raftkit-meta start');
systems.etcd = await withTimeout(startEtcd(), 90_000, 'etcd start');

// The txn spec for the shared loadgen's generic adapter, the same for both systems: compare the
// key's version > 0 (it exists: prefilled), then put. Success is checked in the body, since a
// failed compare is still HTTP 200.
TXN_SPEC = join(DIR, 'etcd-txn.json');
writeFileSync(TXN_SPEC, JSON.stringify({
  headers: { 'content-type': 'application/json' },
  txn: { method: 'POST', url: '{base}/v3/kv/txn', body: '{"compare":[{"key":"{key_b64}","target":"VERSION","result":"GREATER","version":"0"}],"success":[{"request_put":{"key":"{key_b64}","value":"{value_b64}"}}]}', ok: [200], expect: '"succeeded":true' },
}));

for (const name of SYSTEMS) {
  const sys = systems[name];
  // every node answers the gateway (and the gRPC port is up: a raftkit-meta node serves both
  // once started) before anything is measured
  for (const base of sys.http) await withTimeout((async () => {
    for (;;) {
      const ok = await postJson(`${base}/v3/kv/range`, { key: b64('k') }, 2000).then(() => true, () => false);
      if (ok) return;
      await sleep(200);
    }
  })(), 30_000, `${name} ${base} gateway`);
  // the 10,000 keys once, so gets find values and every txn compare succeeds
  const leader = await sys.leader();
  const pre = await withTimeout(runLoadgen(['--adapter', 'etcd', '--url', sys.http[leader], '--prefill', '-c', '64', '-n', '1', '-t', '1', '--keys', '10000', '--value-size', '256']), 240_000, 'prefill');
  if (pre.prefill_errors) fail(`${name}: ${pre.prefill_errors} prefill errors`);
  // one txn by hand: a body the spec's success check would not match fails here, with its text
  const k = b64('k' + '0'.padStart(15, '0'));
  const t = await postJson(`${sys.http[leader]}/v3/kv/txn`, { compare: [{ key: k, target: 'VERSION', result: 'GREATER', version: '0' }], success: [{ request_put: { key: k, value: b64('x') } }] });
  if (t.succeeded !== true || !JSON.stringify(t).includes('"succeeded":true')) fail(`${name}: txn check answered ${JSON.stringify(t)}`);
  await compact(sys);
}
log(`raftkit-meta: gateway ${systems.raftkit.http.join(' ')}  gRPC ${systems.raftkit.grpc.join(' ')}`);
log(`etcd:         ${systems.etcd.http.join(' ')} (gateway and gRPC on one port)`);

try {
  if (PARTS.includes('gateway')) result.gateway = await kvPart('gateway', systems);
  if (PARTS.includes('grpc')) result.grpc = await kvPart('grpc', systems);
  if (PARTS.includes('watch')) result.watch = await watchPart(systems);
} catch (e) {
  fail(e.stack ?? String(e));
}

// ---------- targets ----------
const targets = [];
for (const part of ['gateway', 'grpc']) {
  for (const row of result[part] ?? []) {
    if (!['put', 'get'].includes(row.op) || ![64, 256].includes(row.concurrency)) continue;
    const tput = row.ratio >= 2;
    const p99 = row.raftkit.p99_ms <= row.etcd.p99_ms;
    targets.push({ target: `${part} ${row.op} c${row.concurrency}: >= 2x etcd ops/s, p99 <= etcd's`, met: tput && p99, detail: `${row.ratio}x (${fmt(row.raftkit.ops_per_s)} / ${fmt(row.etcd.ops_per_s)}), p99 ${ms(row.raftkit.p99_ms)} / ${ms(row.etcd.p99_ms)} ms` });
  }
}
if (result.watch) {
  const w = result.watch;
  targets.push({ target: 'watch fan-out events/s >= etcd\'s', met: w.ratio >= 1, detail: `${w.ratio}x (${fmt(w.raftkit.events_per_s)} / ${fmt(w.etcd.events_per_s)} events/s), lag p99 ${ms(w.raftkit.lag_p99_ms)} / ${ms(w.etcd.lag_p99_ms)} ms` });
}
result.targets = targets;
if (targets.length) {
  log('\n== targets (medians, raftkit / etcd)');
  for (const t of targets) log(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.target.padEnd(52)} ${t.detail}`);
}

// ---------- stop everything we started, by PID ----------
stopping = true;
for (const c of systems.raftkit.procs) c.kill('SIGTERM');
await withTimeout(Promise.all(systems.raftkit.procs.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r))))), 10_000, 'raftkit-meta stop').catch(() => {
  for (const c of systems.raftkit.procs) c.kill('SIGKILL');
});
systems.etcd.stop();
etcdUp = false;
result.finished = new Date().toISOString();
console.log(JSON.stringify(result));
for (const c of children) c.kill('SIGKILL');
process.exit(0);
