#!/usr/bin/env node
// bench: storage restart — writes a log of N entries (default 1,000,000 x 256 B) into a fresh
// SqliteLogStore in a temp dir, closes it, then times open(): every group's hard state,
// membership, snapshot metadata and all entries loaded and checksum-verified.
// Prints JSON as the last line. Build first: npx tsc -b
//
//   node bench/storage-restart.mjs [--entries N] [--payload B] [--groups G] [--runs R] [--quick-check]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteLogStore } from '../packages/framework/dist/src/storage/index.js';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    payload: { type: 'string', default: '256' },
    groups: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    'quick-check': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const total = Number(values.entries);
const payload = Number(values.payload);
const groups = Number(values.groups);
const runs = Number(values.runs);
for (const [k, v] of Object.entries({ entries: total, payload, groups, runs })) {
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`storage-restart: --${k} must be a positive integer`);
    process.exit(2);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'raftkit-bench-restart-'));
try {
  // 1. Write the log: batches of up to 10,000 entries per group per write.
  const w = new SqliteLogStore(dir, { onWarning: () => {} });
  await w.open();
  const data = new Uint8Array(payload);
  for (let i = 0; i < payload; i++) data[i] = (i * 31) & 0xff;
  const perGroup = Math.ceil(total / groups);
  const tw = performance.now();
  let written = 0;
  for (let start = 1; written < total; start += 10_000) {
    const batch = [];
    for (let g = 0; g < groups && written < total; g++) {
      const n = Math.min(10_000, perGroup - (start - 1), total - written);
      if (n <= 0) continue;
      const entries = new Array(n);
      for (let i = 0; i < n; i++) entries[i] = { index: start + i, term: 1, type: 0, data };
      batch.push({ group: `group-${g}`, entries, hardState: { term: 1, vote: 1, commit: start + n - 1 } });
      written += n;
    }
    await w.write(batch);
  }
  const writeSecs = (performance.now() - tw) / 1000;
  await w.close();
  const size = await new SqliteLogStore(dir).sizeOnDisk();

  // 2. Reopen, timed (includes starting the worker thread).
  const opens = [];
  const cpus = [];
  let info;
  for (let r = 0; r < runs; r++) {
    const s = new SqliteLogStore(dir, { onWarning: () => {}, quickCheckMaxBytes: values['quick-check'] ? Infinity : 0 });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const rec = await s.open();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpus.push(Math.round((c.user + c.system) / 1000));
    const n = rec.reduce((a, g) => a + g.entries.length, 0);
    if (n !== total) throw new Error(`recovered ${n} entries, wrote ${total}`);
    opens.push(Math.round(ms));
    info = s.openInfo;
    await s.close();
  }
  const result = {
    bench: 'storage-restart',
    entries: total,
    payload_bytes: payload,
    groups,
    db_mb: Math.round(size / 1048576),
    write_seconds: Number(writeSecs.toFixed(2)),
    open_ms_runs: opens,
    open_ms_best: Math.min(...opens),
    open_ms_median: [...opens].sort((a, b) => a - b)[Math.floor(opens.length / 2)],
    // CPU time of the whole process (both threads) during open(): steadier than wall time on a shared machine.
    open_cpu_ms_runs: cpus,
    worker_load_ms: info.loadMs,
    quick_check_ms: info.quickCheckMs,
  };
  if (!values.json) console.log(`opened ${total} entries of ${payload} B (${result.db_mb} MiB) in ${opens.join(' / ')} ms`);
  console.log(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
