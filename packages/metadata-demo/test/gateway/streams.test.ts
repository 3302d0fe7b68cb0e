// The JSON gateway's streaming routes, /v3/watch and /v3/lease/keepalive, as etcd 3.4's
// grpc-gateway serves them: a body of JSON requests, an answer of `{"result": ...}` lines.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MetaError } from '../../src/api/meta-error.js';
import { startFakeGateway, type GatewayHarness } from '../support/api-harness.js';
import { openHttpStream } from '../support/http-stream.js';

const CLUSTER = '14627392578371190785';
const MEMBER = '10276657743932975437';
const header = (revision: number) => `{"cluster_id":"${CLUSTER}","member_id":"${MEMBER}","revision":"${revision}","raft_term":"2"}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('JSON gateway: streaming routes', () => {
  let g: GatewayHarness;

  beforeEach(async () => {
    g = await startFakeGateway();
  });

  afterEach(async () => {
    await g.close();
  });

  const put = (k: string, v: string) => g.post('/v3/kv/put', { key: b64(k), value: b64(v) });

  it('/v3/watch streams events after the body ends, until the client goes away', async () => {
    const s = openHttpStream(g.url, '/v3/watch');
    s.end(JSON.stringify({ create_request: { key: b64('w'), range_end: b64('x'), prev_kv: true } }));
    const res = await s.response;
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"created":true}}`);
    await put('w1', '1');
    await put('w1', '2');
    await g.post('/v3/kv/deleterange', { key: b64('w1') });
    assert.equal(await s.nextLine(), `{"result":{"header":${header(2)},"events":[{"kv":{"key":"dzE=","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}}]}}`);
    assert.equal(
      await s.nextLine(),
      `{"result":{"header":${header(3)},"events":[{"kv":{"key":"dzE=","create_revision":"2","mod_revision":"3","version":"2","value":"Mg=="},"prev_kv":{"key":"dzE=","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}}]}}`,
    );
    assert.equal(
      await s.nextLine(),
      `{"result":{"header":${header(4)},"events":[{"type":"DELETE","kv":{"key":"dzE=","mod_revision":"4"},"prev_kv":{"key":"dzE=","create_revision":"2","mod_revision":"3","version":"2","value":"Mg=="}}]}}`,
    );
    assert.equal(g.backend.watchCount, 1);
    s.abort();
    await waitFor(() => g.backend.watchCount === 0);
  });

  it('/v3/watch takes requests as they arrive: ids, duplicates, cancels, progress, empty ranges', async () => {
    const s = openHttpStream(g.url, '/v3/watch');
    s.write(JSON.stringify({ create_request: { key: b64('w'), watch_id: '7' } }));
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"watch_id":"7","created":true}}`);
    s.write(`${JSON.stringify({ create_request: { key: b64('x'), watch_id: '7' } })}\n${JSON.stringify({ create_request: { key: b64('y') } })}`);
    assert.equal(
      await s.nextLine(),
      `{"result":{"header":${header(1)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: duplicate watch ID provided on the WatchStream"}}`,
    );
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"created":true}}`);
    s.write('{"cancel_request":{"watch_id":"7"}}{"cancel_request":{"watch_id":"77"}}{"progress_request":{}}');
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"watch_id":"7","canceled":true}}`);
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"watch_id":"-1"}}`);
    s.write(JSON.stringify({ create_request: { key: b64('z'), range_end: b64('y') } }));
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: watcher range is empty"}}`);
    // A malformed request ends the client's side; the watches go on.
    s.write('{"create_request":{"key":5}}');
    await put('y', 'still');
    assert.match((await s.nextLine())!, /^\{"result":\{"header":.*"events":\[\{"kv":\{"key":"eQ==".*"value":"c3RpbGw="\}\}\]\}\}$/);
    s.abort();
    await waitFor(() => g.backend.watchCount === 0);
  });

  it('/v3/watch refuses a malformed first request with 400 and starts nothing', async () => {
    for (const body of ['garbage', '{"create_request":{"key":5}}', '{"create_request":']) {
      const s = openHttpStream(g.url, '/v3/watch');
      s.end(body);
      const res = await s.response;
      assert.equal(res.statusCode, 400, body);
      const line = JSON.parse((await s.nextLine())!) as { code: number; error: string };
      assert.equal(line.code, 3);
      assert.match(line.error, /invalid JSON|expected bytes/);
    }
    assert.equal(g.backend.watchCount, 0);
    assert.deepEqual(g.backend.calls, []);
  });

  it('/v3/lease/keepalive answers every request in order and ends with the body', async () => {
    await g.post('/v3/lease/grant', { TTL: '30', ID: '1234' });
    const s = openHttpStream(g.url, '/v3/lease/keepalive');
    s.end('{"ID":"1234"}{"ID":"999"}\n{"ID":1234}');
    assert.equal((await s.response).statusCode, 200);
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"ID":"1234","TTL":"30"}}`);
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"ID":"999"}}`);
    assert.equal(await s.nextLine(), `{"result":{"header":${header(1)},"ID":"1234","TTL":"30"}}`);
    assert.equal(await s.nextLine(), undefined);
  });

  it('/v3/lease/keepalive ends with an error line when the backend fails', async () => {
    g.backend.failNext = new MetaError('no_leader');
    const s = openHttpStream(g.url, '/v3/lease/keepalive');
    s.end('{"ID":"1"}');
    assert.equal((await s.response).statusCode, 200);
    assert.equal(await s.nextLine(), '{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}');
    assert.equal(await s.nextLine(), undefined);
  });

  it('ends open streams with an error line when the routes close', async () => {
    const s = openHttpStream(g.url, '/v3/watch');
    s.write(JSON.stringify({ create_request: { key: b64('k') } }));
    await s.nextLine();
    await g.routes.close?.();
    assert.equal(await s.nextLine(), '{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: server stopped","http_status":"Service Unavailable"}}');
    assert.equal(await s.nextLine(), undefined);
    assert.equal(g.backend.watchCount, 0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
