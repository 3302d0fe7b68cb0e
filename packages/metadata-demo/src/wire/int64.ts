// 64-bit integers between the wire (decimal strings) and the etcd types: revisions, counts and
// TTLs as numbers (far below 2^53 in practice; a larger value keeps its magnitude, which is all
// a bound or a future revision needs), lease and member ids as exact bigints.
import type { Int64 } from './wire-types.js';

type Maybe<T> = T | null | undefined;

/** A wire int64 as a number (0 when absent). */
export function toNumber(v: Maybe<Int64>): number {
  if (v === null || v === undefined || v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** A wire int64/uint64 as an exact bigint (0n when absent). */
export function toBigInt(v: Maybe<Int64>): bigint {
  if (v === null || v === undefined || v === '') return 0n;
  return BigInt(v);
}

/** A number or bigint as the decimal string the wire carries. */
export function int64(v: number | bigint): Int64 {
  return typeof v === 'bigint' ? v.toString() : String(Math.trunc(v));
}

/** A lease id as etcd's int64 field carries it: ids above 2^63 - 1 wrap to negative (a uint64 id read as int64). */
export function leaseId(v: bigint): Int64 {
  return BigInt.asIntN(64, v).toString();
}

/** A member or cluster id as etcd's uint64 fields carry it. */
export function uint64(v: bigint): Int64 {
  return BigInt.asUintN(64, v).toString();
}
