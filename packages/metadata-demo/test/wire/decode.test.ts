// etcd's request checks as the wire codec makes them (v3rpc/key.go): txn op counts with nested
// budgets, writes of a key twice in a branch, enums, and the ranges the etcd types use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetaError } from '../../src/api/meta-error.js';
import { decodeRange, decodeTxn } from '../../src/wire/decode-kv.js';
import type { WireRequestOp } from '../../src/wire/wire-types.js';

const k = (s: string) => Buffer.from(s);
const put = (key: string): WireRequestOp => ({ request_put: { key: k(key) } });
const del = (key: string, end = ''): WireRequestOp => ({ request_delete_range: { key: k(key), range_end: k(end) } });
const txn = (success: WireRequestOp[], failure: WireRequestOp[] = []): WireRequestOp => ({ request_txn: { success, failure } });
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof MetaError ? e.code : String(e);
  }
  return 'ok';
};

describe('txn checks', () => {
  it('refuses a key written twice in one branch, counting nested txns and deleted ranges', () => {
    assert.equal(
      code(() => decodeTxn({ success: [put('a'), put('b')], failure: [put('a')] }, 128)),
      'ok',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('a'), put('a')] }, 128)),
      'duplicate_key',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('b'), del('a', 'c')] }, 128)),
      'duplicate_key',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('c'), del('a', 'c')] }, 128)),
      'ok',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('z'), del('a', '\0')] }, 128)),
      'duplicate_key',
    );
    assert.equal(
      code(() => decodeTxn({ success: [del('a', 'c'), del('b', 'd')] }, 128)),
      'ok',
    );
    assert.equal(
      code(() => decodeTxn({ success: [txn([put('a')], [put('a')])] }, 128)),
      'ok',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('a'), txn([put('a')])] }, 128)),
      'duplicate_key',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('b'), txn([del('a', 'c')])] }, 128)),
      'duplicate_key',
    );
    assert.equal(
      code(() => decodeTxn({ success: [txn([put('a')]), txn([], [put('a')])] }, 128)),
      'duplicate_key',
    );
  });

  it('counts ops against maxTxnOps, nested txns against what their parent leaves', () => {
    const ops = (n: number) => Array.from({ length: n }, (_, i) => put(`k${i}`));
    assert.equal(
      code(() => decodeTxn({ success: ops(4) }, 4)),
      'ok',
    );
    assert.equal(
      code(() => decodeTxn({ success: ops(5) }, 4)),
      'too_many_ops',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('x'), txn(ops(3))] }, 4)),
      'too_many_ops',
    );
    assert.equal(
      code(() => decodeTxn({ success: [put('x'), txn(ops(2))] }, 4)),
      'ok',
    );
    assert.equal(
      code(() => decodeTxn({ compare: [{ key: k('') }] }, 4)),
      'empty_key',
    );
    assert.equal(
      code(() => decodeTxn({ success: [{}] }, 4)),
      'key_not_found',
    );
  });

  it('reads ranges with etcd defaults and refuses unknown enum values', () => {
    const r = decodeRange({ key: k('a'), limit: '-3', revision: '-1' });
    assert.deepEqual([r.limit, r.revision, r.sortOrder, r.sortTarget, r.rangeEnd.length], [0, 0, 'none', 'key', 0]);
    assert.equal(
      code(() => decodeRange({ key: k('a'), sort_order: 3 })),
      'invalid_sort_option',
    );
    assert.equal(
      code(() => decodeRange({ key: k('a'), sort_target: -1 })),
      'invalid_sort_option',
    );
    assert.equal(
      code(() => decodeRange({})),
      'empty_key',
    );
  });
});
