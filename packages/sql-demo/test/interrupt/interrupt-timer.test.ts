import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { InterruptTimer, isInterrupted } from '../../src/interrupt/interrupt-timer.js';

const LONG = 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 1000000000) INSERT INTO t SELECT i FROM c';

function open(): { db: Database.Database; timer: InterruptTimer } {
  const db = new Database(':memory:');
  const timer = InterruptTimer.load(db);
  assert.ok(timer, 'the interrupt extension must be built (npm run build compiles it)');
  db.exec('CREATE TABLE t(x)');
  return { db, timer };
}

test('a statement past its deadline is interrupted and changes nothing', () => {
  const { db, timer } = open();
  const t0 = Date.now();
  assert.throws(
    () => timer.within(100, () => db.exec(LONG)),
    (e: unknown) => isInterrupted(e),
  );
  const took = Date.now() - t0;
  assert.ok(took < 5_000, `interrupted after ${took} ms`);
  assert.deepEqual(db.prepare('SELECT count(*) AS c FROM t').get(), { c: 0 });
  db.close();
});

test('the deadline is disarmed afterwards: later statements run to the end', () => {
  const { db, timer } = open();
  assert.deepEqual(
    timer.within(5_000, () => db.prepare('SELECT 41 + 1 AS v').get()),
    { v: 42 },
  );
  db.exec('INSERT INTO t SELECT value FROM json_each(json_array(1, 2, 3))');
  timer.within(50, () => db.exec('INSERT INTO t VALUES (4)'));
  // Well after that deadline, nothing armed: a long statement completes.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120);
  db.exec('WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 300000) INSERT INTO t SELECT i FROM c');
  assert.deepEqual(db.prepare('SELECT count(*) AS c FROM t').get(), { c: 300_004 });
  db.close();
});
