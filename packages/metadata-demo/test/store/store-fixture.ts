// A store in a temporary folder, driven with etcd's requests as the machine drives it: each call
// is one entry (its own index), errors are MetaErrors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest } from '../../src/api/etcd-types.js';
import { deleteRequest, putRequest, rangeRequest, txnRequest } from '../../src/api/request-builders.js';
import type { EntryWriter } from '../../src/store/entry-writer.js';
import { applyDeleteRange, applyPut, applyTxn } from '../../src/store/kv-ops.js';
import { MvccStore } from '../../src/store/mvcc-store.js';
import { checkDeleteRange, checkPut, checkTxn } from '../../src/store/request-rules.js';
import type { DeleteRangeResult, PutResult, RangeResult, RevisionChanges, TxnResult } from '../../src/store/store-types.js';

export class StoreFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'meta-store-'));
  store = new MvccStore();
  index = 0;
  /** Every revision written, as the machine would hand them to watches. */
  readonly changes: RevisionChanges[] = [];

  constructor() {
    this.store.open(this.dir);
  }

  entry<T>(body: (e: EntryWriter) => T): T {
    const out = this.store.entry(++this.index, body);
    this.changes.push(...out.changes);
    return out.result;
  }

  put(key: string | Buffer, value: string | Buffer, o: Partial<PutRequest> = {}): PutResult {
    const p = putRequest(key, value, o);
    checkPut(p);
    return this.entry((e) => applyPut(this.store, e, p));
  }

  del(key: string, o: Partial<DeleteRangeRequest> = {}): DeleteRangeResult {
    const d = deleteRequest(key, o);
    checkDeleteRange(d);
    return this.entry((e) => applyDeleteRange(e, d));
  }

  txn(t: Partial<TxnRequest>, maxOps = 128): TxnResult {
    const r = txnRequest(t);
    checkTxn(r, maxOps);
    return this.entry((e) => applyTxn(this.store, e, r));
  }

  compact(rev: number): void {
    this.entry((e) => e.compact(rev));
  }

  range(key: string | Buffer, o: Partial<RangeRequest> = {}, maxBytes = 1 << 30): RangeResult {
    return this.store.range(rangeRequest(key, o), { maxBytes });
  }

  /** The keys of a range, as strings. */
  keys(key: string | Buffer, o: Partial<RangeRequest> = {}): string[] {
    return this.range(key, o).kvs.map((kv) => kv.key.toString());
  }

  get revision(): number {
    return this.store.counters.revision;
  }

  /** Closes and reopens the database file (a restart); answers the applied index `open` reports. */
  reopen(): number {
    this.store.close();
    this.store = new MvccStore();
    return this.store.open(this.dir);
  }

  close(): void {
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const ALL = Buffer.from([0]);
export const b = (s: string): Buffer => Buffer.from(s);
