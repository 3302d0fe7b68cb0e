// Requests the JSON gateway cannot read: 400 with a message naming what is wrong, and nothing
// reaches the backend. (etcd's gateway ignores unknown fields; this one refuses them.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeGateway, type GatewayHarness } from '../support/api-harness.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('JSON gateway: malformed requests', () => {
  let g: GatewayHarness;

  before(async () => {
    g = await startFakeGateway({ token: 'sesame', limits: { maxRequestBytes: 2048 } });
  });

  after(async () => {
    await g.close();
  });

  const auth = { authorization: 'Bearer sesame' };

  it('answers 400 naming the problem, and changes nothing', async () => {
    const cases: [string, string, RegExp][] = [
      ['/v3/kv/put', 'garbage', /^invalid JSON: /],
      ['/v3/kv/put', '{"key":"YQ==",', /^invalid JSON: /],
      ['/v3/kv/put', '[1]', /^expected a JSON object for etcdserverpb\.PutRequest, got an array$/],
      ['/v3/kv/put', '{"key":"YQ==","vaule":"YQ=="}', /^unknown field "vaule" in etcdserverpb\.PutRequest$/],
      ['/v3/kv/put', '{"key":123}', /^key: expected bytes as standard base64/],
      ['/v3/kv/put', '{"key":"YQ"}', /^key: expected bytes as standard base64 \(with padding\)/],
      ['/v3/kv/put', '{"key":"Zm9v_-"}', /^key: expected bytes as standard base64/],
      ['/v3/kv/put', '{"key":"YQ==","prev_kv":"true"}', /^prev_kv: expected true or false, got string "true"$/],
      ['/v3/kv/put', '{"key":"YQ==","lease":1.5}', /^lease: expected an int64/],
      ['/v3/kv/put', '{"key":"YQ==","lease":"1e3"}', /^lease: expected an int64/],
      ['/v3/kv/put', '{"key":"YQ==","lease":"99999999999999999999"}', /^lease: 99999999999999999999 is out of range for an int64$/],
      ['/v3/kv/put', '{"key":"YQ==","lease":12345678901234567890}', /^lease: expected an int64 .*send it as a string/],
      [
        '/v3/kv/range',
        '{"key":"YQ==","sort_order":"Descend"}',
        /^sort_order: unknown value string "Descend" for the enum etcdserverpb\.RangeRequest\.SortOrder \(one of NONE, ASCEND, DESCEND\)$/,
      ],
      ['/v3/kv/txn', '{"success":[{"request_put":{"key":"YQ==","bogus":1}}]}', /^success\[0\]\.request_put: unknown field "bogus" in etcdserverpb\.PutRequest$/],
      ['/v3/kv/txn', '{"success":[{"request_put":{"key":"YQ=="},"request_range":{"key":"YQ=="}}]}', /are alternatives \(oneof request of etcdserverpb\.RequestOp\)/],
      ['/v3/kv/txn', '{"compare":{"key":"YQ=="}}', /^compare: expected an array, got an object$/],
      ['/v3/lease/grant', '{"TTL":"ten"}', /^TTL: expected an int64/],
    ];
    const before = g.backend.revision;
    g.backend.calls.length = 0;
    for (const [path, body, message] of cases) {
      const r = await g.post(path, body, auth);
      assert.equal(r.status, 400, `${body}: ${r.text}`);
      const json = r.json as { error: string; message: string; code: number };
      assert.equal(json.code, 3);
      assert.match(json.error, message, body);
      assert.equal(json.message, json.error);
    }
    assert.deepEqual(g.backend.calls, []);
    assert.equal(g.backend.revision, before);
  });

  it("holds requests to etcd's size limits", async () => {
    const tooLarge = await g.post('/v3/kv/put', { key: b64('k'), value: Buffer.alloc(3000).toString('base64') }, auth);
    assert.deepEqual([tooLarge.status, tooLarge.json], [400, { error: 'etcdserver: request is too large', message: 'etcdserver: request is too large', code: 3 }]);
    const huge = await g.post('/v3/kv/put', { key: b64('k'), value: Buffer.alloc(530 * 1024).toString('base64') }, auth);
    assert.equal(huge.status, 429);
    assert.match((huge.json as { error: string }).error, /^grpc: received message larger than max \(\d+ vs\. \d+\)$/);
    const body = await g.post('/v3/kv/put', 'x'.repeat(1024 * 1024), auth);
    assert.equal(body.status, 429);
    assert.match((body.json as { error: string }).error, /^the request body is larger than \d+ bytes$/);
  });

  it('needs the cluster token when the cluster has one', async () => {
    const none = await g.post('/v3/kv/range', { key: b64('k') });
    assert.equal(none.status, 400);
    assert.deepEqual(none.json, { error: 'etcdserver: user name is empty', message: 'etcdserver: user name is empty', code: 3 });
    assert.equal((await g.post('/v3/kv/range', { key: b64('k') }, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await g.post('/v3/kv/range', { key: b64('k') }, auth)).status, 200);
  });
});
