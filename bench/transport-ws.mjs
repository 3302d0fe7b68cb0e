#!/usr/bin/env node
// bench: WebSocket transport over loopback — two WsTransports in one process (so the figure
// includes both ends' CPU). Rounds of --batch small messages (heartbeats across --groups
// groups) are sent with at most --window rounds in flight; then a --snapshot-mb snapshot is
// streamed while heartbeats keep flowing. The last line is JSON.
//
//   npm run build && node bench/transport-ws.mjs [--rounds N] [--batch N] [--groups G] [--window W] [--snapshot-mb M]
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WsTransport } from '../packages/framework/dist/src/transport/ws-transport.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '100' },
    groups: { type: 'string', default: '100' },
    window: { type: 'string', default: '64' },
    'snapshot-mb': { type: 'string', default: '64' },
  },
});
const num = (name) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`transport-ws: --${name} must be a positive integer, got ${values[name]}`);
    process.exit(2);
  }
  return v;
};
const rounds = num('rounds');
const batchSize = num('batch');
const groups = num('groups');
const windowSize = num('window');
const snapshotMb = num('snapshot-mb');

async function node(id, events) {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const t = new WsTransport({ selfId: id, server, token: 'bench' });
  await t.start(events);
  return { server, t, address: `127.0.0.1:${server.address().port}` };
}

let received = 0;
let snapshotDone = null;
const noop = () => {};
const a = await node(1, { onMessages: noop, onUnreachable: () => { throw new Error('unexpected drop'); }, onSnapshotStatus: (_g, _to, ok) => snapshotDone?.(ok) });
const b = await node(2, { onMessages: (_from, batch) => { received += batch.length; }, onUnreachable: noop, onSnapshotStatus: noop });
a.t.setPeer(2, b.address);

const hb = (i) => ({ group: `group-${i % groups}`, message: { type: 17, from: 1, to: 2, term: 3, logTerm: 0, index: 0, entries: [], commit: i, reject: false, rejectHint: 0, leaseTick: i } });
const batches = Array.from({ length: 16 }, (_, r) => Array.from({ length: batchSize }, (_, i) => hb(r * batchSize + i)));

// Warm up the connection.
a.t.send(batches[0]);
while (received < batchSize) await new Promise((r) => setImmediate(r));
received = 0;

const t0 = performance.now();
let sent = 0;
while (sent < rounds) {
  while (sent < rounds && sent - received / batchSize < windowSize) a.t.send(batches[sent++ % 16]);
  await new Promise((r) => setImmediate(r));
}
while (received < rounds * batchSize) await new Promise((r) => setImmediate(r));
const secs = (performance.now() - t0) / 1000;
const msgsPerSec = Math.round((rounds * batchSize) / secs);
const framesPerSec = Math.round(rounds / secs);
console.log(`small messages: ${(rounds * batchSize).toLocaleString('en-US')} in ${secs.toFixed(2)} s = ${msgsPerSec.toLocaleString('en-US')} msg/s (${framesPerSec.toLocaleString('en-US')} frames/s)`);

const data = new Uint8Array(snapshotMb << 20).fill(7);
const confState = { voters: [1, 2], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false };
const s0 = performance.now();
const before = received;
const done = new Promise((r) => (snapshotDone = r));
a.t.send([{ group: 'snap', message: { type: 16, from: 1, to: 2, term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, snapshot: { metadata: { index: 9, term: 3, confState }, data } } }]);
let finished = false;
void done.then(() => (finished = true));
let maxGap = 0;
let last = performance.now();
while (!finished) {
  a.t.send([hb(1)]);
  await new Promise((r) => setTimeout(r, 1));
  const now = performance.now();
  maxGap = Math.max(maxGap, now - last);
  last = now;
}
const ok = await done;
const ssecs = (performance.now() - s0) / 1000;
const snapMBps = +((snapshotMb * 1048576) / ssecs / 1e6).toFixed(0);
const during = received - before - 1;
console.log(`snapshot: ${snapshotMb} MiB ${ok ? 'acked' : 'FAILED'} in ${(ssecs * 1000).toFixed(0)} ms = ${snapMBps} MB/s; ${during} heartbeats delivered meanwhile; max event-loop gap ${maxGap.toFixed(1)} ms`);

await a.t.close();
await b.t.close();
a.server.close();
b.server.close();
console.log(JSON.stringify({ bench: 'transport-ws', node: process.version, batch: batchSize, groups, smallMsgsPerSec: msgsPerSec, framesPerSec, snapshotMiB: snapshotMb, snapshotMBPerSec: snapMBps, snapshotOk: ok, heartbeatsDuringSnapshot: during, maxLoopGapMs: +maxGap.toFixed(1) }));
