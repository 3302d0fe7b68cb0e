import type { SnapshotHistory } from './types.js';

const isUint32 = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Whether `h` is a snapshot's history checksums at `index`: a chain starting at or before it, two unsigned 32-bit values. */
export function isSnapshotHistory(h: unknown, index: number): h is SnapshotHistory {
  if (typeof h !== 'object' || h === null) return false;
  const { from, termChecksum, dataChecksum } = h as Partial<SnapshotHistory>;
  return typeof from === 'number' && Number.isSafeInteger(from) && from >= 0 && from <= index && isUint32(termChecksum) && isUint32(dataChecksum);
}
