#!/usr/bin/env node
// bench:cluster — real NodeHost processes on 127.0.0.1 with fsync on (SQLite, synchronous=FULL).
//
//   npm run bench:cluster -- [--phase throughput,idle,restart] [--seconds 8] [--json]
//
// throughput: 3 processes, proposals of 256 B through the leader at 1, 16, 64 and 256 concurrent
//             proposers (the shared load generator, ../shared/bench/loadgen.mjs); ops/s, p50/p99.
// idle:       3 processes with 1,000 groups; once every group is quiesced, each process's CPU use
//             over 10 s, as a share of one core.
// restart:    one node whose log holds 1,000,000 entries of 256 B (written straight into its data
//             dir); the time from spawning it to its first acknowledged proposal.
// Every child is ended by PID when a phase ends (and on any error).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { children, freePorts, LOADGEN, root, runLoadgen, sleep } from './lib.mjs';

const NODE = join(root, 'test/dist/fixtures/list-node.js');
const { values } = parseArgs({
  options: {
    phase: { type: 'string', default: 'throughput,idle,restart' },
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '1,16,64,256' },
    'restart-entries': { type: 'string', default: '1000000' },
    json: { type: 'boolean', default: false },
  },
});
const phases = values.phase.split(',');
const seconds = Number(values.seconds);
if (!existsSync(NODE)) fail(`build first (npm run build): ${NODE} is missing`);

function fail(msg) {
  console.error(`bench:cluster: ${msg}`);
  process.exit(2);
}
const log = (...a) => {
  if (!values.json) console.log(...a);
};


function startNode(id, ports, dir, extra = []) {
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const child = spawn(process.execPath, [NODE, '--id', String(id), '--listen', `127.0.0.1:${ports[id - 1]}`, '--peers', peers, '--data-dir', join(dir, `n${id}`), '--log-level', 'error', '--machine', 'checksum', ...extra], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function getJson(port, path) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}

async function waitFor(f, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function leaderPort(ports, group = 'g') {
  for (const p of ports) {
    const st = await getJson(p, `/state?group=${group}`).catch(() => undefined);
    if (st?.role === 'leader') return p;
  }
  return undefined;
}


function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(parts[11]) + Number(parts[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

async function throughput() {
  if (!existsSync(LOADGEN)) fail(`the load generator is missing: ${LOADGEN}`);
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-bench-'));
  const ports = await freePorts(3);
  const procs = [1, 2, 3].map((id) => startNode(id, ports, dir));
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({ headers: { 'content-type': 'application/octet-stream' }, put: { method: 'POST', url: '{base}/propose?group=g', body: '{value}', ok: [200] } }));
  try {
    const port = await waitFor(() => leaderPort(ports), 20_000, 'a leader');
    const rows = [];
    for (const c of values.concurrency.split(',').map(Number)) {
      const r = await runLoadgen(['--adapter', 'generic', '--spec', spec, '--url', `http://127.0.0.1:${port}`, '--op', 'put', '-c', String(c), '-t', String(seconds), '-n', '100000000', '--warmup', '1', '--value-size', '256', '--label', `c${c}`]);
      rows.push({ concurrency: c, ops_per_s: r.ops_per_s, p50_ms: r.lat_ms.p50, p99_ms: r.lat_ms.p99, errors: r.errors });
      log(`  c=${String(c).padStart(3)}  ${String(r.ops_per_s).padStart(7)} ops/s  p50 ${r.lat_ms.p50} ms  p99 ${r.lat_ms.p99} ms  errors ${r.errors}`);
    }
    return rows;
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function idle() {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-bench-'));
  const ports = await freePorts(3);
  const procs = [1, 2, 3].map((id) => startNode(id, ports, dir, ['--groups', '1000', '--tick-ms', '100', '--quiesce-ticks', '50']));
  try {
    await waitFor(async () => {
      const st = await Promise.all(ports.map((p) => getJson(p, '/status')));
      return st.every((s) => s.groups.length === 1000 && s.groups.every((g) => g.quiesced && g.leader !== 0));
    }, 180_000, 'every group to elect a leader and quiesce');
    const before = procs.map((p) => cpuSeconds(p.pid));
    const t0 = Date.now();
    await sleep(10_000);
    const wall = (Date.now() - t0) / 1000;
    const pct = procs.map((p, i) => Math.round(((cpuSeconds(p.pid) - before[i]) / wall) * 1000) / 10);
    log(`  idle CPU with 1,000 quiesced groups: ${pct.map((x) => `${x}%`).join(', ')} of one core per process`);
    return { groups: 1000, cpu_pct_per_process: pct };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function restart() {
  const entries = Number(values['restart-entries']);
  const { SqliteLogStore, SnapshotStore } = await import('@raftkit/framework/storage');
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-bench-'));
  const dataDir = join(dir, 'n1');
  try {
    const confState = { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false };
    const base = { index: 1, term: 1, confState };
    const store = new SqliteLogStore(dataDir);
    await store.open();
    await new SnapshotStore(dataDir).save('g', base, Buffer.from(JSON.stringify({ count: 0, hash: '' })));
    await store.write([{ group: 'g', type: 'list', snapshot: base, entries: [], hardState: { term: 1, vote: 0, commit: 1 } }]);
    const payload = new Uint8Array(256).fill(97);
    const batch = 20_000;
    for (let i = 0; i < entries; i += batch) {
      const ents = [];
      for (let j = i; j < Math.min(entries, i + batch); j++) ents.push({ term: 2, index: j + 2, type: 0, data: payload });
      await store.write([{ group: 'g', entries: ents, hardState: { term: 2, vote: 1, commit: Math.min(entries, i + batch) + 1 } }]);
    }
    await store.close();
    const [port] = await freePorts(1);
    const t0 = performance.now();
    const child = spawn(process.execPath, [NODE, '--id', '1', '--listen', `127.0.0.1:${port}`, '--peers', `1=127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', 'error', '--machine', 'checksum', '--snapshot-entries', String(entries * 2)], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.add(child);
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/propose?group=g`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(5000) });
      return res.status === 200;
    }, 60_000, 'the restarted node to acknowledge a proposal');
    const ms = Math.round(performance.now() - t0);
    const st = await getJson(port, '/state?group=g');
    child.kill('SIGKILL');
    log(`  restart with ${entries} entries in the log: first acknowledged proposal after ${ms} ms (applied ${st.count})`);
    return { entries, serving_after_ms: ms, applied: st.count };
  } finally {
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

const result = { bench: 'cluster' };
if (phases.includes('throughput')) {
  log('throughput (3 processes, fsync on, 256 B proposals to the leader):');
  result.throughput = await throughput();
}
if (phases.includes('idle')) {
  log('idle:');
  result.idle = await idle();
}
if (phases.includes('restart')) {
  log('restart:');
  result.restart = await restart();
}
console.log(JSON.stringify(result));
process.exit(0);
