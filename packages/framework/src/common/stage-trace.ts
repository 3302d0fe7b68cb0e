// Opt-in timestamps of the stages a write goes through on every node (HTTP, propose, the round,
// the hand-off to the storage worker, durability, peer messages, apply, answer), for the latency
// breakdown in bench/README.md (bench/stage-trace.mjs starts a cluster with it and reads the
// files). RAFTKIT_TRACE_STAGES=<dir> makes each process append `<epoch ms> <stage> [detail]` lines
// to <dir>/<pid>.trace, written in batches off the measured path. Unset (always, in production)
// a mark costs one branch; callers build details only `if (stageTracing)`.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const dir = process.env['RAFTKIT_TRACE_STAGES'];
/** Whether this process records stages. */
export const stageTracing = dir !== undefined && dir !== '';

const FLUSH_MS = 250;
let lines: string[] = [];
let fd: number | undefined;

function flush(): void {
  if (lines.length === 0) return;
  if (fd === undefined) {
    mkdirSync(dir!, { recursive: true });
    fd = openSync(join(dir!, `${process.pid}.trace`), 'a');
  }
  writeSync(fd, `${lines.join('\n')}\n`);
  lines = [];
}

if (stageTracing) {
  setInterval(flush, FLUSH_MS).unref();
  process.on('exit', () => {
    flush();
    if (fd !== undefined) closeSync(fd);
  });
}

/** Records that this process reached `stage` now (no-op unless tracing). */
export function traceStage(stage: string, detail?: string | number): void {
  if (!stageTracing) return;
  const at = (performance.timeOrigin + performance.now()).toFixed(3);
  lines.push(detail === undefined ? `${at} ${stage}` : `${at} ${stage} ${detail}`);
}
