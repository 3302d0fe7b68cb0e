// rqlite's own JavaScript client, unchanged, against a 3-node raftkit-sql cluster of real
// processes: tables, parameters, transactions, an error inside a batch where rqlite places it,
// 64-bit integers and BLOBs, refused statements, a write sent as a query, and a kill -9 of the
// leader in between, after which the client's own retries carry on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataApiClient, type DataResult, type DataResultError } from 'rqlite-js';
import { checksumOf, converged, sqlCluster } from './sql-cluster.js';

interface AxiosFailure {
  response?: { status: number; data: unknown };
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; text: string }> {
  try {
    await p;
  } catch (e) {
    const r = (e as AxiosFailure).response;
    if (r) return { status: r.status, text: String(r.data) };
    throw e;
  }
  assert.fail('the request was not refused');
}

test('rqlite-js against a 3-node raftkit-sql cluster, through a leader kill', { timeout: 60_000 }, async () => {
  const c = sqlCluster();
  try {
    const leader = await c.startAll();
    // The leader first: rqlite-js sends writes and leader-level reads to its first host.
    const hosts = [leader, ...c.ids.filter((id) => id !== leader)].map((id) => c.urlOf(id));
    const client = new DataApiClient(hosts, { exponentailBackoffBase: 300 });

    let r = await client.execute('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, photo BLOB, big INTEGER)');
    assert.equal(r.hasError(), false, String(r.getFirstError()));

    // Parameters, positional and named.
    r = await client.execute([
      ['INSERT INTO people(name, age) VALUES(?, ?)', 'fiona', 20],
      ['INSERT INTO people(name, age) VALUES(:name, :age)', { name: 'declan', age: 30 }],
    ]);
    assert.equal(r.hasError(), false, String(r.getFirstError()));
    assert.equal((r.get(0) as DataResult).getLastInsertId(), 1);
    assert.equal((r.get(1) as DataResult).getRowsAffected(), 1);

    r = await client.query('SELECT name, age FROM people ORDER BY id');
    assert.deepEqual(r.toArray(), [
      { name: 'fiona', age: 20 },
      { name: 'declan', age: 30 },
    ]);

    // A transaction is all or nothing: its second statement fails, the first is rolled back.
    r = await client.execute(["INSERT INTO people(name) VALUES('tx-one')", 'INSERT INTO nosuch VALUES(1)'], { transaction: true });
    assert.equal(r.hasError(), true);
    assert.match(String((r.get(1) as DataResultError).message), /no such table: nosuch/);
    r = await client.query("SELECT count(*) AS n FROM people WHERE name = 'tx-one'", { level: 'strong' });
    assert.equal((r.get(0) as DataResult).get('n'), 0);

    // Without a transaction an error stands in its statement's place and the others apply.
    r = await client.execute(["INSERT INTO people(name) VALUES('batch-a')", 'INSERT INTO nosuch VALUES(1)', "INSERT INTO people(name) VALUES('batch-b')"]);
    const results = r.getResults();
    assert.equal(results.length, 3);
    assert.equal(results[0]!.constructor.name, 'DataResult');
    assert.equal(results[1]!.constructor.name, 'DataResultError');
    assert.match((results[1] as DataResultError).message, /no such table: nosuch/);
    assert.equal((results[2] as DataResult).getRowsAffected(), 1);

    // 64-bit integers and BLOBs round-trip exactly (the client's JSON parser would round the
    // integer, so it is checked as text and in the raw answer).
    r = await client.execute([["INSERT INTO people(name, photo, big) VALUES('bytes', ?, 9223372036854775807)", "x'0102ff00'"]]);
    assert.equal(r.hasError(), false, String(r.getFirstError()));
    r = await client.query("SELECT photo, CAST(big AS TEXT) AS big FROM people WHERE name = 'bytes'", { level: 'linearizable' });
    assert.deepEqual(r.toArray(), [{ photo: Buffer.from([1, 2, 255, 0]).toString('base64'), big: '9223372036854775807' }]);
    const raw = await c.req(leader, 'GET', `/db/query?q=${encodeURIComponent("SELECT big FROM people WHERE name = 'bytes'")}`);
    assert.match(raw.text, /"values":\[\[9223372036854775807\]\]/);

    // A statement the store refuses: 400 naming it, nothing logged.
    const before = await checksumOf(c, leader);
    let refused = await refusal(client.execute(["INSERT INTO people(name) VALUES('never')", 'PRAGMA journal_mode=DELETE']));
    assert.equal(refused.status, 400);
    assert.match(refused.text, /PRAGMA journal_mode/);
    refused = await refusal(client.execute('BEGIN TRANSACTION'));
    assert.equal(refused.status, 400);
    // A write sent as a query is refused in its place and changes nothing.
    r = await client.query("INSERT INTO people(name) VALUES('via-query')");
    assert.match(String(r.getFirstError()?.message), /attempt to change database via query operation/);
    assert.equal((await checksumOf(c, leader)).checksum, before.checksum);

    const settled = await converged(c, c.ids);

    // kill -9 of the leader: the client's retries find the new one.
    await c.kill(leader);
    for (let i = 0; i < 5; i++) {
      r = await client.execute([['INSERT INTO people(name, age) VALUES(?, ?)', `after-${i}`, i]]);
      assert.equal(r.hasError(), false, String(r.getFirstError()));
    }
    r = await client.query("SELECT count(*) AS n FROM people WHERE name LIKE 'after-%'", { level: 'linearizable' });
    assert.equal((r.get(0) as DataResult).get('n'), 5);
    r = await client.query('SELECT count(*) AS n FROM people', { level: 'none' });
    assert.ok(Number((r.get(0) as DataResult).get('n')) >= settled.rows);
    const survivors = c.ids.filter((id) => id !== leader);
    const after = await converged(c, survivors);
    assert.equal(after.rows, settled.rows + 5);
  } finally {
    await c.stopAll();
  }
});
