// etcd's check that a txn does not write a key twice (checkIntervals in etcd's v3rpc/key.go):
// within one branch, no two puts of the same key and no put inside a deleted range, counting
// nested txns (whose then and else branches exclude each other, so they may put the same key).
// A delete range may overlap other deletes. Refused with "duplicate key given in txn request".
import type { RequestOp } from '../api/etcd-types.js';
import { MetaError } from '../api/meta-error.js';

/** A deleted range [from, to), `to` undefined: up to the end of the key space. */
interface Range {
  from: Buffer;
  to: Buffer | undefined;
}

const ONE_ZERO = Buffer.from([0]);

function deletedRange(key: Buffer, rangeEnd: Buffer): Range {
  if (rangeEnd.length === 0) return { from: key, to: Buffer.concat([key, ONE_ZERO]) };
  if (rangeEnd.equals(ONE_ZERO)) return { from: key, to: undefined };
  return { from: key, to: rangeEnd };
}

function inside(key: Buffer, ranges: readonly Range[]): boolean {
  return ranges.some((r) => Buffer.compare(key, r.from) >= 0 && (r.to === undefined || Buffer.compare(key, r.to) < 0));
}

/** The keys put and ranges deleted by a branch, or MetaError duplicate_key. */
function collect(ops: readonly RequestOp[]): { puts: Set<string>; dels: Range[] } {
  const dels: Range[] = [];
  for (const op of ops) if ('deleteRange' in op) dels.push(deletedRange(op.deleteRange.key, op.deleteRange.rangeEnd));

  const puts = new Set<string>();
  const conflict = (k: string) => puts.has(k) || inside(Buffer.from(k, 'latin1'), dels);
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = collect(op.txn.success);
    const otherwise = collect(op.txn.failure);
    for (const k of then.puts) {
      if (conflict(k)) throw new MetaError('duplicate_key');
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || inside(Buffer.from(k, 'latin1'), dels)) throw new MetaError('duplicate_key');
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (!('put' in op)) continue;
    const k = op.put.key.toString('latin1');
    if (conflict(k)) throw new MetaError('duplicate_key');
    puts.add(k);
  }
  return { puts, dels };
}

/** Throws MetaError duplicate_key when a branch of the txn writes a key twice. */
export function checkTxnIntervals(success: readonly RequestOp[], failure: readonly RequestOp[]): void {
  collect(success);
  collect(failure);
}
