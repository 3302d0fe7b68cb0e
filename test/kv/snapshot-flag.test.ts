import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCluster } from './kv-cluster.js';

test('--snapshot-entries compacts the log every N entries; a watch from before it answers 410 with firstIndex', { timeout: 60_000 }, async () => {
  const c = new KvCluster([1, 2, 3], { extraArgs: ['--snapshot-entries', '20'] });
  try {
    const leader = await c.startAll();
    for (let i = 0; i < 100; i++) await c.ok(leader, 'put', { key: `k${i % 7}`, value: String(i) });
    const st = await c.kvStatus(leader);
    assert.ok(st.firstIndex > 50, `the log was compacted (first index ${st.firstIndex})`);
    const r = await c.req(leader, 'GET', '/v1/groups/kv/watch?from=1');
    assert.equal(r.status, 410, r.text);
    assert.equal(r.body.error, 'compacted');
    assert.ok(Number.isInteger(r.body.firstIndex) && r.body.firstIndex > 1, r.text);
    // The state is intact after compaction: the key written last at i = 99 holds "99".
    const got = await c.query(leader, 'get', { key: 'k1' });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.result.value, '99');
  } finally {
    await c.stopAll();
  }
});
