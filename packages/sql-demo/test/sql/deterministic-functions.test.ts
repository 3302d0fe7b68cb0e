import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeterministicSource, installDeterministicFunctions } from '../../src/sql/deterministic-functions.js';
import { openMemoryDatabase, type Db } from './open-sqlite.js';

const ENTRY = { index: 42, term: 3, timestampMs: Date.parse('2024-02-29T12:34:56.789Z') };

function node(): { db: Db; source: DeterministicSource } {
  const db = openMemoryDatabase();
  db.defaultSafeIntegers(true);
  const source = new DeterministicSource();
  installDeterministicFunctions(db, source);
  return { db, source };
}

const SAMPLE = 'SELECT random() AS r1, random() AS r2, randomblob(16) AS b, hex(randomblob(0)) AS one, typeof(random()) AS type';

test('random() and randomblob() give the same values on two nodes applying the same entry', () => {
  const [a, b] = [node(), node()];
  a.source.enterEntry(ENTRY);
  b.source.enterEntry(ENTRY);
  const first = a.db.prepare(SAMPLE).get() as Record<string, unknown>;
  assert.deepEqual(b.db.prepare(SAMPLE).get(), first);
  assert.equal(typeof first['r1'], 'bigint');
  assert.notEqual(first['r1'], first['r2']);
  assert.equal((first['b'] as Buffer).length, 16);
  assert.equal((first['one'] as string).length, 2, 'randomblob(N<1) is one byte');
  assert.equal(first['type'], 'integer');
});

test('another entry, or another term, gives other values', () => {
  const { db, source } = node();
  const sample = (entry: typeof ENTRY): unknown => {
    source.enterEntry(entry);
    return db.prepare(SAMPLE).get();
  };
  const base = sample(ENTRY);
  assert.notDeepEqual(sample({ ...ENTRY, index: 43 }), base);
  assert.notDeepEqual(sample({ ...ENTRY, term: 4 }), base);
  assert.deepEqual(sample(ENTRY), base, 're-entering restarts the stream');
});

test('random() spans the 64-bit range', () => {
  const { db, source } = node();
  source.enterEntry(ENTRY);
  const values = db
    .prepare('WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200) SELECT random() AS r FROM c')
    .all()
    .map((row) => (row as { r: bigint }).r);
  assert.ok(values.some((v) => v > 2n ** 53n) && values.some((v) => v < -(2n ** 53n)), 'beyond the double-exact range both ways');
  assert.ok(values.every((v) => v > -(2n ** 63n)));
});

test('randomblob(N) has the length SQLite gives it for every kind of N', () => {
  const { db, source } = node();
  const builtin = openMemoryDatabase();
  source.enterEntry(ENTRY);
  for (const n of ['5', '0', '-3', '2.9', "'7'", "'3.7'", "'abc'", 'NULL', "x'3132'", "' 4x'"]) {
    const sql = `SELECT length(randomblob(${n})) AS len`;
    assert.deepEqual(Number((db.prepare(sql).get() as { len: bigint }).len), (builtin.prepare(sql).get() as { len: number }).len, n);
  }
});

test('column defaults use the entry: random() and CURRENT_TIMESTAMP evaluated at insert agree across nodes', () => {
  const rows = [node(), node()].map(({ db, source }) => {
    db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, r DEFAULT (random()), ts DEFAULT CURRENT_TIMESTAMP, d DEFAULT CURRENT_DATE, tm DEFAULT CURRENT_TIME)');
    source.enterEntry(ENTRY);
    db.exec('INSERT INTO t(id) VALUES (1)');
    source.leaveEntry();
    return db.prepare('SELECT * FROM t').get() as Record<string, unknown>;
  });
  assert.deepEqual(rows[0], rows[1]);
  assert.deepEqual([rows[0]!['ts'], rows[0]!['d'], rows[0]!['tm']], ['2024-02-29 12:34:56', '2024-02-29', '12:34:56']);
});

test('outside an entry the functions use the real clock and real entropy', () => {
  const { db, source } = node();
  source.enterEntry(ENTRY);
  source.leaveEntry();
  assert.equal(source.inEntry, false);
  const { d } = db.prepare('SELECT CURRENT_DATE AS d').get() as { d: string };
  assert.equal(d, new Date().toISOString().slice(0, 10));
  const other = node();
  assert.notEqual((db.prepare('SELECT random() AS r').get() as { r: bigint }).r, (other.db.prepare('SELECT random() AS r').get() as { r: bigint }).r);
});

test('the overrides stay non-deterministic to SQLite, which keeps refusing them in generated columns', () => {
  const { db } = node();
  assert.throws(() => db.exec('CREATE TABLE g(a, b AS (random())); INSERT INTO g(a) VALUES (1)'), /non-deterministic/);
});

test('an entry time SQLite cannot represent is refused up front', () => {
  assert.throws(() => new DeterministicSource().enterEntry({ ...ENTRY, timestampMs: Number.NaN }), RangeError);
});
