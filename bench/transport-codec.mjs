#!/usr/bin/env node
// bench: transport codec — encode + decode throughput of the peer wire format.
// Frames of --batch messages across --groups groups (one frame per round per peer, as the
// transport sends them). Workloads: heartbeats (no entries), appends carrying --entries
// entries of --payload bytes each, and snapshot chunks (MB/s). The last line is JSON.
//
//   npm run build && node bench/transport-codec.mjs [--seconds S] [--batch N] [--groups G] [--entries E] [--payload B]
import { parseArgs } from 'node:util';
import { decodeFrame, encodeMessages, encodeSnapshotChunk } from '../packages/framework/dist/src/transport/codec.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    batch: { type: 'string', default: '100' },
    groups: { type: 'string', default: '10' },
    entries: { type: 'string', default: '4' },
    payload: { type: 'string', default: '64' },
  },
});
const num = (name) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`transport-codec: --${name} must be a positive number, got ${values[name]}`);
    process.exit(2);
  }
  return v;
};
const seconds = num('seconds');
const batchSize = num('batch');
const groupCount = num('groups');
const entriesPerMsg = num('entries');
const payload = num('payload');

const HEARTBEAT = 17;
const APPEND = 10;
const payloadBytes = new Uint8Array(payload).map((_, i) => i * 31);

function makeBatch(kind, round) {
  const out = [];
  for (let i = 0; i < batchSize; i++) {
    const base = 1_000_000 + round * batchSize * entriesPerMsg + i * entriesPerMsg;
    const m = { type: kind, from: 1, to: 2, term: 7, logTerm: 7, index: base, entries: [], commit: base - 10, reject: false, rejectHint: 0 };
    if (kind === HEARTBEAT) m.leaseTick = 123456 + round;
    else for (let e = 0; e < entriesPerMsg; e++) m.entries.push({ term: 7, index: base + e + 1, type: 0, data: payloadBytes });
    out.push({ group: `group-${i % groupCount}`, message: m });
  }
  return out;
}

function measure(label, kind) {
  const batches = Array.from({ length: 16 }, (_, r) => makeBatch(kind, r));
  // Warm up.
  for (let i = 0; i < 200; i++) decodeFrame(encodeMessages(batches[i % 16]));
  let frames = 0;
  let bytes = 0;
  let encNs = 0n;
  let decNs = 0n;
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    for (let k = 0; k < 16; k++) {
      const t0 = process.hrtime.bigint();
      const f = encodeMessages(batches[k]);
      const t1 = process.hrtime.bigint();
      const d = decodeFrame(f);
      const t2 = process.hrtime.bigint();
      if (d.envelopes.length !== batchSize) throw new Error('bad decode');
      encNs += t1 - t0;
      decNs += t2 - t1;
      frames++;
      bytes += f.length;
    }
  }
  const msgs = frames * batchSize;
  const encS = Number(encNs) / 1e9;
  const decS = Number(decNs) / 1e9;
  const r = {
    workload: label,
    messages: msgs,
    bytesPerMessage: +(bytes / msgs).toFixed(1),
    encodeMsgsPerSec: Math.round(msgs / encS),
    decodeMsgsPerSec: Math.round(msgs / decS),
    roundTripMsgsPerSec: Math.round(msgs / (encS + decS)),
    roundTripMBPerSec: +(bytes / (encS + decS) / 1e6).toFixed(1),
  };
  console.log(
    `${label.padEnd(28)} ${r.bytesPerMessage.toString().padStart(6)} B/msg  encode ${fmt(r.encodeMsgsPerSec)} msg/s  decode ${fmt(r.decodeMsgsPerSec)} msg/s  ` +
      `encode+decode ${fmt(r.roundTripMsgsPerSec)} msg/s (${r.roundTripMBPerSec} MB/s)`,
  );
  return r;
}

function measureChunks() {
  const data = new Uint8Array(256 << 10).fill(5);
  let bytes = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let off = 0;
  while (performance.now() < deadline) {
    for (let k = 0; k < 16; k++) {
      const f = encodeSnapshotChunk(1, off, data);
      const d = decodeFrame(f);
      if (d.data.length !== data.length) throw new Error('bad chunk');
      off += data.length;
      bytes += f.length;
    }
  }
  const mbps = +(bytes / ((performance.now() - t0) / 1000) / 1e6).toFixed(0);
  console.log(`${'snapshot chunks (256 KiB)'.padEnd(28)} encode+decode ${mbps} MB/s`);
  return { workload: 'snapshot-chunk-256k', roundTripMBPerSec: mbps };
}

const fmt = (n) => n.toLocaleString('en-US');
console.log(`transport codec: ${batchSize} messages/frame over ${groupCount} groups, ${seconds}s per workload, node ${process.version}`);
const results = [
  measure('heartbeats', HEARTBEAT),
  measure(`appends ${entriesPerMsg}x${payload}B entries`, APPEND),
  measureChunks(),
];
console.log(JSON.stringify({ bench: 'transport-codec', node: process.version, batch: batchSize, groups: groupCount, results }));
