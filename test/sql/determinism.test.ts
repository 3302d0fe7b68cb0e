// Every node computes the same database. A random workload of a few thousand statements using
// every non-deterministic SQL function the store makes deterministic (random(), randomblob(),
// date/time/datetime/julianday('now'), CURRENT_TIMESTAMP/DATE/TIME), on 3 nodes with a small
// snapshot interval: one follower is down for most of it and comes back behind the compacted
// log (it installs the database as a snapshot file), the leader is killed half-way. At the end
// every node's checksum of the whole database is the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { converged, db, sqlCluster } from './sql-cluster.js';

/** A small deterministic PRNG for the workload itself (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATEMENTS = [
  (k: number) => `INSERT INTO w(k, r, b, d, t, dt, j) VALUES (${k}, random(), randomblob(1 + abs(random()) % 16), date('now'), time('now'), datetime('now'), julianday('now'))`,
  (k: number) => `INSERT INTO w(k, r) VALUES (${k}, random() % 1000) ON CONFLICT(k) DO UPDATE SET r = excluded.r, b = randomblob(4)`,
  (k: number) => `UPDATE w SET d = CURRENT_DATE, t = CURRENT_TIME, dt = CURRENT_TIMESTAMP WHERE k % 7 = ${k % 7}`,
  (k: number) => `DELETE FROM w WHERE k = ${k} AND abs(random()) % 3 = 0`,
  (k: number) => `INSERT INTO log(k, at) SELECT k, strftime('%Y-%m-%d %H:%M:%f', 'now') FROM w WHERE k BETWEEN ${k} AND ${k + 3}`,
  (k: number) => `UPDATE w SET r = r + (SELECT count(*) FROM log) WHERE k = ${k}`,
];

test('a random workload with a leader kill and a snapshot install ends with the same database on every node', { timeout: 120_000 }, async () => {
  const c = sqlCluster([1, 2, 3], { extraArgs: ['--snapshot-entries', '60'] });
  const rand = prng(12);
  try {
    let leader = await c.startAll();
    let r = await db(c, leader, 'execute', [
      'CREATE TABLE w (k INTEGER PRIMARY KEY, r INTEGER, b BLOB, d TEXT, t TEXT, dt TEXT, j REAL, created TEXT DEFAULT CURRENT_TIMESTAMP)',
      'CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, k INTEGER, at TEXT, seen TEXT DEFAULT (CURRENT_TIME))',
    ]);
    assert.equal(r.status, 200, r.text);
    const lagging = c.ids.find((id) => id !== leader)!;
    await c.stop(lagging);

    let statements = 0;
    const batches = 300;
    for (let batch = 0; batch < batches; batch++) {
      if (batch === batches / 2) {
        // kill -9 of the leader half-way; the lagging follower is still down, so the third node
        // and the restarted old leader form the quorum.
        await c.kill(leader);
        c.start(leader);
        leader = await c.waitLeader(
          c.ids.filter((id) => id !== lagging),
          20_000,
        );
      }
      const size = 5 + Math.floor(rand() * 10);
      const body = Array.from({ length: size }, () => STATEMENTS[Math.floor(rand() * STATEMENTS.length)]!(Math.floor(rand() * 200)));
      const transaction = rand() < 0.3;
      r = await db(c, leader, batch % 2 === 0 ? 'execute' : 'request', body, transaction ? 'transaction' : '');
      if (r.status === 503) {
        // An election in progress: this batch is retried once the new leader is known.
        leader = await c.waitLeader(
          c.ids.filter((id) => c.isRunning(id)),
          20_000,
        );
        batch--;
        continue;
      }
      assert.equal(r.status, 200, r.text);
      statements += size;
    }
    assert.ok(statements > 2_500, `${statements} statements`);

    // The follower comes back far behind the compacted log: it installs a snapshot file.
    c.start(lagging);
    const sum = await converged(c, c.ids, 40_000);
    assert.ok(sum.rows > 100, `${sum.rows} rows`);
    const logged = (await c.kvStatus(leader)).firstIndex;
    assert.ok(logged > 2, `the log was compacted (first index ${logged})`);
  } finally {
    await c.stopAll();
  }
});
