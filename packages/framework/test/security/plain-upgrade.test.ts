// Defect 3 of issue 16: a request with an Upgrade header other than WebSocket (curl --http2 asks
// for h2c) got an empty 404. It is served as the plain HTTP/1.1 request it also is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../api/helpers.js';
import { startSingleNode, type SingleNode } from '../support/single-node.js';
import { WebSocket } from 'ws';

const H2C = { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQCAAAAAAIAAAAA' };
let node: SingleNode;
before(async () => {
  node = await startSingleNode({ token: 'upgrade-secret' });
});
after(async () => {
  await node.stop();
});

test('GET /v1/status asking for h2c is answered as HTTP/1.1', async () => {
  const r = await request(node.url, 'GET', '/v1/status', { headers: H2C, token: 'upgrade-secret' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.id, 1);
});

test('a put with Connection: Upgrade and Upgrade: h2c is applied, and its token is still checked', async () => {
  const put = await request(node.url, 'POST', '/v1/groups/kv/commands/put', { headers: H2C, token: 'upgrade-secret', body: JSON.stringify({ key: 'h2c', value: 'yes' }) });
  assert.equal(put.status, 200, put.text);
  const get = await request(node.url, 'POST', '/v1/groups/kv/queries/get', {
    headers: { connection: 'upgrade', upgrade: 'foo/1' },
    token: 'upgrade-secret',
    body: JSON.stringify({ key: 'h2c' }),
  });
  assert.equal(get.status, 200, get.text);
  assert.equal(get.json.result.value, 'yes');
  const refused = await request(node.url, 'POST', '/v1/groups/kv/commands/put', { headers: H2C, body: JSON.stringify({ key: 'h2c', value: 'no' }) });
  assert.equal(refused.status, 401);
  assert.equal(refused.json.error, 'unauthorized');
});

test('a non-WebSocket upgrade to the peer path is a plain request too; WebSocket watches still upgrade', async () => {
  const r = await request(node.url, 'GET', '/raft', { headers: H2C, token: 'upgrade-secret' });
  assert.equal(r.status, 404);
  assert.equal(r.json.error, 'not_found');
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/v1/groups/kv/watch?from=1`, { headers: { authorization: 'Bearer upgrade-secret' } });
  const first = await new Promise<{ index: number }>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(String(d)) as { index: number }));
    ws.once('error', reject);
  });
  assert.ok(first.index >= 1);
  ws.close();
});
