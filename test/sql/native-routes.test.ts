// The SQL machine through raftkit's own routes (POST /v1/groups/sql/commands/execute,
// .../queries/query, .../commands/request) on a 3-node cluster: every statement form, tagged
// 64-bit integers and BLOBs, RETURNING and NULL, reads on followers, and bad input (bad JSON,
// oversized bodies, refused statements) answered with clear errors and changing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendLarge } from '../kv/kv-cluster.js';
import { checksumOf, converged, sqlCluster } from './sql-cluster.js';

test('native routes: statement forms, exact values, reads anywhere, bad input refused', { timeout: 60_000 }, async () => {
  const c = sqlCluster([1, 2, 3], { extraArgs: ['--max-request-bytes', '262144'] });
  try {
    const leader = await c.startAll();
    const follower = c.ids.find((id) => id !== leader)!;

    // Any node takes a command; a follower forwards it.
    let r = await c.command(follower, 'execute', { statements: ['CREATE TABLE v (id INTEGER PRIMARY KEY, n INTEGER, b BLOB, t TEXT, r REAL)'] });
    assert.equal(r.status, 200, r.text);
    r = await c.command(leader, 'execute', {
      transaction: true,
      statements: [
        { sql: 'INSERT INTO v(n, b, t) VALUES(?, ?, ?)', params: [{ int: '9223372036854775807' }, { blob: 'AAEC/w==' }, null] },
        ['INSERT INTO v(n, t) VALUES(?, ?)', { int: '-9223372036854775808' }, 'positional'],
        ['INSERT INTO v(n, t, r) VALUES(:n, :t, :r)', { n: { int: '9007199254740993' }, t: 'named', r: { real: 2 } }],
        'INSERT INTO v(t) VALUES(NULL)',
      ],
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.result.map((x: { lastInsertId: number }) => x.lastInsertId),
      [1, 2, 3, 4],
    );
    const written = r.body.index as number;

    // A follower reads its own copy once it applied the write (linearizable: through the leader).
    r = await c.query(follower, 'query', { statements: ['SELECT n, b, t, r, typeof(r) FROM v ORDER BY id'] }, 'linearizable');
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.index >= written);
    const rows = r.body.result[0].rows;
    assert.deepEqual(rows[0], [{ int: '9223372036854775807' }, { blob: 'AAEC/w==' }, null, null, 'null']);
    assert.deepEqual(rows[1], [{ int: '-9223372036854775808' }, null, 'positional', null, 'null']);
    assert.deepEqual(rows[2], [{ int: '9007199254740993' }, null, 'named', 2, 'real']);
    assert.deepEqual(r.body.result[0].types, ['integer', 'blob', 'text', 'real', 'text']);

    // request: reads and writes through the log, RETURNING answers rows.
    r = await c.command(follower, 'request', { statements: ["UPDATE v SET t = 'x' WHERE id = 4 RETURNING id, t", 'SELECT count(*) AS n FROM v'] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.result[0].rows, [[4, 'x']]);
    assert.deepEqual(r.body.result[1].rows, [[4]]);
    const settled = await converged(c, c.ids);

    // A write sent as a query is refused in its place and changes nothing.
    r = await c.query(leader, 'query', { statements: ['DELETE FROM v', 'SELECT count(*) FROM v'] }, 'local');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.result[0], { error: 'attempt to change database via query operation' });
    assert.deepEqual(r.body.result[1].rows, [[4]]);

    // Refused statements: 400 naming them, nothing logged.
    const lastIndex = (await c.kvStatus(leader)).lastIndex;
    for (const bad of [
      'ATTACH DATABASE "/tmp/x.db" AS x',
      'VACUUM',
      'PRAGMA synchronous=OFF',
      'SELECT load_extension("x")',
      'CREATE TEMP TABLE tt(a)',
      'DELETE FROM _raftkit_state',
    ]) {
      r = await c.command(follower, 'execute', { statements: ['INSERT INTO v(t) VALUES(1)', bad] });
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.match(r.body.message, /statements\[1\]|refused/);
    }
    r = await c.command(leader, 'execute', { statements: [['INSERT INTO v(n) VALUES(?)', { int: '99999999999999999999' }]] });
    assert.equal(r.status, 400, r.text);
    assert.match(r.body.message, /64-bit/);
    r = await c.command(leader, 'execute', { statements: [{ sql: 'SELECT 1', extra: true }] });
    assert.equal(r.status, 400, r.text);
    r = await c.command(leader, 'execute', { statements: [] });
    assert.equal(r.status, 400, r.text);

    // Bad JSON and oversized bodies, on both APIs.
    r = await c.req(leader, 'POST', '/v1/groups/sql/commands/execute', { raw: '{"statements": [' });
    assert.equal(r.status, 400, r.text);
    r = await c.req(follower, 'POST', '/db/execute', { raw: '[["INSERT INTO v(t) VALUES(?)", ' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /invalid JSON body/);
    r = await c.req(follower, 'POST', '/db/execute', { raw: '{"not": "an array"}' });
    assert.equal(r.status, 400, r.text);
    r = await sendLarge(c.portOf(leader), '/v1/groups/sql/commands/execute', 2 * 1024 * 1024, 'declared');
    assert.equal(r.status, 413, r.text);
    r = await sendLarge(c.portOf(follower), '/db/execute', 1024 * 1024, 'declared');
    assert.equal(r.status, 413, r.text);
    // Streamed: just over the limit, so the client has sent it all when the 413 comes (a larger
    // rest still in flight can meet the closed connection first).
    r = await sendLarge(c.portOf(follower), '/db/execute', 262_144 + 1024, 'chunked');
    assert.equal(r.status, 413, r.text);
    r = await c.req(follower, 'POST', '/db/execute', { raw: '["PRAGMA writable_schema=ON"]' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /PRAGMA writable_schema is not accepted/);

    assert.equal((await c.kvStatus(leader)).lastIndex, lastIndex, 'a refused request reached the log');
    for (const id of c.ids) assert.equal((await checksumOf(c, id)).checksum, settled.checksum);
  } finally {
    await c.stopAll();
  }
});
