#!/usr/bin/env node
// bench: where a put's time goes. Starts a 3-node raftkit-kv cluster with stage tracing on
// (RAFTKIT_TRACE_STAGES, packages/framework/src/common/stage-trace.ts), loads its leader with the
// shared load generator at each concurrency, and follows every log entry across the three nodes:
// HTTP, propose, the leader's round, the hand-off to its storage worker, the Appends sent, each
// follower's receive, round, hand-off, durability and answer, the leader's durability, the first
// acknowledgement, apply, the proposal's completion and the HTTP answer. Prints, per level, the
// median time of each stage from the request's arrival (and the p90), with the loadgen's own
// figures; the last line is JSON. Tracing costs a little (a line per stage, written in batches).
//
//   npm run bench:stages [-- --concurrency 1,16 --seconds 5 --json]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { freePorts, root, runLoadgen, sleep, track } from './lib.mjs';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,16' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const LEVELS = values.concurrency.split(',').map(Number);
const SECONDS = Number(values.seconds);
if (LEVELS.some((c) => !Number.isInteger(c) || c < 1) || !(SECONDS > 0)) {
  console.error('bench:stages: --concurrency must be positive integers, --seconds > 0');
  process.exit(2);
}
const log = (...a) => {
  if (!values.json) console.log(...a);
};
const KV_BIN = join(root, 'packages/kv-demo/bin/raftkit-kv.js');
const SPEC = join(root, '../shared/bench/specs/raftkit-kv.json');
const work = mkdtempSync(join(tmpdir(), 'raftkit-stages-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

async function startCluster(traceDir) {
  const ports = await freePorts(3);
  const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
  const procs = ports.map((p, i) =>
    track(
      spawn(
        process.execPath,
        [KV_BIN, '--id', String(i + 1), '--listen', `127.0.0.1:${p}`, '--peers', peers, '--data-dir', join(traceDir, `data-n${i + 1}`), '--log-level', 'error'],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: { ...process.env, RAFTKIT_TRACE_STAGES: join(traceDir, 'trace') },
        },
      ),
    ),
  );
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  for (let i = 0; i < 200; i++) {
    for (let n = 0; n < 3; n++) {
      try {
        const r = await fetch(`${urls[n]}/v1/status`);
        const s = await r.json();
        const g = s.groups?.find((x) => x.group === 'kv');
        if (g?.role === 'leader') return { procs, urls, leader: n };
      } catch {
        // starting
      }
    }
    await sleep(100);
  }
  throw new Error('no leader within 20 s');
}

function readTraces(dir, pidToNode) {
  const byNode = new Map();
  for (const f of readdirSync(dir)) {
    const node = pidToNode.get(Number(f.replace('.trace', '')));
    if (node === undefined) continue;
    const events = [];
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [t, stage, detail] = line.split(' ');
      if (!stage) continue;
      events.push({ t: Number(t), stage, detail });
    }
    events.sort((a, b) => a.t - b.t);
    byNode.set(node, events);
  }
  return byNode;
}

/** The last index a detail covers: "a-b" -> b, "n" -> n. */
const upper = (d) => (d && d !== '-' && d !== 'reject' ? Number(d.includes('-') ? d.split('-')[1] : d) : -1);
const lower = (d) => (d && d !== '-' && d !== 'reject' ? Number(d.split('-')[0]) : Infinity);

/** For each index in `indexes` (ascending, with a start time), the first event of `stage` at or after the start that covers it. */
function firstCovering(events, stage, items, { range = false } = {}) {
  const list = events.filter((e) => e.stage === stage);
  const out = new Map();
  let j = 0;
  for (const { index, from } of items) {
    while (j < list.length && (list[j].t < from || upper(list[j].detail) < index)) j++;
    // A range must also start at or below the index (an Append of later entries does not carry it).
    let k = j;
    if (range) while (k < list.length && lower(list[k].detail) > index) k++;
    if (k < list.length) out.set(index, list[k].t);
  }
  return out;
}

function firstAfter(events, stage, items) {
  const list = events.filter((e) => e.stage === stage);
  const out = new Map();
  let j = 0;
  for (const { index, from } of items) {
    while (j < list.length && list[j].t < from) j++;
    if (j < list.length) out.set(index, list[j].t);
  }
  return out;
}

function lastBefore(events, stage, items) {
  const list = events.filter((e) => e.stage === stage);
  const out = new Map();
  let j = 0;
  for (const { index, from } of items) {
    while (j + 1 < list.length && list[j + 1].t <= from) j++;
    if (list[j] && list[j].t <= from) out.set(index, list[j].t);
  }
  return out;
}

