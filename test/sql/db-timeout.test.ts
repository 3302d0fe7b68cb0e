// db_timeout on a 3-node cluster. A runaway write is refused at the leader before it is logged
// (a dry run interrupted at the deadline), so no node holds any of it; a runaway query is
// interrupted where it runs, and the node goes on serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksumOf, converged, db, sqlCluster } from './sql-cluster.js';

const RUNAWAY_INSERT = 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 1000000000) INSERT INTO t SELECT i FROM c';
const RUNAWAY_SELECT = 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 1000000000) SELECT count(*) FROM c';

test('db_timeout: a runaway write is refused before the log, a runaway query is interrupted', { timeout: 60_000 }, async () => {
  const c = sqlCluster();
  try {
    const leader = await c.startAll();
    const follower = c.ids.find((id) => id !== leader)!;
    let r = await db(c, leader, 'execute', ['CREATE TABLE t (x INTEGER)', 'INSERT INTO t VALUES (1)']);
    assert.equal(r.status, 200, r.text);
    const before = await converged(c, c.ids);
    const lastIndex = (await c.kvStatus(leader)).lastIndex;

    // Sent to a follower, which forwards it; the leader's dry run stops at 200 ms.
    const t0 = Date.now();
    r = await db(c, follower, 'execute', ['INSERT INTO t VALUES (2)', RUNAWAY_INSERT], 'db_timeout=200ms');
    assert.equal(r.status, 200, r.text);
    assert.ok(Date.now() - t0 < 10_000, `the refusal took ${Date.now() - t0} ms`);
    assert.equal(r.body.results.length, 2);
    assert.equal(r.body.results[1].error, 'execute timeout');
    assert.match(r.body.results[0].error, /not applied/);
    // Nothing was logged: the log did not grow and every node holds what it held.
    assert.equal((await c.kvStatus(leader)).lastIndex, lastIndex);
    for (const id of c.ids) assert.equal((await checksumOf(c, id)).checksum, before.checksum);

    // The same request with room to finish is logged and applied everywhere.
    r = await db(
      c,
      leader,
      'execute',
      ['INSERT INTO t VALUES (2)', 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 1000) INSERT INTO t SELECT i FROM c'],
      'db_timeout=10s',
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.results[1].rows_affected, 1000);
    const after = await converged(c, c.ids);
    assert.notEqual(after.checksum, before.checksum);

    // A runaway query is interrupted on the node that runs it (level none: the follower itself).
    const q0 = Date.now();
    r = await db(c, follower, 'query', [RUNAWAY_SELECT, 'SELECT count(*) FROM t'], 'level=none&db_timeout=150ms');
    assert.equal(r.status, 200, r.text);
    assert.ok(Date.now() - q0 < 5_000, `the query ran ${Date.now() - q0} ms`);
    assert.deepEqual(r.body.results, [{ error: 'query timeout' }, { error: 'query timeout' }]);
    // Interrupted at the leader too (weak reads are served there), and both keep serving.
    r = await c.req(follower, 'GET', `/db/query?db_timeout=150ms&q=${encodeURIComponent(RUNAWAY_SELECT)}`);
    assert.deepEqual(r.body.results, [{ error: 'query timeout' }]);
    for (const id of [leader, follower]) {
      r = await db(c, id, 'query', ['SELECT count(*) FROM t'], 'level=none');
      assert.deepEqual(r.body.results[0].values, [[1002]]);
    }
  } finally {
    await c.stopAll();
  }
});
