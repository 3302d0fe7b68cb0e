// The JSON gateway's unary routes over the fake backend. The expected bodies are what etcd 3.4.23
// answers to the same requests (captured with curl against a local etcd), with the fake's ids:
// field names and order, int64s as strings, zero values left out, base64 bytes, enum names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeGateway, type GatewayHarness } from '../support/api-harness.js';

const CLUSTER = '14627392578371190785';
const MEMBER = '10276657743932975437';
const header = (revision: number) => `{"cluster_id":"${CLUSTER}","member_id":"${MEMBER}","revision":"${revision}","raft_term":"2"}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('JSON gateway: unary routes answer as etcd 3.4', () => {
  let g: GatewayHarness;
  const ok = async (path: string, body: unknown) => {
    const r = await g.post(path, body);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    assert.equal(r.contentType, 'application/json');
    return r.text;
  };

  before(async () => {
    g = await startFakeGateway();
  });

  after(async () => {
    await g.close();
  });

  it('/v3/kv/put and /v3/kv/range', async () => {
    assert.equal(await ok('/v3/kv/put', { key: b64('foo'), value: b64('bar') }), `{"header":${header(2)}}`);
    assert.equal(
      await ok('/v3/kv/put', { key: b64('foo'), value: b64('baz'), prev_kv: true }),
      `{"header":${header(3)},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}`,
    );
    assert.equal(
      await ok('/v3/kv/range', { key: b64('foo') }),
      `{"header":${header(3)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}`,
    );
    assert.equal(await ok('/v3/kv/range', { key: b64('foo'), count_only: true }), `{"header":${header(3)},"count":"1"}`);
    assert.equal(await ok('/v3/kv/range', { key: b64('none') }), `{"header":${header(3)}}`);
    // lowerCamelCase names are read too, as jsonpb reads them; keys_only leaves the value out.
    assert.equal(
      await ok('/v3/kv/range', { key: b64('foo'), rangeEnd: b64('fop'), keysOnly: true }),
      `{"header":${header(3)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2"}],"count":"1"}`,
    );
    // Enums by name; int64s as numbers or strings.
    await ok('/v3/kv/put', { key: b64('fop'), value: b64('x') });
    assert.equal(
      await ok('/v3/kv/range', { key: b64('f'), range_end: b64('g'), sort_order: 'DESCEND', sort_target: 'KEY', limit: 1, keys_only: true }),
      `{"header":${header(4)},"kvs":[{"key":"Zm9w","create_revision":"4","mod_revision":"4","version":"1"}],"more":true,"count":"2"}`,
    );
    assert.equal(await ok('/v3/kv/range', { key: b64('f'), range_end: b64('g'), limit: '5', count_only: true, serializable: true }), `{"header":${header(4)},"count":"2"}`);
  });

  it('/v3/kv/txn', async () => {
    await ok('/v3/kv/put', { key: b64('a'), value: b64('1') });
    const rev = g.backend.revision;
    assert.equal(
      await ok('/v3/kv/txn', {
        compare: [{ key: b64('a'), target: 'VALUE', result: 'EQUAL', value: b64('1') }],
        success: [{ request_put: { key: b64('b'), value: b64('2') } }, { request_range: { key: b64('a') } }],
        failure: [{ request_delete_range: { key: b64('a') } }],
      }),
      `{"header":${header(rev + 1)},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"${rev + 1}"}}},` +
        `{"response_range":{"header":{"revision":"${rev + 1}"},"kvs":[{"key":"YQ==","create_revision":"${rev}","mod_revision":"${rev}","version":"1","value":"MQ=="}],"count":"1"}}]}`,
    );
    assert.equal(
      await ok('/v3/kv/txn', {
        compare: [{ key: b64('a'), target: 'VERSION', result: 'GREATER', version: '5' }],
        success: [],
        failure: [{ request_range: { key: b64('b') } }, { request_delete_range: { key: b64('b'), prev_kv: true } }, { request_txn: {} }],
      }),
      `{"header":${header(rev + 2)},"responses":[{"response_range":{"header":{"revision":"${rev + 1}"},"kvs":[{"key":"Yg==","create_revision":"${rev + 1}","mod_revision":"${rev + 1}","version":"1","value":"Mg=="}],"count":"1"}},` +
        `{"response_delete_range":{"header":{"revision":"${rev + 2}"},"deleted":"1","prev_kvs":[{"key":"Yg==","create_revision":"${rev + 1}","mod_revision":"${rev + 1}","version":"1","value":"Mg=="}]}},` +
        `{"response_txn":{"header":{},"succeeded":true}}]}`,
    );
  });

  it('/v3/kv/deleterange and /v3/kv/compaction', async () => {
    await ok('/v3/kv/put', { key: b64('d/1'), value: b64('x') });
    const rev = g.backend.revision;
    assert.equal(
      await ok('/v3/kv/deleterange', { key: b64('d/'), range_end: b64('d0'), prev_kv: true }),
      `{"header":${header(rev + 1)},"deleted":"1","prev_kvs":[{"key":"ZC8x","create_revision":"${rev}","mod_revision":"${rev}","version":"1","value":"eA=="}]}`,
    );
    assert.equal(await ok('/v3/kv/deleterange', { key: b64('d/1') }), `{"header":${header(rev + 1)}}`);
    assert.equal(await ok('/v3/kv/compaction', { revision: String(rev) }), `{"header":${header(rev + 1)}}`);
  });

  it('/v3/lease/* (and the /v3/kv/lease/* aliases)', async () => {
    const rev = g.backend.revision;
    assert.equal(await ok('/v3/lease/grant', { TTL: '30', ID: '1234' }), `{"header":${header(rev)},"ID":"1234","TTL":"30"}`);
    assert.match(await ok('/v3/lease/timetolive', { ID: '1234', keys: true }), new RegExp(`^\\{"header":${escape(header(rev))},"ID":"1234","TTL":"(29|30)","grantedTTL":"30"\\}$`));
    await ok('/v3/kv/put', { key: b64('l'), value: b64('1'), lease: '1234' });
    assert.match(await ok('/v3/kv/lease/timetolive', { ID: '1234', keys: true }), /"grantedTTL":"30","keys":\["bA=="\]\}$/);
    assert.equal(await ok('/v3/lease/timetolive', { ID: '999' }), `{"header":${header(rev + 1)},"ID":"999","TTL":"-1"}`);
    assert.equal(await ok('/v3/lease/leases', {}), `{"header":${header(rev + 1)},"leases":[{"ID":"1234"}]}`);
    assert.equal(await ok('/v3/kv/lease/leases', {}), `{"header":${header(rev + 1)},"leases":[{"ID":"1234"}]}`);
    assert.equal(await ok('/v3/kv/lease/revoke', { ID: '1234' }), `{"header":${header(rev + 2)}}`);
    assert.equal(await ok('/v3/lease/leases', {}), `{"header":${header(rev + 2)}}`);
  });

  it('/v3/cluster/member/list and /v3/maintenance/status', async () => {
    assert.equal(
      await ok('/v3/cluster/member/list', {}),
      `{"header":{"cluster_id":"${CLUSTER}","member_id":"${MEMBER}","raft_term":"2"},"members":[{"ID":"${MEMBER}","name":"fake-1","peerURLs":["http://127.0.0.1:2380"],"clientURLs":["http://127.0.0.1:2379"]}]}`,
    );
    const rev = g.backend.revision;
    assert.equal(
      await ok('/v3/maintenance/status', {}),
      `{"header":${header(rev)},"version":"3.4.23","dbSize":"20480","leader":"${MEMBER}","raftIndex":"${rev + 10}","raftTerm":"2","raftAppliedIndex":"${rev + 10}","dbSizeInUse":"16384"}`,
    );
  });

  it('answers /v3beta/ and /v3alpha/ as /v3/, and an empty body as an empty request', async () => {
    const a = await ok('/v3/kv/range', { key: b64('foo') });
    assert.equal(await ok('/v3beta/kv/range', { key: b64('foo') }), a);
    assert.equal(await ok('/v3alpha/kv/range', { key: b64('foo') }), a);
    assert.equal((await ok('/v3/lease/leases', '')).startsWith('{"header":'), true);
  });

  it("answers etcd's errors with their gRPC code and grpc-gateway's HTTP status", async () => {
    const cases: [string, unknown, number, number, string][] = [
      ['/v3/kv/range', {}, 400, 3, 'etcdserver: key is not provided'],
      ['/v3/kv/range', { key: null }, 400, 3, 'etcdserver: key is not provided'],
      ['/v3/kv/range', { key: b64('foo'), revision: '99' }, 400, 11, 'etcdserver: mvcc: required revision is a future revision'],
      ['/v3/kv/range', { key: b64('foo'), revision: '1' }, 400, 11, 'etcdserver: mvcc: required revision has been compacted'],
      ['/v3/kv/put', { key: b64('foo'), ignore_value: true, value: b64('a') }, 400, 3, 'etcdserver: value is provided'],
      ['/v3/kv/txn', { success: [{}] }, 400, 3, 'etcdserver: key not found'],
      ['/v3/kv/txn', { success: [{ request_put: { key: b64('a') } }, { request_put: { key: b64('a') } }] }, 400, 3, 'etcdserver: duplicate key given in txn request'],
      ['/v3/lease/revoke', { ID: '999' }, 404, 5, 'etcdserver: requested lease not found'],
      ['/v3/auth/authenticate', { name: 'a', password: 'b' }, 412, 9, 'etcdserver: authentication is not enabled'],
    ];
    for (const [path, body, status, code, message] of cases) {
      const r = await g.post(path, body);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.text, JSON.stringify({ error: message, message, code }));
    }
    await ok('/v3/lease/grant', { TTL: 30, ID: '77' });
    const dup = await g.post('/v3/lease/grant', { TTL: 30, ID: '77' });
    assert.deepEqual([dup.status, dup.json], [412, { error: 'etcdserver: lease already exists', message: 'etcdserver: lease already exists', code: 9 }]);
    const unimplemented = await g.post('/v3/maintenance/defragment', {});
    assert.equal(unimplemented.status, 501);
    assert.equal((unimplemented.json as { code: number }).code, 12);
  });

  it('answers unknown paths 404 and other methods 405 in plain text, and leaves other paths alone', async () => {
    const missing = await g.post('/v3/nope', {});
    assert.deepEqual([missing.status, missing.contentType, missing.text], [404, 'text/plain; charset=utf-8', 'Not Found\n']);
    const get = await fetch(`${g.url}/v3/kv/range`);
    assert.deepEqual([get.status, await get.text()], [405, 'Method Not Allowed\n']);
    const other = await g.post('/v2/keys', {});
    assert.equal(other.text, 'not the gateway');
  });
});

function escape(s: string): string {
  return s.replace(/[{}[\]"().*+?^$|\\]/g, '\\$&');
}
