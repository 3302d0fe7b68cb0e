// Entries applied close together share one SQLite transaction (entry-transactions.ts). Each test
// applies the same entries to two engines: one at once (one burst), the other waiting for the
// commit after each entry (each entry its own transaction, as before group commit). Results, databases and
// applied indexes must be the same, whatever rolls back, fails or throws on the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { FLUSH_DELAY_MS } from '../../src/engine/entry-transactions.js';
import type { SqlEngine } from '../../src/engine/sql-engine.js';
import type { PlannedStatement } from '../../src/machine/statement-plan.js';
import { openEngine, plan, stamp, TX, WRITE } from './engine-fixture.js';

interface Entry {
  index: number;
  statements: PlannedStatement[];
  transaction?: boolean;
}

/** Until an open burst has committed. */
const committed = () => new Promise<void>((resolve) => setTimeout(resolve, FLUSH_DELAY_MS + 5));

function applyOne(engine: SqlEngine, e: Entry): unknown {
  try {
    return engine.apply(stamp(e.index), e.statements, e.transaction ? TX : WRITE);
  } catch (err) {
    return { thrown: (err as Error).message };
  }
}

/** The entries' results on a grouping engine (one burst) and a one-by-one engine, and both engines. */
async function bothWays(entries: Entry[]): Promise<{ grouped: unknown[]; single: unknown[]; g: ReturnType<typeof openEngine>; s: ReturnType<typeof openEngine> }> {
  const g = openEngine();
  const s = openEngine();
  const grouped = entries.map((e) => applyOne(g.engine, e));
  const single: unknown[] = [];
  for (const e of entries) {
    single.push(applyOne(s.engine, e));
    await committed();
  }
  return { grouped, single, g, s };
}

function rowsOf(engine: SqlEngine, sql: string): unknown {
  return (engine.read(plan([sql]), { timings: false })[0] as { rows: unknown }).rows;
}

test('a burst: same results and database as one transaction per entry; committed once the burst closes, index included', async () => {
  const entries: Entry[] = [
    { index: 1, statements: plan(['CREATE TABLE t (k INTEGER PRIMARY KEY, v, r)']) },
    { index: 2, statements: plan(["INSERT INTO t(v, r) VALUES ('a', random()), ('b', randomblob(4))"]) },
    { index: 3, statements: plan(['INSERT INTO t(k, v) VALUES (1, 0)', 'INSERT INTO t(v) VALUES (1)']) },
    { index: 4, statements: plan(['UPDATE t SET v = v || v', 'INSERT INTO nosuch VALUES (1)']), transaction: true },
    { index: 5, statements: plan(["INSERT INTO t(v) VALUES (datetime('now')) RETURNING k, v"], Date.UTC(2031, 1, 2)) },
  ];
  const open = openEngine();
  const other = new Database(join(open.dir, 'sql.db'), { readonly: true });
  try {
    for (const e of entries) applyOne(open.engine, e);
    // The burst is still open: another connection sees nothing of it yet, then all of it.
    const count = (sql: string) => (other.prepare(sql).pluck().get() as number | undefined) ?? 0;
    assert.equal(count("SELECT count(*) FROM sqlite_schema WHERE name = 't'"), 0);
    await committed();
    assert.equal(count('SELECT count(*) FROM t'), 4);
    assert.equal(count('SELECT applied_index FROM _raftkit_state'), 5);
  } finally {
    other.close();
    open.dispose();
  }
  const { grouped, single, g, s } = await bothWays(entries);
  try {
    assert.deepEqual(grouped, single);
    assert.equal(g.engine.checksum().checksum, s.engine.checksum().checksum);
  } finally {
    g.dispose();
    s.dispose();
  }
});

test('ON CONFLICT ROLLBACK inside a burst undoes no earlier entry: that entry gets a transaction of its own', async () => {
  const entries: Entry[] = [
    { index: 1, statements: plan(['CREATE TABLE t (x INTEGER UNIQUE)', 'INSERT INTO t VALUES (1)']) },
    { index: 2, statements: plan(['INSERT INTO t VALUES (10)']) },
    { index: 3, statements: plan(['INSERT INTO t VALUES (2)', 'INSERT OR ROLLBACK INTO t VALUES (1)', 'INSERT INTO t VALUES (3)']) },
    { index: 4, statements: plan(['INSERT INTO t VALUES (11)']) },
    { index: 5, statements: plan(['INSERT INTO t VALUES (4)', 'INSERT OR ROLLBACK INTO t VALUES (1)']), transaction: true },
    { index: 6, statements: plan(['INSERT INTO t VALUES (12)']) },
  ];
  const { grouped, single, g, s } = await bothWays(entries);
  try {
    assert.deepEqual(grouped, single);
    assert.deepEqual((grouped[2] as unknown[])[1], { error: 'UNIQUE constraint failed: t.x' });
    // Entries 2, 4 and 6 kept; of entry 3, the statement after the rollback; nothing of entry 5.
    assert.deepEqual(rowsOf(g.engine, 'SELECT x FROM t ORDER BY x'), [[1], [3], [10], [11], [12]]);
    assert.equal(g.engine.checksum().checksum, s.engine.checksum().checksum);
    assert.equal(g.engine.info().appliedIndex, 6);
  } finally {
    g.dispose();
    s.dispose();
  }
});

