// Transactions: compares on every target and result, compares over a range and on missing keys,
// one revision per txn, nested txns, ranges that see the txn's own writes, all-or-nothing on an
// error, etcd's duplicate-key and op-count rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Compare, RequestOp } from '../../src/api/etcd-types.js';
import { MetaError } from '../../src/api/meta-error.js';
import { compare, deleteRequest, prefixEnd, putRequest, rangeRequest, txnRequest } from '../../src/api/request-builders.js';
import { checkTxn } from '../../src/store/request-rules.js';
import { b, StoreFixture } from './store-fixture.js';

function fixture(t: { after: (f: () => void) => void }): StoreFixture {
  const f = new StoreFixture();
  t.after(() => f.close());
  return f;
}

const metaCode = (code: string) => (e: unknown) => e instanceof MetaError && e.code === code;
const put = (k: string, v: string): RequestOp => ({ put: putRequest(k, v) });
const del = (k: string, end = ''): RequestOp => ({ deleteRange: deleteRequest(k, { rangeEnd: b(end) }) });
const get = (k: string): RequestOp => ({ range: rangeRequest(k) });

test('compares on version, create, mod, value and lease with each result', (t) => {
  const f = fixture(t);
  f.entry((e) => e.leaseInsert(7n, 60, 0));
  f.put('k', 'm', { lease: 7n }); // rev 2
  f.put('k', 'm'); // rev 3, version 2, lease 0
  const holds = (c: Compare) => f.txn({ compare: [c] }).succeeded;
  assert.equal(holds(compare('k', 'equal', { version: 2 })), true);
  assert.equal(holds(compare('k', 'greater', { version: 1 })), true);
  assert.equal(holds(compare('k', 'less', { version: 2 })), false);
  assert.equal(holds(compare('k', 'equal', { createRevision: 2 })), true);
  assert.equal(holds(compare('k', 'not_equal', { modRevision: 3 })), false);
  assert.equal(holds(compare('k', 'greater', { value: 'l' })), true);
  assert.equal(holds(compare('k', 'less', { value: 'ma' })), true, 'byte-wise');
  assert.equal(holds(compare('k', 'equal', { lease: 0n })), true);
  // A missing key compares as zeros; a value compare on it always fails.
  assert.equal(holds(compare('nope', 'equal', { createRevision: 0 })), true);
  assert.equal(holds(compare('nope', 'equal', { version: 0 })), true);
  assert.equal(holds(compare('nope', 'equal', { value: '' })), false);
  assert.equal(holds(compare('nope', 'not_equal', { value: 'x' })), false);
});

test('a compare with range_end must hold for every key of the range', (t) => {
  const f = fixture(t);
  f.put('p/a', '1');
  f.put('p/b', '1');
  f.put('p/b', '2');
  const c = (result: Compare['result'], version: number): Compare => ({ ...compare('p/', result, { version }), rangeEnd: prefixEnd('p/') });
  assert.equal(f.txn({ compare: [c('greater', 0)] }).succeeded, true);
  assert.equal(f.txn({ compare: [c('equal', 1)] }).succeeded, false, 'p/b has version 2');
  assert.equal(f.txn({ compare: [{ ...compare('q/', 'equal', { version: 0 }), rangeEnd: prefixEnd('q/') }] }).succeeded, true, 'an empty range compares as zeros');
});

test('a txn is one revision: its changes share it with sub-revisions in order; a read-only txn takes none', (t) => {
  const f = fixture(t);
  f.put('gone', 'x');
  const r = f.txn({ success: [put('a', '1'), put('b', '2'), { deleteRange: deleteRequest('gone') }, get('a')] });
  assert.equal(r.revision, 3);
  assert.equal(f.revision, 3);
  const last = f.changes.at(-1)!;
  assert.equal(last.revision, 3);
  assert.deepEqual(
    last.events.map((e) => `${e.type}:${e.kv.key}`),
    ['put:a', 'put:b', 'delete:gone'],
  );
  // The range inside sees the txn's own put.
  const rangeResp = r.responses[3]!;
  assert.ok('range' in rangeResp && rangeResp.range.kvs[0]!.value.toString() === '1' && rangeResp.range.revision === 3);
  const ro = f.txn({ success: [get('a')] });
  assert.deepEqual([ro.revision, f.revision], [3, 3]);
});

