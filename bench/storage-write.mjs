#!/usr/bin/env node
// bench: storage write throughput with group commit — W concurrent writers, each appending one
// entry (default 256 B) plus its hard state to its own group and awaiting durability before the
// next. SqliteLogStore coalesces whatever queues while a transaction is in flight into the next
// one, so fsyncs/s stays roughly flat while writes/s grows with W.
// Prints JSON as the last line. Build first: npx tsc -b
//
//   node bench/storage-write.mjs [--writers 1,16,64,256] [--seconds S] [--payload B]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteLogStore } from '../packages/framework/dist/src/storage/index.js';

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '1,16,64,256' },
    seconds: { type: 'string', default: '3' },
    payload: { type: 'string', default: '256' },
    json: { type: 'boolean', default: false },
  },
});
const levels = values.writers.split(',').map(Number);
const seconds = Number(values.seconds);
const payload = Number(values.payload);
if (levels.some((w) => !Number.isInteger(w) || w <= 0) || !(seconds > 0) || !Number.isInteger(payload) || payload < 0) {
  console.error('storage-write: --writers must be positive integers, --seconds > 0, --payload >= 0');
  process.exit(2);
}

const data = new Uint8Array(payload).map((_, i) => i & 0xff);
const results = [];
for (const writers of levels) {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-bench-write-'));
  const store = new SqliteLogStore(dir, { onWarning: () => {} });
  await store.open();
  const latencies = [];
  let stop = false;
  const t0 = performance.now();
  const writer = async (w) => {
    const group = `w${w}`;
    for (let index = 1; !stop; index++) {
      const t = performance.now();
      await store.write([{ group, entries: [{ index, term: 1, type: 0, data }], hardState: { term: 1, vote: 1, commit: index } }]);
      latencies.push(performance.now() - t);
    }
  };
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  clearTimeout(timer);
  const secs = (performance.now() - t0) / 1000;
  const st = store.stats();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const pct = (p) => Number(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2));
  const r = {
    writers,
    writes_per_sec: Math.round(st.writes / secs),
    transactions_per_sec: Math.round(st.transactions / secs),
    writes_per_transaction: Number((st.writes / st.transactions).toFixed(1)),
    p50_ms: pct(0.5),
    p99_ms: pct(0.99),
  };
  results.push(r);
  if (!values.json) console.log(`${writers} writers: ${r.writes_per_sec} writes/s, ${r.transactions_per_sec} fsyncs/s (${r.writes_per_transaction} writes each), p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`);
}
console.log(JSON.stringify({ bench: 'storage-write', payload_bytes: payload, seconds, results }));
