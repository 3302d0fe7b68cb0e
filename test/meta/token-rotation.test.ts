// A token rotation (--token NEW --accept-token OLD) reaches every client-facing route of the demo
// apps, not only raftkit's API: raftkit-meta's gRPC port (etcd auth: log in with the token as
// password), its JSON gateway, and raftkit-sql's rqlite routes take the old token and the new, and
// refuse a request with neither. Before, the SQL and etcd routes knew only --token, and the gRPC
// port took calls with no credentials at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { sqlCluster } from '../sql/sql-cluster.js';
import { MetaCluster } from './meta-cluster.js';
import { request } from '../kv/kv-cluster.js';

test('raftkit-meta during a token rotation', async (t) => {
  const c = new MetaCluster();
  c.token = 'new-secret';
  t.after(() => c.stopAll());
  const leader = await c.startAll(['--accept-token', 'old-secret']);
  const grpc = `127.0.0.1:${c.grpc.get(leader)}`;

  const withOld = new Etcd3({ hosts: grpc, auth: { username: 'app', password: 'old-secret' } });
  const anonymous = new Etcd3({ hosts: grpc });
  const wrong = new Etcd3({ hosts: grpc, auth: { username: 'app', password: 'guess' } });
  t.after(() => [withOld, anonymous, wrong].forEach((x) => x.close()));

  await c.client(leader).put('cfg/a').value('1');
  await withOld.put('cfg/b').value('2');
  assert.deepEqual(await withOld.getAll().prefix('cfg/').strings(), { 'cfg/a': '1', 'cfg/b': '2' });
  await assert.rejects(anonymous.put('cfg/c').value('3').exec(), /user name is empty/);
  await assert.rejects(wrong.get('cfg/a').string(), /authentication failed/);
  assert.equal(await c.client(leader).get('cfg/c').string(), null);

  const range = { body: { key: Buffer.from('cfg/a').toString('base64') } };
  assert.equal((await c.req(leader, 'POST', '/v3/kv/range', { ...range, token: 'old-secret' })).status, 200);
  assert.equal((await c.req(leader, 'POST', '/v3/kv/range', { ...range, token: null })).status, 400);
  assert.equal((await c.req(leader, 'POST', '/v3/kv/range', { ...range, token: 'guess' })).status, 401);
});

test('raftkit-sql during a token rotation', async (t) => {
  const c = sqlCluster([1], { token: 'new-secret', extraArgs: ['--accept-token', 'old-secret'] });
  t.after(() => c.stopAll());
  await c.startAll();
  const port = c.portOf(1);
  const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`app:${password}`).toString('base64')}` });
  const create = await request(port, 'POST', '/db/execute', { body: ['CREATE TABLE t (x)'], token: 'old-secret' });
  assert.equal(create.status, 200, create.text);
  const insert = await request(port, 'POST', '/db/execute', { body: ['INSERT INTO t VALUES (1)'], token: null, headers: basic('old-secret') });
  assert.equal(insert.status, 200, insert.text);
  const refused = await request(port, 'POST', '/db/execute', { body: ['INSERT INTO t VALUES (2)'], token: null, headers: basic('guess') });
  assert.equal(refused.status, 401);
  assert.equal((await request(port, 'POST', '/db/execute', { body: ['INSERT INTO t VALUES (3)'], token: null })).status, 401);
  const rows = await request(port, 'GET', `/db/query?level=strong&q=${encodeURIComponent('SELECT x FROM t')}`, { token: 'new-secret' });
  assert.deepEqual(rows.body.results[0].values, [[1]]);
});