test('failure branch, nested txns, and nested compares judged on the state before the txn', (t) => {
  const f = fixture(t);
  f.put('flag', 'off');
  const r = f.txn({
    compare: [compare('flag', 'equal', { value: 'on' })],
    success: [put('x', 'never')],
    failure: [
      put('flag', 'on'),
      // Judged before the outer txn's writes: flag is still "off" for it.
      { txn: txnRequest({ compare: [compare('flag', 'equal', { value: 'off' })], success: [put('nested', 'then')], failure: [put('nested', 'else')] }) },
    ],
  });
  assert.equal(r.succeeded, false);
  const nested = r.responses[1]!;
  assert.ok('txn' in nested && nested.txn.succeeded);
  assert.equal(f.range('nested').kvs[0]!.value.toString(), 'then');
  assert.equal(f.range('x').count, 0);
  assert.equal(f.changes.at(-1)!.events.length, 2, 'outer and nested changes are one revision');
});

test('an error inside a txn (unknown lease, ignore_value on a missing key, a compacted read) applies nothing', (t) => {
  const f = fixture(t);
  f.put('a', '1');
  f.put('a', '2');
  f.compact(3);
  const rev = f.revision;
  assert.throws(() => f.txn({ success: [put('b', '1'), { put: putRequest('c', 'x', { lease: 99n }) }] }), metaCode('lease_not_found'));
  assert.throws(() => f.txn({ success: [put('b', '1'), { put: putRequest('zz', '', { ignoreValue: true }) }] }), metaCode('key_not_found'));
  assert.throws(() => f.txn({ success: [put('b', '1'), { range: rangeRequest('a', { revision: 2 }) }] }), metaCode('compacted'));
  assert.equal(f.revision, rev);
  assert.equal(f.range('b').count, 0);
});

test("etcd's duplicate-key rule: a key written twice in one branch, also across nested txns; overlapping deletes are fine", () => {
  const dup = (ops: RequestOp[]) => () => checkTxn(txnRequest({ success: ops }), 128);
  assert.throws(dup([put('k', '1'), put('k', '2')]), metaCode('duplicate_key'));
  assert.throws(dup([put('k', '1'), del('a', 'z')]), metaCode('duplicate_key'), 'a put inside a deleted range');
  assert.throws(dup([{ txn: txnRequest({ success: [put('k', '1')] }) }, put('k', '2')]), metaCode('duplicate_key'));
  assert.throws(dup([{ txn: txnRequest({ success: [put('k', '1')] }) }, del('k')]), metaCode('duplicate_key'));
  assert.doesNotThrow(dup([del('a', 'm'), del('b', 'z'), del('c')]));
  assert.doesNotThrow(dup([{ txn: txnRequest({ success: [put('k', '1')], failure: [put('k', '2')] }) }]), 'then and else exclude each other');
  assert.doesNotThrow(() => checkTxn(txnRequest({ success: [put('k', '1')], failure: [put('k', '2')] }), 128));
  assert.throws(dup([{ txn: txnRequest({ success: [put('k', '1')] }) }, { txn: txnRequest({ failure: [put('k', '2')] }) }]), metaCode('duplicate_key'));
});

test('too_many_ops: the widest of compares, success and failure against --max-txn-ops, nested txns sharing the budget', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => put(`k${i}`, 'v'));
  assert.doesNotThrow(() => checkTxn(txnRequest({ success: many(128) }), 128));
  assert.throws(() => checkTxn(txnRequest({ success: many(129) }), 128), metaCode('too_many_ops'));
  assert.throws(() => checkTxn(txnRequest({ failure: many(5) }), 4), metaCode('too_many_ops'));
  // 3 at the top leaves 1 for the nested txn's widest list.
  const nested = txnRequest({ success: [put('a', '1'), put('b', '1'), { txn: txnRequest({ success: [put('c', '1'), put('d', '1')] }) }] });
  assert.throws(() => checkTxn(nested, 4), metaCode('too_many_ops'));
  assert.throws(() => checkTxn(txnRequest({ compare: [compare('', 'equal', { version: 0 })] }), 128), metaCode('empty_key'));
});
