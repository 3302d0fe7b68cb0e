import { HASH_START, mixBytes } from '../../src/sim/hash.js';

/** A 32-bit fingerprint of a trace, to compare two runs cheaply. */
export function hashTrace(lines: string[]): number {
  const enc = new TextEncoder();
  let h = HASH_START;
  for (const l of lines) h = mixBytes(h, enc.encode(l));
  return h;
}
