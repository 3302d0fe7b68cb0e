// raftkit-sql with TLS on its port: a write sent to a follower is forwarded to the leader over
// https, checked against the node's --tls-ca (before, the forwarder trusted only the system CAs
// and every forwarded write failed); /nodes reaches every member over https and reports https
// API addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SQL_BIN } from './sql-cluster.js';
import { TlsCluster } from '../support/tls-cluster.js';

test('raftkit-sql over TLS forwards writes from a follower and reports its members over https', { timeout: 60_000 }, async (t) => {
  const c = new TlsCluster(SQL_BIN, 'sql');
  t.after(() => c.stopAll());
  const leader = await c.startAll();
  const follower = c.ids.find((id) => id !== leader)!;

  const ex = await c.call(follower, 'POST', '/db/execute', ['CREATE TABLE t (x)', 'INSERT INTO t VALUES (42)']);
  assert.equal(ex.status, 200, `${ex.text}\n${c.stderrOf(follower)}`);
  assert.equal(
    ex.body.results.find((r: { error?: string }) => r.error),
    undefined,
  );
  const q = await c.call(follower, 'GET', `/db/query?level=strong&q=${encodeURIComponent('SELECT x FROM t')}`);
  assert.deepEqual(q.body.results[0].values, [[42]]);

  const nodes = await c.call(follower, 'GET', '/nodes?nonvoters');
  assert.equal(nodes.status, 200, nodes.text);
  const members = Object.values(nodes.body) as { reachable: boolean; api_addr: string }[];
  assert.equal(members.length, 3);
  for (const m of members) {
    assert.equal(m.reachable, true, JSON.stringify(nodes.body));
    assert.match(m.api_addr, /^https:\/\/127\.0\.0\.1:\d+$/);
  }
});
