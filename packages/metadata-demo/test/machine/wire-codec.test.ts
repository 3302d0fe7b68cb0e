// The JSON codec: etcd's messages survive the trip through JSON (bytes as base64, int64 ids as
// decimal strings, defaults left out), and what it writes passes the argument checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, deleteRequest, putRequest, rangeRequest, txnRequest } from '../../src/api/request-builders.js';
import { decodeTxn, encodePut, encodeTxn } from '../../src/codec/wire-codec.js';
import { wireOps } from '../../src/codec/wire-schema.js';

test('a nested txn goes through JSON and back unchanged', () => {
  const t = txnRequest({
    compare: [compare(Buffer.from([0, 255, 1]), 'greater', { lease: (1n << 62n) + 3n }), { ...compare('r/', 'less', { modRevision: 9 }), rangeEnd: Buffer.from('r0') }],
    success: [
      { put: putRequest('k', Buffer.from([1, 2, 3]), { lease: -5n, prevKv: true }) },
      { deleteRange: deleteRequest('a', { rangeEnd: Buffer.from([0]) }) },
      { txn: txnRequest({ failure: [{ range: rangeRequest('x', { limit: 3, sortOrder: 'descend', sortTarget: 'value', keysOnly: true, minCreateRevision: 2 }) }] }) },
    ],
  });
  const json = JSON.parse(JSON.stringify(encodeTxn(t)));
  assert.equal(wireOps(json.success, 'success'), undefined);
  assert.deepEqual(decodeTxn(json), t);
});

test('defaults are left out of the JSON', () => {
  assert.deepEqual(encodePut(putRequest('k', '')), { key: 'aw==' });
  assert.deepEqual(encodePut(putRequest('k', 'v', { lease: 7n, ignoreLease: false })), { key: 'aw==', value: 'dg==', lease: '7' });
});
