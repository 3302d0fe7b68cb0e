// A fingerprint of a trace (the lines `npm run sim -- --trace` prints), to compare two runs
// cheaply: the CLI, the tests and the browser emulator hash the same lines the same way.

import { HASH_START, mixBytes } from './hash.js';

/** A 32-bit fingerprint of trace lines, in order. */
export function hashTrace(lines: Iterable<string>): number {
  const enc = new TextEncoder();
  let h = HASH_START;
  for (const l of lines) h = mixBytes(h, enc.encode(l));
  return h;
}

/** Folds lines one at a time, as a run produces them. */
export class TraceHasher {
  private readonly enc = new TextEncoder();
  value = HASH_START;
  lines = 0;

  add(line: string): void {
    this.value = mixBytes(this.value, this.enc.encode(line));
    this.lines++;
  }

  /** The fingerprint as 8 hex digits, the form sessions and the CLI print. */
  get hex(): string {
    return this.value.toString(16).padStart(8, '0');
  }
}
