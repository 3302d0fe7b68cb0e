// raftkit-sql's rqlite API on a 3-node cluster with a token: consistency levels and where each
// is served, freshness, redirect, read-after-write by raft_index, response flags, /db/request,
// backup and load, /status, /nodes and /readyz, and HTTP Basic authentication.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../kv/kv-cluster.js';
import { converged, db, sqlCluster, valuesOf } from './sql-cluster.js';

const TOKEN = 'sql-secret';

test('rqlite API: levels, redirect, raft_index, flags, request, backup/load, status, nodes, readyz, auth', { timeout: 60_000 }, async () => {
  const c = sqlCluster([1, 2, 3], { token: TOKEN });
  try {
    const leader = await c.startAll();
    const follower = c.ids.find((id) => id !== leader)!;

    // Auth: none is 401; Basic with the token as password (what rqlite clients send) is fine.
    let r = await c.req(leader, 'GET', '/status', { token: null });
    assert.equal(r.status, 401);
    r = await request(c.portOf(leader), 'GET', '/status', { headers: { authorization: `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}` } });
    assert.equal(r.status, 200, r.text);

    r = await db(c, follower, 'execute', ['CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER, at TEXT DEFAULT CURRENT_TIMESTAMP)'], 'raft_index');
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.raft_index > 0, r.text);
    r = await db(
      c,
      follower,
      'execute',
      [
        ['INSERT INTO kv(k, v) VALUES(?, ?)', 'a', 1],
        ['INSERT INTO kv(k, v) VALUES(?, ?)', 'b', 2],
      ],
      'raft_index&timings&transaction',
    );
    assert.equal(r.status, 200, r.text);
    const written = r.body.raft_index as number;
    assert.equal(r.headers['x-raftkit-applied-index'], String(written));
    assert.equal(typeof r.body.time, 'number');
    assert.equal(typeof r.body.results[0].time, 'number');

    // Read-after-write on a follower: raft_index=N (or the header) waits until N is applied there.
    r = await db(c, follower, 'query', ['SELECT v FROM kv ORDER BY k'], `level=none&raft_index=${written}`);
    assert.deepEqual(valuesOf(r), [[1], [2]]);
    r = await c.req(follower, 'GET', `/db/query?level=none&q=${encodeURIComponent('SELECT count(*) FROM kv')}`, { headers: { 'x-raftkit-applied-index': String(written) } });
    assert.deepEqual(valuesOf(r), [[2]]);

    // Every level answers from a follower; weak is served by the leader (forwarded), strong goes through the log.
    for (const level of ['none', 'weak', 'linearizable', 'strong', 'auto']) {
      r = await db(c, follower, 'query', ['SELECT k, v FROM kv ORDER BY k'], `level=${level}&raft_index=${written}`);
      assert.equal(r.status, 200, `${level}: ${r.text}`);
      assert.deepEqual(
        valuesOf(r),
        [
          ['a', 1],
          ['b', 2],
        ],
        level,
      );
    }
    // Freshness: a follower that cannot confirm within 1 ns is stale; a generous bound is fine.
    r = await db(c, follower, 'query', ['SELECT 1'], 'level=none&freshness=1ns');
    assert.deepEqual(r.body, { results: [], error: 'stale read' });
    r = await db(c, follower, 'query', ['SELECT 1'], 'level=none&freshness=5s');
    assert.deepEqual(valuesOf(r), [[1]]);
    r = await db(c, leader, 'query', ['SELECT 1'], 'level=none&freshness=1ns');
    assert.deepEqual(valuesOf(r), [[1]]);

    // redirect: 301 to the leader instead of forwarding.
    r = await db(c, follower, 'execute', ["INSERT INTO kv(k, v) VALUES('c', 3)"], 'redirect');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `${c.urlOf(leader)}/db/execute?redirect`);
    r = await c.req(follower, 'GET', '/db/query?level=weak&redirect&q=SELECT%201');
    assert.equal(r.status, 301);

    // GET ?q=, associative, pretty; /db/request tells reads from writes by the statement.
    r = await c.req(leader, 'GET', `/db/query?associative&q=${encodeURIComponent('SELECT k, v FROM kv ORDER BY k')}`);
    assert.deepEqual(r.body.results[0].rows, [
      { k: 'a', v: 1 },
      { k: 'b', v: 2 },
    ]);
    r = await c.req(leader, 'GET', `/db/query?pretty&q=${encodeURIComponent('SELECT 1')}`);
    assert.match(r.text, /^\{\n {4}"results": \[/);
    r = await db(c, follower, 'request', ["INSERT INTO kv(k, v) VALUES('c', 3)", 'SELECT count(*) FROM kv', 'INSERT INTO nosuch VALUES(1)']);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.results[0].rows_affected, 1);
    assert.deepEqual(r.body.results[1].values, [[3]]);
    assert.match(r.body.results[2].error, /no such table/);
    r = await db(c, follower, 'request', ['SELECT count(*) FROM kv'], 'level=none');
    assert.deepEqual(valuesOf(r), [[3]]);
    // Time functions are made deterministic: every node stored the leader's time.
    const stamped = await converged(c, c.ids);
    assert.equal(stamped.rows, 3);

    // Backup from a follower (the leader's copy), as a dump and as a SQLite file; load both back.
    r = await c.req(follower, 'GET', '/db/backup?fmt=sql');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'application/sql');
    assert.match(r.text, /^PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE kv/);
    assert.doesNotMatch(r.text, /_raftkit_/);
    const dump = r.text;
    const file = await fetch(`${c.urlOf(follower)}/db/backup`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(file.status, 200);
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(bytes.subarray(0, 15).toString('latin1'), 'SQLite format 3');

    r = await db(c, leader, 'execute', ['DROP TABLE kv', 'CREATE TABLE other (x)']);
    assert.equal(r.status, 200, r.text);
    r = await c.req(follower, 'POST', '/db/load', { raw: dump, headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { results: [{}] });
    assert.equal((await converged(c, c.ids)).checksum, stamped.checksum);
    r = await db(c, leader, 'execute', ['DELETE FROM kv']);
    r = await c.req(follower, 'POST', '/db/load', { raw: bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { results: [] });
    assert.equal((await converged(c, c.ids)).checksum, stamped.checksum);
    r = await c.req(follower, 'POST', '/db/load', { raw: 'BEGIN;\nATTACH DATABASE x AS y;\nCOMMIT;' });
    assert.equal(r.status, 400, r.text);

    // /status, /nodes, /readyz in rqlite's shapes.
    r = await c.req(follower, 'GET', '/status');
    assert.equal(r.body.store.node_id, String(follower));
    assert.equal(r.body.store.leader.node_id, String(leader));
    assert.equal(r.body.store.raft.state, 'Follower');
    assert.equal(r.body.store.nodes.length, 3);
    assert.equal(r.body.http.auth, 'enabled');
    r = await c.req(follower, 'GET', '/status?key=store.raft.state');
    assert.equal(r.text, '"Follower"');
    r = await c.req(follower, 'GET', '/nodes?ver=2');
    assert.equal(r.body.nodes.length, 3);
    assert.ok(r.body.nodes.every((n: { reachable: boolean }) => n.reachable));
    assert.equal(r.body.nodes.find((n: { leader: boolean }) => n.leader).id, String(leader));
    r = await c.req(follower, 'GET', '/readyz?sync');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /\[\+\]sync ok/);
    r = await c.req(follower, 'POST', '/status');
    assert.equal(r.status, 405);
  } finally {
    await c.stopAll();
  }
});
