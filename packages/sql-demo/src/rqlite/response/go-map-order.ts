// Go's encoding/json writes map keys sorted by their UTF-8 bytes. Code-point order is the same
// order; JS's default sort compares UTF-16 units, which differs for characters above U+FFFF.
import type { JsonWritable } from '../json/lossless-json-stringify.js';

export function compareLikeGo(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i]?.codePointAt(0) ?? 0) - (right[i]?.codePointAt(0) ?? 0);
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/** A Go map[string]T as JSON: keys sorted, a later duplicate key replacing the earlier value. */
export function goMap(entries: Iterable<readonly [string, JsonWritable]>): Map<string, JsonWritable> {
  const byKey = new Map<string, JsonWritable>(entries);
  return new Map([...byKey.entries()].sort(([a], [b]) => compareLikeGo(a, b)));
}
