import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { plan, openEngine, stamp, tempDir, TX, WRITE } from './engine-fixture.js';

const RUNAWAY_INSERT = 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 1000000000) INSERT INTO t SELECT i FROM c';

test('the applied index is recorded with each entry and reported again on open', () => {
  const { engine, dir, dispose } = openEngine();
  try {
    engine.apply(stamp(7), plan(['CREATE TABLE t (x)']), WRITE);
    engine.apply(stamp(9), plan(['INSERT INTO t VALUES (1)', 'INSERT INTO nosuch VALUES (1)']), WRITE);
    engine.close();
    assert.equal(engine.open(dir), 9);
    assert.equal(engine.info().appliedIndex, 9);
  } finally {
    dispose();
  }
});

test('transaction=false: a failing statement leaves no trace and the others apply; transaction=true: all or nothing', () => {
  const { engine, dispose } = openEngine();
  try {
    engine.apply(stamp(), plan(['CREATE TABLE t (x INTEGER UNIQUE)']), WRITE);
    let r = engine.apply(stamp(), plan(['INSERT INTO t VALUES (1)', 'INSERT INTO t VALUES (1), (2)', 'INSERT INTO t VALUES (3)']), WRITE);
    assert.deepEqual(r, [{ lastInsertId: 1, rowsAffected: 1 }, { error: 'UNIQUE constraint failed: t.x' }, { lastInsertId: 2, rowsAffected: 1 }]);
    r = engine.apply(stamp(), plan(['INSERT INTO t VALUES (4)', 'INSERT INTO t VALUES (1)', 'INSERT INTO t VALUES (5)']), TX);
    assert.equal(r.length, 2);
    assert.deepEqual(r[1], { error: 'UNIQUE constraint failed: t.x' });
    const rows = engine.read(plan(['SELECT x FROM t ORDER BY x']), { timings: false });
    assert.deepEqual(rows[0], { columns: ['x'], types: ['integer'], declaredTypes: ['INTEGER'], rows: [[1], [3]] });
  } finally {
    dispose();
  }
});

test('ON CONFLICT ROLLBACK ends SQLite transaction early: the rest of the entry and its index still commit together', () => {
  const { engine, dir, dispose } = openEngine();
  try {
    engine.apply(stamp(1), plan(['CREATE TABLE t (x INTEGER UNIQUE)', 'INSERT INTO t VALUES (1)']), WRITE);
    const r = engine.apply(stamp(2), plan(['INSERT INTO t VALUES (2)', 'INSERT OR ROLLBACK INTO t VALUES (1)', 'INSERT INTO t VALUES (3)']), WRITE);
    assert.deepEqual(r[1], { error: 'UNIQUE constraint failed: t.x' });
    engine.close();
    assert.equal(engine.open(dir), 2);
    // The rollback took statement 1 with it (as on every node); statement 3 applied.
    assert.deepEqual((engine.read(plan(['SELECT x FROM t ORDER BY x']), { timings: false })[0] as { rows: unknown }).rows, [[1], [3]]);
  } finally {
    dispose();
  }
});

