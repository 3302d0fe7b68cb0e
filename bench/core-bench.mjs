#!/usr/bin/env node
// bench:core — a 3-node cluster of pure Raft cores over an in-memory, zero-latency transport,
// committing 64-byte entries proposed one by one (the core batches them into appends).
// Compacts the log as it goes, and samples the heap to show memory stays flat.
//
//   npm run bench:core -- [--entries N] [--per-round K] [--payload B] [--json]
import { parseArgs } from 'node:util';
import { MemoryStorage, RawNode, emptyConfState, EntryType } from '@raftkit/framework/core';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '2000000' },
    'per-round': { type: 'string', default: '1024' },
    payload: { type: 'string', default: '64' },
    'compact-every': { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
  },
});
const total = positive('entries');
const perRound = positive('per-round');
const payloadSize = positive('payload');
const compactEvery = positive('compact-every');
function positive(name) {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`bench:core: --${name} must be a positive integer, got ${values[name]}`);
    process.exit(2);
  }
  return v;
}

let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const ids = [1, 2, 3];
const cs = { ...emptyConfState(), voters: ids };
const nodes = new Map();
for (const id of ids) {
  const storage = MemoryStorage.bootstrap(cs);
  nodes.set(id, { id, storage, node: new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage, random, maxInflightMsgs: 4096 }), applied: 0, lastSnap: 0 });
}
let inbox = [];

function processReadies() {
  let any = false;
  for (const n of nodes.values()) {
    while (n.node.hasReady()) {
      any = true;
      const rd = n.node.ready();
      if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
      n.storage.append(rd.entries);
      if (rd.hardState) n.storage.setHardState(rd.hardState);
      for (const m of rd.messages) inbox.push(m);
      for (const e of rd.committedEntries) if (e.type === EntryType.Normal && e.data.length > 0) n.applied++;
      if (rd.committedEntries.length > 0) n.appliedIndex = rd.committedEntries[rd.committedEntries.length - 1].index;
      n.node.advance(rd);
      maybeCompact(n);
    }
  }
  return any;
}

function maybeCompact(n) {
  const applied = n.appliedIndex ?? 0;
  if (applied - n.lastSnap < compactEvery) return;
  n.storage.createSnapshot(applied, n.node.confState(), new Uint8Array(0));
  // Keep a tail so a follower a little behind still catches up from the log.
  n.storage.compact(Math.max(1, applied - 10_000));
  n.lastSnap = applied;
}

function deliver() {
  const batch = inbox;
  inbox = [];
  for (const m of batch) nodes.get(m.to).node.step(m);
  return batch.length > 0;
}

function settle() {
  for (let i = 0; i < 1000; i++) {
    const a = processReadies();
    const b = deliver();
    if (!a && !b) return;
  }
}

const leader = nodes.get(1);
leader.node.campaign();
settle();
if (leader.node.role !== 'leader') throw new Error('node 1 did not become leader');

const payload = new Uint8Array(payloadSize).fill(7);
const heapSamples = [];
const t0 = process.hrtime.bigint();
let proposed = 0;
let rounds = 0;
while (leader.applied < total) {
  const k = Math.min(perRound, total - proposed);
  for (let i = 0; i < k; i++) leader.node.propose(payload);
  proposed += k;
  // One round: every node handles its ready, then every message is delivered.
  processReadies();
  deliver();
  rounds++;
  if (rounds % 100 === 0) heapSamples.push(process.memoryUsage().heapUsed);
  if (k === 0) settle();
}
settle();
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const mb = (b) => Math.round(b / 1048576);
const result = {
  bench: 'core',
  nodes: 3,
  payload_bytes: payloadSize,
  entries: leader.applied,
  seconds: Number(secs.toFixed(3)),
  entries_per_sec: Math.round(leader.applied / secs),
  heap_mb_first: heapSamples.length ? mb(heapSamples[0]) : null,
  heap_mb_last: heapSamples.length ? mb(heapSamples[heapSamples.length - 1]) : null,
  heap_mb_max: heapSamples.length ? mb(Math.max(...heapSamples)) : null,
  followers_applied: [...nodes.values()].filter((n) => n.id !== 1).map((n) => n.applied),
};
if (!values.json) {
  console.log(`committed ${result.entries} entries of ${payloadSize} B in ${result.seconds}s: ${result.entries_per_sec} entries/s`);
  console.log(`heap (MB) first/last/max sample: ${result.heap_mb_first}/${result.heap_mb_last}/${result.heap_mb_max}`);
}
console.log(JSON.stringify(result));
