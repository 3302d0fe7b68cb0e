// The gateway's JSON mapping (jsonpb.ts) and its splitter of streamed request bodies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageSchema } from '../../src/gateway/json-schema.js';
import { JsonObjectSplitter } from '../../src/gateway/json-stream.js';
import { marshalMessage, parseMessage } from '../../src/gateway/jsonpb.js';
import { etcdDefinitions } from '../../src/wire/proto.js';

describe('JSON mapping', () => {
  it('builds a schema for every message of the proto files', () => {
    const names = Object.entries(etcdDefinitions())
      .filter(([, d]) => d.format === 'Protocol Buffer 3 DescriptorProto')
      .map(([n]) => n);
    assert.ok(names.length > 90);
    for (const n of names) assert.ok(messageSchema(n).fields.length >= 0);
    const lease = messageSchema('etcdserverpb.LeaseTimeToLiveResponse');
    assert.deepEqual(
      lease.fields.map((f) => `${f.name}/${f.jsonName}:${f.kind}`),
      ['header/header:message', 'ID/ID:int64', 'TTL/TTL:int64', 'grantedTTL/grantedTTL:int64', 'keys/keys:bytes'],
    );
    assert.equal(messageSchema('etcdserverpb.Compare').byName.get('mod_revision')?.oneof, 'target_union');
    assert.equal(messageSchema('mvccpb.Event').byName.get('type')?.enum?.byNumber.get(1), 'DELETE');
  });

  it('reads a nested request into the wire shape, with aliases, numbers and enum names', () => {
    const wire = parseMessage('etcdserverpb.TxnRequest', {
      compare: [{ key: 'YQ==', target: 'MOD', result: 3, modRevision: 5 }],
      success: [{ request_range: { key: 'YQ==', rangeEnd: 'Yg==', limit: '10', sort_order: 'ASCEND' } }],
      failure: null,
    });
    assert.deepEqual(wire, {
      compare: [{ key: Buffer.from('a'), target: 2, result: 3, mod_revision: '5', target_union: 'mod_revision' }],
      success: [{ request_range: { key: Buffer.from('a'), range_end: Buffer.from('b'), limit: '10', sort_order: 1 }, request: 'request_range' }],
    });
  });

  it('writes a response as grpc-gateway does: proto names, strings for 64-bit ints, no zero values', () => {
    const json = marshalMessage('etcdserverpb.WatchResponse', {
      header: { cluster_id: '18446744073709551615', member_id: '1', revision: '9', raft_term: '0' },
      watch_id: '0',
      created: false,
      canceled: false,
      compact_revision: '0',
      cancel_reason: '',
      fragment: false,
      events: [{ type: 1, kv: { key: Buffer.from('k'), create_revision: '0', mod_revision: '9', version: '0', value: Buffer.alloc(0), lease: '0' }, prev_kv: null }],
    });
    assert.equal(
      JSON.stringify(json),
      '{"header":{"cluster_id":"18446744073709551615","member_id":"1","revision":"9"},"events":[{"type":"DELETE","kv":{"key":"aw==","mod_revision":"9"}}]}',
    );
  });
});

describe('JsonObjectSplitter', () => {
  it('splits objects across any chunk boundaries, strings with braces and escapes included', () => {
    const objects = [{ a: 'x}{"\\' }, { b: [1, { c: 'ü€' }] }, {}];
    const text = Buffer.from(`  ${JSON.stringify(objects[0])}\n${JSON.stringify(objects[1])}${JSON.stringify(objects[2])}\n`);
    for (let size = 1; size <= text.length; size++) {
      const s = new JsonObjectSplitter(1024);
      const got: unknown[] = [];
      for (let i = 0; i < text.length; i += size) {
        const { objects: o, error } = s.push(text.subarray(i, i + size));
        assert.equal(error, undefined);
        got.push(...o);
      }
      assert.equal(s.end(), undefined);
      assert.deepEqual(got, objects, `chunks of ${size}`);
    }
  });

  it('reports what is not a sequence of objects, and objects over the size limit', () => {
    const s = new JsonObjectSplitter(1024);
    const r = s.push(Buffer.from('{"a":1} 42'));
    assert.deepEqual(r.objects, [{ a: 1 }]);
    assert.match(r.error!.message, /expected a JSON object/);
    assert.match(new JsonObjectSplitter(1024).push(Buffer.from('{"a":}')).error!.message, /^invalid JSON/);
    const cut = new JsonObjectSplitter(1024);
    cut.push(Buffer.from('{"a":'));
    assert.match(cut.end()!.message, /ended inside an object/);
    assert.match(new JsonObjectSplitter(8).push(Buffer.from('{"a":"0123456789"')).error!.message, /larger than 8 bytes/);
  });
});