test('a schema that can roll back or defer a check (conflict clause, RAISE(ROLLBACK), deferred key): every entry alone', async () => {
  const entries: Entry[] = [
    {
      index: 1,
      statements: plan([
        'CREATE TABLE r (x INTEGER UNIQUE ON CONFLICT ROLLBACK)',
        'CREATE TABLE guarded (x)',
        "CREATE TRIGGER no_negatives BEFORE INSERT ON guarded WHEN NEW.x < 0 BEGIN SELECT RAISE(ROLLBACK, 'negative'); END",
        'CREATE TABLE p (id INTEGER PRIMARY KEY)',
        'CREATE TABLE c (pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)',
      ]),
    },
    { index: 2, statements: plan(['INSERT INTO r VALUES (1)', 'INSERT INTO guarded VALUES (1)', 'INSERT INTO p VALUES (1)']) },
    // A plain INSERT that the table's clause turns into a rollback of the whole transaction.
    { index: 3, statements: plan(['INSERT INTO guarded VALUES (2)', 'INSERT INTO r VALUES (1)', 'INSERT INTO guarded VALUES (3)']) },
    { index: 4, statements: plan(['INSERT INTO guarded VALUES (4)']) },
    { index: 5, statements: plan(['INSERT INTO guarded VALUES (5)', 'INSERT INTO guarded VALUES (-1)', 'INSERT INTO guarded VALUES (6)']) },
    { index: 6, statements: plan(['INSERT INTO c VALUES (1)']) },
    // Checked at COMMIT: the entry fails as a whole, the ones around it stay.
    { index: 7, statements: plan(['INSERT INTO guarded VALUES (7)', 'INSERT INTO c VALUES (99)']) },
    { index: 8, statements: plan(['INSERT INTO guarded VALUES (8)']) },
  ];
  const { grouped, single, g, s } = await bothWays(entries);
  try {
    assert.deepEqual(grouped, single);
    assert.deepEqual((grouped[4] as unknown[])[1], { error: 'negative' });
    assert.match((grouped[6] as { thrown: string }).thrown, /FOREIGN KEY constraint failed/);
    assert.deepEqual(rowsOf(g.engine, 'SELECT x FROM guarded ORDER BY x'), [[1], [3], [4], [6], [8]]);
    assert.equal(g.engine.checksum().checksum, s.engine.checksum().checksum);
    assert.equal(g.engine.info().appliedIndex, 8);
  } finally {
    g.dispose();
    s.dispose();
  }
});

test('an entry that throws inside a burst is undone alone; one whose time SQLite cannot represent runs nothing', async () => {
  const boom = { ...plan(['INSERT INTO t VALUES (99)'])[0]! };
  Object.defineProperty(boom, 'pieces', {
    get() {
      throw new Error('boom');
    },
  });
  const entries: Entry[] = [
    { index: 1, statements: plan(['CREATE TABLE t (x)', 'INSERT INTO t VALUES (1)']) },
    { index: 2, statements: [...plan(['INSERT INTO t VALUES (2)']), boom] },
    { index: 3, statements: plan(['INSERT INTO t VALUES (3)']) },
  ];
  const { grouped, single, g, s } = await bothWays(entries);
  try {
    assert.deepEqual(grouped, single);
    assert.deepEqual(grouped[1], { thrown: 'boom' });
    assert.throws(() => g.engine.apply({ index: 4, term: 1, timestampMs: 1e20 }, plan(['INSERT INTO t VALUES (4)']), WRITE), RangeError);
    assert.deepEqual(rowsOf(g.engine, 'SELECT x FROM t ORDER BY x'), [[1], [3]]);
    assert.equal(g.engine.info().appliedIndex, 3);
  } finally {
    g.dispose();
    s.dispose();
  }
});

test('close, snapshot pins and reads see every entry applied before them, committed or not', async () => {
  const a = openEngine();
  try {
    a.engine.apply(stamp(1), plan(['CREATE TABLE t (x)']), WRITE);
    a.engine.apply(stamp(2), plan(['INSERT INTO t VALUES (1)']), WRITE);
    const pinned = a.engine.pin();
    assert.equal((pinned.reader.prepare('SELECT count(*) AS n FROM t').get() as { n: bigint }).n, 1n);
    a.engine.release(pinned);
    a.engine.apply(stamp(3), plan(['INSERT INTO t VALUES (2)']), WRITE);
    a.engine.close();
    assert.equal(a.engine.open(a.dir), 3);
    assert.deepEqual(rowsOf(a.engine, 'SELECT x FROM t ORDER BY x'), [[1], [2]]);
  } finally {
    a.dispose();
  }
});

test('a burst whose transaction ended under it (a disk error would) stops the engine until it reopens; the log then applies its entries again', async () => {
  const a = openEngine();
  try {
    a.engine.apply(stamp(1), plan(['CREATE TABLE t (x)']), WRITE);
    await committed();
    a.engine.apply(stamp(2), plan(['INSERT INTO t VALUES (2)']), WRITE);
    a.engine.apply(stamp(3), plan(['INSERT INTO t VALUES (3)']), WRITE);
    // What an I/O error would do: SQLite rolls the whole transaction back.
    (a.engine as unknown as { db: Database.Database }).db.exec('ROLLBACK');
    assert.throws(() => a.engine.apply(stamp(4), plan(['INSERT INTO t VALUES (4)']), WRITE), /lost applied log entries.*restart this node/);
    assert.throws(() => a.engine.read(plan(['SELECT x FROM t']), { timings: false }), /lost applied log entries/);
    assert.throws(() => a.engine.pin(), /lost applied log entries/);
    a.engine.close();
    assert.equal(a.engine.open(a.dir), 1);
    for (const i of [2, 3, 4]) a.engine.apply(stamp(i), plan([`INSERT INTO t VALUES (${i})`]), WRITE);
    assert.deepEqual(rowsOf(a.engine, 'SELECT x FROM t ORDER BY x'), [[2], [3], [4]]);
  } finally {
    a.dispose();
  }
});