function quantile(xs, q) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function analyse(byNode, leader) {
  const L = byNode.get(leader);
  const followers = [...byNode.keys()].filter((n) => n !== leader);
  const proposals = L.filter((e) => e.stage === 'propose').map((e) => ({ index: Number(e.detail), from: e.t }));
  // Skip the warm-up and the tail (entries cut off by the end of the run).
  const items = proposals.slice(Math.floor(proposals.length * 0.1), Math.floor(proposals.length * 0.95));
  const start = new Map(items.map((x) => [x.index, x.from]));
  const stages = [];
  const add = (name, where, m) => stages.push({ name, where, m });
  add('request arrived (HTTP)', 'leader', lastBefore(L, 'http', items));
  add('proposed', 'leader', start);
  add('round started', 'leader', firstAfter(L, 'round', items));
  add('write handed to the storage worker', 'leader', firstCovering(L, 'handed', items));
  add('Appends sent', 'leader', firstCovering(L, 'sent-Append', items, { range: true }));
  add('storage worker took the write', 'leader', firstCovering(L, 'worker-got', items));
  add('storage worker committed', 'leader', firstCovering(L, 'worker-committed', items));
  add('own write durable', 'leader', firstCovering(L, 'written', items));
  for (const f of followers) {
    const F = byNode.get(f);
    const recv = firstCovering(F, 'recv-Append', items, { range: true });
    const afterRecv = items.filter((x) => recv.has(x.index)).map((x) => ({ index: x.index, from: recv.get(x.index) }));
    add('Append received', `follower ${f}`, recv);
    add('round started', `follower ${f}`, firstAfter(F, 'round', afterRecv));
    add('write handed to the storage worker', `follower ${f}`, firstCovering(F, 'handed', afterRecv));
    add('storage worker took the write', `follower ${f}`, firstCovering(F, 'worker-got', afterRecv));
    add('storage worker committed', `follower ${f}`, firstCovering(F, 'worker-committed', afterRecv));
    add('write durable', `follower ${f}`, firstCovering(F, 'written', afterRecv));
    add('AppendResponse sent', `follower ${f}`, firstCovering(F, 'sent-AppendResponse', afterRecv));
  }
  add('first AppendResponse received', 'leader', firstCovering(L, 'recv-AppendResponse', items));
  add('applied', 'leader', firstCovering(L, 'apply', items, { range: true }));
  const done = new Map();
  for (const e of L) if (e.stage === 'done' && start.has(Number(e.detail))) done.set(Number(e.detail), e.t);
  add('proposal completed', 'leader', done);
  add(
    'answer written (HTTP)',
    'leader',
    firstAfter(
      L,
      'respond',
      items.filter((x) => done.has(x.index)).map((x) => ({ index: x.index, from: done.get(x.index) })),
    ),
  );
  const arrival = stages[0].m;
  return stages.map(({ name, where, m }) => {
    const offsets = [];
    for (const { index } of items) {
      const t0 = arrival.get(index) ?? start.get(index);
      const t = m.get(index);
      if (t !== undefined && t0 !== undefined) offsets.push(t - t0);
    }
    return { stage: name, node: where, p50_ms: round3(quantile(offsets, 0.5)), p90_ms: round3(quantile(offsets, 0.9)), entries: offsets.length };
  });
}

const round3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);

const results = [];
for (const c of LEVELS) {
  const dir = join(work, `c${c}`);
  const cluster = await startCluster(dir);
  const url = cluster.urls[cluster.leader];
  await runLoadgen([
    '--adapter',
    'generic',
    '--spec',
    SPEC,
    '--url',
    url,
    '--op',
    'put',
    '-c',
    String(c),
    '-t',
    String(SECONDS),
    '-n',
    '100000000',
    '--warmup',
    '1',
    '--keys',
    '10000',
    '--value-size',
    '256',
    '--label',
    `traced put c${c}`,
  ]).then((r) => {
    cluster.load = r;
  });
  const pidToNode = new Map(cluster.procs.map((p, i) => [p.pid, i + 1]));
  for (const p of cluster.procs) p.kill('SIGTERM');
  await Promise.all(cluster.procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.on('exit', r)))));
  const stages = analyse(readTraces(join(dir, 'trace'), pidToNode), cluster.leader + 1);
  const r = cluster.load;
  log(`\nc${c}: ${r.ops_per_s} puts/s, loadgen p50 ${r.lat_ms.p50} ms, p99 ${r.lat_ms.p99} ms (traced; leader node ${cluster.leader + 1})`);
  log('  p50 ms   p90 ms  stage');
  for (const s of stages) log(`  ${String(s.p50_ms ?? '-').padStart(6)}   ${String(s.p90_ms ?? '-').padStart(6)}  ${s.node}: ${s.stage}`);
  results.push({ concurrency: c, ops_per_s: r.ops_per_s, lat_ms: r.lat_ms, leader: cluster.leader + 1, stages });
}
console.log(JSON.stringify({ bench: 'stage-trace', seconds: SECONDS, node: process.version, date: new Date().toISOString(), results }));