test('random(), randomblob() and the clock are the same on two nodes applying the same entry', () => {
  const a = openEngine();
  const b = openEngine();
  try {
    const entry = ['CREATE TABLE t (r INTEGER, b BLOB, ts TEXT DEFAULT CURRENT_TIMESTAMP, d TEXT)', "INSERT INTO t(r, b, d) VALUES (random(), randomblob(8), datetime('now'))"];
    for (const { engine } of [a, b]) engine.apply(stamp(3, Date.UTC(2030, 5, 6, 7, 8, 9)), plan(entry, Date.UTC(2030, 5, 6, 7, 8, 9)), WRITE);
    assert.equal(a.engine.checksum().checksum, b.engine.checksum().checksum);
    const row = (a.engine.read(plan(['SELECT ts, d FROM t']), { timings: false })[0] as { rows: unknown[][] }).rows[0];
    assert.deepEqual(row, ['2030-06-06 07:08:09', '2030-06-06 07:08:09']);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test("a clock read through the log is named as the client wrote it, not by the entry's time", () => {
  const { engine, dispose } = openEngine();
  try {
    const at = Date.UTC(2030, 5, 6, 7, 8, 9);
    engine.apply(stamp(1, at), plan(['CREATE TABLE t (x)'], at), WRITE);
    const [read] = engine.apply(stamp(2, at), plan(["SELECT datetime('now'), CURRENT_DATE AS d, 1 + 1"], at), { ...WRITE, mode: 'request' });
    assert.deepEqual(read, {
      columns: ["datetime('now')", 'd', '1 + 1'],
      types: ['text', 'text', 'integer'],
      declaredTypes: [null, null, null],
      rows: [['2030-06-06 07:08:09', '2030-06-06', 2]],
    });
    const [returned] = engine.apply(stamp(3, at), plan(["INSERT INTO t VALUES (1) RETURNING x, date('now')"], at), WRITE);
    assert.deepEqual((returned as { columns: unknown }).columns, ['x', "date('now')"]);
  } finally {
    dispose();
  }
});

test('reads: a write is refused in its place, a huge result stops at the limit with a hint to page', () => {
  const { engine, dispose } = openEngine({ maxQueryResultBytes: 64 * 1024 });
  try {
    engine.apply(
      stamp(),
      plan(['CREATE TABLE t (x TEXT)', "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 5000) INSERT INTO t SELECT printf('%050d', i) FROM c"]),
      WRITE,
    );
    const r = engine.read(plan(['DELETE FROM t', 'SELECT * FROM t', 'SELECT count(*) FROM t']), { timings: false });
    assert.deepEqual(r[0], { error: 'attempt to change database via query operation' });
    assert.match((r[1] as { error: string }).error, /larger than 65536 bytes.*LIMIT/);
    assert.deepEqual((r[2] as { rows: unknown }).rows, [[5000]]);
  } finally {
    dispose();
  }
});

test('db_timeout interrupts a read; a dry run tells a write that would run past it and changes nothing', () => {
  const { engine, dispose } = openEngine();
  try {
    assert.ok(engine.interruptible, 'the interrupt extension must be built (npm run build)');
    engine.apply(stamp(), plan(['CREATE TABLE t (x)', 'INSERT INTO t VALUES (1)']), WRITE);
    const before = engine.checksum();
    const t0 = Date.now();
    const r = engine.read(plan(['WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 1000000000) SELECT count(*) FROM c', 'SELECT 1']), {
      timings: false,
      dbTimeoutMs: 100,
    });
    assert.deepEqual(r, [{ error: 'query timeout' }, { error: 'query timeout' }]);
    assert.ok(Date.now() - t0 < 5_000);
    assert.deepEqual(engine.probe(plan(['INSERT INTO t VALUES (2)', RUNAWAY_INSERT]), { dbTimeoutMs: 100, transaction: false, mode: 'execute' }), { checked: true, timedOut: 1 });
    assert.deepEqual(engine.probe(plan(['INSERT INTO t VALUES (2)']), { dbTimeoutMs: 5_000, transaction: true, mode: 'execute' }), { checked: true });
    assert.equal(engine.checksum().checksum, before.checksum);
    // The deadline is disarmed after the dry run: the next entry applies in full.
    engine.apply(stamp(), plan(['WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 200000) INSERT INTO t SELECT i FROM c']), WRITE);
    assert.equal(engine.checksum().rows, 200_001);
  } finally {
    dispose();
  }
});

test('a snapshot file restores the same database and applied index on another node', async () => {
  const a = openEngine();
  const b = openEngine();
  try {
    a.engine.apply(stamp(40), plan(['CREATE TABLE t (id INTEGER PRIMARY KEY, v)', "INSERT INTO t(v) VALUES ('x'), (randomblob(4)), (9223372036854775807)"]), WRITE);
    const pinned = a.engine.pin();
    // Later writes do not reach the pinned state.
    a.engine.apply(stamp(41), plan(['INSERT INTO t(v) VALUES (1)']), WRITE);
    const file = join(tempDir(), 'snap.db');
    await a.engine.savePinned(pinned, file);
    await b.engine.recover(file);
    assert.equal(b.engine.info().appliedIndex, 40);
    assert.equal(b.engine.checksum().rows, 3);
    b.engine.apply(stamp(41), plan(['INSERT INTO t(v) VALUES (1)']), WRITE);
    assert.equal(b.engine.checksum().checksum, a.engine.checksum().checksum);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('backups: the SQLite file leaves the store table out; a dump loaded elsewhere rebuilds the same database', async () => {
  const a = openEngine();
  const b = openEngine();
  try {
    a.engine.apply(
      stamp(),
      plan([
        'CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v, r REAL)',
        'CREATE INDEX t_v ON t(v)',
        'CREATE VIEW tv AS SELECT v FROM t',
        "INSERT INTO t(v, r) VALUES ('it''s', 0.1), (x'00ff', 1e300), (NULL, -0.0), (-9223372036854775808, 3.141592653589793)",
        'CREATE TABLE w (a, b, PRIMARY KEY (b, a)) WITHOUT ROWID',
        "INSERT INTO w VALUES (2, 'b'), (1, 'a')",
      ]),
      WRITE,
    );
    const file = await a.engine.backup('binary');
    assert.equal(readFileSync(file).subarray(0, 15).toString('latin1'), 'SQLite format 3');
    const dumpFile = await a.engine.backup('sql');
    const dump = readFileSync(dumpFile, 'utf8');
    assert.doesNotMatch(dump, /_raftkit_/);
    assert.match(dump, /INSERT INTO sqlite_sequence VALUES\('t',4\);/);
    const { statementsOfDump, statementsOfDatabaseFile } = await import('../../src/engine/load-source.js');
    const statements = statementsOfDump(dump);
    assert.deepEqual(b.engine.load(stamp(), plan(statements)), { statements: statements.length });
    assert.equal(b.engine.checksum().checksum, a.engine.checksum().checksum);
    // The binary backup dumps to the same statements.
    assert.deepEqual(await statementsOfDatabaseFile(readFileSync(file)), statements);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('a load that fails changes nothing', () => {
  const { engine, dispose } = openEngine();
  try {
    engine.apply(stamp(), plan(['CREATE TABLE keep (x)', 'INSERT INTO keep VALUES (1)']), WRITE);
    const before = engine.checksum();
    const r = engine.load(stamp(), plan(['CREATE TABLE n (x)', 'INSERT INTO nosuch VALUES (1)']));
    assert.deepEqual(r, { failed: { statement: 1, error: 'no such table: nosuch' }, statements: 2 });
    assert.equal(engine.checksum().checksum, before.checksum);
  } finally {
    dispose();
  }
});
