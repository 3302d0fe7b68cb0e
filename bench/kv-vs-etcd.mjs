#!/usr/bin/env node
// bench:kv — a 3-node raftkit-kv cluster and (when Debian's etcd-server is installed) a 3-member
// etcd, both on 127.0.0.1 with fsync on and up side by side for the whole run, driven by the same
// load generator (../shared/bench/loadgen.mjs) with the same workload: 256-byte values over
// 10,000 keys, puts at concurrency 1, 16, 64 and 256, linearizable gets at 64. Each level runs
// --rounds times per system, the two alternating and swapping who goes first every round, because
// this VM's speed drifts within minutes; the figures are the medians over rounds. Prints a table
// with ops/s, p50/p99 and raftkit/etcd ratios (of the medians, and per round); the last line is JSON.
//
//   npm run bench:kv [-- --seconds 10 --rounds 3 --systems raftkit,etcd --json]
// etcd: apt-get install etcd-server etcd-client (bench/README.md). Everything started here is
// stopped by PID when the run ends.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePorts, LOADGEN, median, root, runLoadgen, sleep, track } from './lib.mjs';

const SHARED = join(root, '../shared/bench');
const SPEC = join(SHARED, 'specs/raftkit-kv.json');
const ETCD_SCRIPT = join(SHARED, 'etcd-cluster.sh');
const KV_BIN = join(root, 'packages/kv-demo/bin/raftkit-kv.js');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    systems: { type: 'string', default: 'raftkit,etcd' },
    concurrency: { type: 'string', default: '1,16,64,256' },
    'get-concurrency': { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const log = (...a) => {
  if (!values.json) console.log(...a);
};
function fail(msg) {
  console.error(`bench:kv: ${msg}`);
  process.exit(2);
}
for (const f of [LOADGEN, SPEC]) if (!existsSync(f)) fail(`missing ${f} (the shared bench folder must sit beside the repository)`);
if (!existsSync(join(root, 'packages/kv-demo/dist/src/main.js'))) fail('build first: npm run build');




const medianOf = (xs) => Math.round(median(xs) * 1000) / 1000;

/** One level of one system: puts at concurrency c, or linearizable gets (after a prefill). */
async function level(sys, op, c) {
  const common = ['-t', String(seconds), '-n', '100000000', '--warmup', '1', '--keys', '10000', '--value-size', '256'];
  const args = op === 'put' ? ['--url', sys.putUrl, '--op', 'put'] : ['--url', sys.getUrl, '--op', 'get', '--prefill'];
  const r = await runLoadgen([...sys.adapter, ...args, '-c', String(c), ...common, '--label', `${sys.name} ${op} c${c}`]);
  log(`  ${sys.name.padEnd(8)} ${op} c=${String(c).padStart(3)}  ${String(r.ops_per_s).padStart(7)} ops/s  p50 ${r.lat_ms.p50} ms  p99 ${r.lat_ms.p99} ms${r.errors ? `  errors ${r.errors}` : ''}`);
  return { ops_per_s: r.ops_per_s, p50_ms: r.lat_ms.p50, p99_ms: r.lat_ms.p99, errors: r.errors };
}

/** A 3-node raftkit-kv; resolves with how to load it and how to stop it. */
async function startRaftkit() {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-kvbench-'));
  const ports = await freePorts(3);
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const procs = ports.map((p, i) => {
    return track(spawn(process.execPath, [KV_BIN, '--id', String(i + 1), '--listen', `127.0.0.1:${p}`, '--peers', peers, '--data-dir', join(dir, `n${i + 1}`), '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  });
  const stop = async () => {
    for (const c of procs) c.kill('SIGKILL');
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  };
  let leader;
  const deadline = Date.now() + 30_000;
  while (!leader) {
    if (Date.now() > deadline) {
      await stop();
      fail('raftkit-kv elected no leader in 30 s');
    }
    for (const p of ports) {
      const st = await fetch(`http://127.0.0.1:${p}/v1/status`, { signal: AbortSignal.timeout(1000) }).then((r) => r.json()).catch(() => undefined);
      const kv = st?.groups?.find((g) => g.group === 'kv');
      if (kv?.role === 'leader') leader = p;
    }
    await sleep(100);
  }
  const all = ports.map((p) => `http://127.0.0.1:${p}`).join(',');
  return { name: 'raftkit', adapter: ['--adapter', 'generic', '--spec', SPEC], putUrl: `http://127.0.0.1:${leader}`, getUrl: all, stop };
}

/** A 3-member etcd (undefined when etcd is not installed). */
async function startEtcd() {
  if (spawnSync('sh', ['-c', 'command -v etcd']).status !== 0) {
    log('  etcd: not installed (apt-get install etcd-server etcd-client); skipped');
    return undefined;
  }
  const state = mkdtempSync(join(tmpdir(), 'etcd-bench-state-'));
  rmSync(state, { recursive: true, force: true });
  const env = { ...process.env, ETCD_BENCH_STATE: state };
  const run = (...args) => {
    const r = spawnSync('bash', [ETCD_SCRIPT, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) fail(`etcd-cluster.sh ${args.join(' ')} failed: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  run('start', '3');
  const leader = run('leader');
  const all = run('endpoints').split(',').map((e) => (e.startsWith('http') ? e : `http://${e}`)).join(',');
  return { name: 'etcd', adapter: ['--adapter', 'etcd'], putUrl: leader.startsWith('http') ? leader : `http://${leader}`, getUrl: all, stop: async () => void run('stop') };
}

const wanted = values.systems.split(',');
const result = { bench: 'kv-vs-etcd', seconds, rounds, value_bytes: 256, keys: 10000 };
log(`workload: 256-byte values over 10,000 keys; ${seconds} s per level and round, ${rounds} round(s) alternating; fsync on for both`);
const systems = [];
try {
  if (wanted.includes('raftkit')) systems.push(await startRaftkit());
  if (wanted.includes('etcd')) {
    const e = await startEtcd();
    if (e) systems.push(e);
  }
  const levels = [...values.concurrency.split(',').map((c) => ['put', Number(c)]), ['get', Number(values['get-concurrency'])]];
  for (const sys of systems) result[sys.name] = [];
  for (const [op, c] of levels) {
    const runs = Object.fromEntries(systems.map((s) => [s.name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      for (const sys of order) runs[sys.name].push(await level(sys, op, c));
    }
    for (const sys of systems) {
      const rs = runs[sys.name];
      result[sys.name].push({
        op,
        concurrency: c,
        ops_per_s: medianOf(rs.map((r) => r.ops_per_s)),
        p50_ms: medianOf(rs.map((r) => r.p50_ms)),
        p99_ms: medianOf(rs.map((r) => r.p99_ms)),
        errors: rs.reduce((n, r) => n + r.errors, 0),
        rounds: rs,
      });
    }
  }
} finally {
  for (const sys of systems) await sys.stop();
}
if (result.raftkit && result.etcd) {
  result.ratio = result.raftkit.map((r, i) => {
    const e = result.etcd[i];
    const perRound = r.rounds.map((x, k) => Math.round((x.ops_per_s / e.rounds[k].ops_per_s) * 100) / 100);
    return { op: r.op, concurrency: r.concurrency, throughput: Math.round((r.ops_per_s / e.ops_per_s) * 100) / 100, p99: Math.round((r.p99_ms / e.p99_ms) * 100) / 100, per_round: perRound };
  });
  log('\n  op   conc   raftkit ops/s   etcd ops/s   ratio (per round)        p99 raftkit/etcd');
  for (const [i, x] of result.ratio.entries()) {
    log(`  ${x.op.padEnd(4)} ${String(x.concurrency).padStart(4)}   ${String(result.raftkit[i].ops_per_s).padStart(13)}   ${String(result.etcd[i].ops_per_s).padStart(10)}   ${String(x.throughput).padStart(5)}x (${x.per_round.join(', ')})   ${result.raftkit[i].p99_ms} / ${result.etcd[i].p99_ms} ms`);
  }
}
console.log(JSON.stringify(result));
process.exit(0);
