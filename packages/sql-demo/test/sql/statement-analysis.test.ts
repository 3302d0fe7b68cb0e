import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlRefusedError } from '../../src/sql/errors.js';
import { acceptStatements, analyzeStatement, isRefusal, WRITE_IN_QUERY, type AnalysisResult } from '../../src/sql/statement-analysis.js';
import { openMemoryDatabase } from './open-sqlite.js';

const SCHEMA = `
  CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b TEXT);
  CREATE INDEX ta ON t(a);
  CREATE TABLE u(x UNIQUE, y REFERENCES t(id));
  CREATE VIEW v AS SELECT * FROM t;
  CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u(x) VALUES (new.id); END;
`;

/** Statements SQLite accepts, with the kind we give them; each is checked against statement.readonly. */
const CLASSIFIED: [string, 'read' | 'write'][] = [
  ['SELECT 1', 'read'],
  ['select * from t where a = ?', 'read'],
  ['SELECT * FROM v JOIN u ON u.y = v.id ORDER BY random()', 'read'],
  ['VALUES (1, 2), (3, 4)', 'read'],
  ['WITH x AS (SELECT 1) SELECT * FROM x', 'read'],
  ['WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3) SELECT * FROM c', 'read'],
  ['WITH x AS MATERIALIZED (SELECT 1) SELECT * FROM x', 'read'],
  ["SELECT datetime('now'), CURRENT_TIMESTAMP, random(), randomblob(4)", 'read'],
  ['SELECT \'INSERT INTO t VALUES (1)\' AS "DELETE"', 'read'],
  ['EXPLAIN SELECT 1', 'read'],
  ['EXPLAIN QUERY PLAN SELECT * FROM t WHERE a = 1', 'read'],
  ['PRAGMA table_info(t)', 'read'],
  ['PRAGMA main.table_info(t)', 'read'],
  ['PRAGMA table_info = t', 'read'],
  ['PRAGMA table_xinfo(t)', 'read'],
  ['PRAGMA table_list', 'read'],
  ['PRAGMA index_list(t)', 'read'],
  ['PRAGMA index_info(ta)', 'read'],
  ['PRAGMA index_xinfo(ta)', 'read'],
  ['PRAGMA foreign_key_list(u)', 'read'],
  ['PRAGMA foreign_key_check', 'read'],
  ['PRAGMA integrity_check', 'read'],
  ['PRAGMA quick_check', 'read'],
  ['PRAGMA user_version', 'read'],
  ['PRAGMA application_id', 'read'],
  ['PRAGMA user_version = 7', 'write'],
  ['PRAGMA application_id = 42', 'write'],
  ["INSERT INTO t(a) VALUES ('x')", 'write'],
  ["INSERT INTO t(a) VALUES ('x') RETURNING id", 'write'],
  ['INSERT OR IGNORE INTO u(x) VALUES (1)', 'write'],
  ['INSERT INTO u(x) VALUES (1) ON CONFLICT(x) DO UPDATE SET x = 2', 'write'],
  ['REPLACE INTO t(id, a) VALUES (1, 2)', 'write'],
  ["UPDATE t SET a = 'SELECT' WHERE id = 1", 'write'],
  ['DELETE FROM t', 'write'],
  ['WITH x(n) AS (SELECT 1) INSERT INTO t(id) SELECT n FROM x', 'write'],
  ['WITH x(n) AS (SELECT 1) UPDATE t SET a = (SELECT n FROM x)', 'write'],
  ['WITH x(n) AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT n FROM x)', 'write'],
  ['EXPLAIN INSERT INTO t(a) VALUES (1)', 'write'],
  ['EXPLAIN QUERY PLAN DELETE FROM t', 'write'],
  ['CREATE TABLE n(a, b DEFAULT CURRENT_TIMESTAMP, c DEFAULT (random()))', 'write'],
  ['CREATE TABLE IF NOT EXISTS t(a)', 'write'],
  ['CREATE TABLE copy AS SELECT * FROM t', 'write'],
  ['CREATE INDEX tb ON t(b)', 'write'],
  ['CREATE UNIQUE INDEX tab ON t(a, b) WHERE a IS NOT NULL', 'write'],
  ['CREATE VIEW w AS SELECT a, CURRENT_DATE FROM t', 'write'],
  ['CREATE TRIGGER tr2 BEFORE DELETE ON t BEGIN DELETE FROM u WHERE y = old.id; END', 'write'],
  ['CREATE VIRTUAL TABLE f USING fts5(body)', 'write'],
  ['ALTER TABLE t ADD COLUMN c TEXT', 'write'],
  ['ALTER TABLE t RENAME TO t2', 'write'],
  ['DROP TABLE u', 'write'],
  ['DROP TABLE IF EXISTS nope', 'write'],
  ['DROP VIEW v', 'write'],
  ['DROP INDEX ta', 'write'],
  ['DROP TRIGGER tr', 'write'],
  ['ANALYZE', 'write'],
  ['REINDEX ta', 'write'],
];

test('the classification agrees with better-sqlite3 statement.readonly', () => {
  const db = openMemoryDatabase();
  db.exec(SCHEMA);
  for (const [sql, kind] of CLASSIFIED) {
    const a = analyzeStatement(sql);
    assert.ok(!isRefusal(a), `${sql}: ${JSON.stringify(a)}`);
    assert.equal(a.kind, kind, sql);
    assert.equal(db.prepare(sql).readonly, kind === 'read', `SQLite disagrees on ${sql}`);
  }
  db.close();
});

test('known difference: a DROP TRIGGER IF EXISTS of a missing trigger is a write for us and read-only for SQLite', () => {
  // It changes nothing either way; calling it a write only keeps it out of queries.
  const db = openMemoryDatabase();
  const sql = 'DROP TRIGGER IF EXISTS missing';
  assert.equal((analyzeStatement(sql) as { kind: string }).kind, 'write');
  assert.equal(db.prepare(sql).readonly, true);
  db.close();
});

test('verbs name what the statement does', () => {
  const verb = (sql: string): string => (analyzeStatement(sql) as { verb: string }).verb;
  assert.equal(verb('WITH x AS (SELECT 1) DELETE FROM t'), 'DELETE');
  assert.equal(verb('CREATE UNIQUE INDEX i ON t(a)'), 'CREATE INDEX');
  assert.equal(verb('PRAGMA Table_Info(t)'), 'PRAGMA table_info');
  assert.equal((analyzeStatement('EXPLAIN QUERY PLAN SELECT 1') as { explain: boolean }).explain, true);
});

/** Each refused statement with a fragment of the reason it must give. */
const REFUSED: [string, string][] = [
  ['BEGIN', 'BEGIN is not accepted'],
  ['BEGIN IMMEDIATE TRANSACTION', 'transaction=true'],
  ['COMMIT', 'COMMIT is not accepted'],
  ['END TRANSACTION', 'END is not accepted'],
  ['ROLLBACK', 'ROLLBACK is not accepted'],
  ['SAVEPOINT s', 'SAVEPOINT is not accepted'],
  ['RELEASE s', 'RELEASE is not accepted'],
  ["ATTACH 'other.db' AS o", 'ATTACH is not accepted: another database file'],
  ['DETACH o', 'DETACH is not accepted'],
  ['VACUUM', 'VACUUM is not accepted'],
  ["VACUUM INTO '/tmp/copy.db'", 'VACUUM is not accepted'],
  ["SELECT load_extension('evil')", 'load_extension() loads native code'],
  ['INSERT INTO t(a) VALUES (total_changes())', 'total_changes()'],
  ['PRAGMA journal_mode = WAL', 'PRAGMA journal_mode is not accepted'],
  ['PRAGMA journal_mode', 'PRAGMA journal_mode is not accepted'],
  ['PRAGMA synchronous = OFF', 'PRAGMA synchronous is not accepted'],
  ['PRAGMA wal_checkpoint(TRUNCATE)', 'PRAGMA wal_checkpoint is not accepted'],
  ['PRAGMA locking_mode = EXCLUSIVE', 'PRAGMA locking_mode is not accepted'],
  ['PRAGMA writable_schema = ON', 'PRAGMA writable_schema is not accepted'],
  ['PRAGMA foreign_keys = OFF', 'PRAGMA foreign_keys is not accepted'],
  ['PRAGMA main.schema_version = 5', 'PRAGMA schema_version is not accepted'],
  ['PRAGMA optimize', 'PRAGMA optimize is not accepted'],
  ['CREATE TEMP TABLE x(a)', 'temporary tables'],
  ['CREATE TEMPORARY VIEW x AS SELECT 1', 'temporary tables'],
  ['CREATE TABLE temp.x(a)', 'temporary tables'],
  ["INSERT INTO t(a) VALUES (datetime('now', 'localtime'))", "'localtime' modifier of datetime()"],
  ["UPDATE t SET a = date(b, 'utc')", "'utc' modifier of date()"],
  ["CREATE TABLE n(a DEFAULT (datetime('now')))", "datetime('now') in CREATE TABLE would be evaluated later"],
  ['CREATE TABLE n(a DEFAULT (date()))', "date('now') in CREATE TABLE"],
  ["CREATE VIEW w AS SELECT * FROM t WHERE a > date('now', '-1 day')", "date('now') in CREATE VIEW"],
  ["CREATE TRIGGER tr3 AFTER INSERT ON t BEGIN UPDATE t SET b = strftime('%s', 'now'); END", "strftime('now') in CREATE TRIGGER"],
  ["ALTER TABLE t ADD COLUMN c DEFAULT (julianday('now'))", "julianday('now') in ALTER TABLE"],
  ['CREATE TABLE n(a CHECK (a > random()))', 'random() is not accepted in a CHECK constraint'],
  ['CREATE TABLE n(a, b AS (a || CURRENT_DATE))', 'CURRENT_DATE is not accepted in a CHECK constraint, a generated column'],
  ['CREATE TABLE n(a, b GENERATED ALWAYS AS (randomblob(a)) STORED)', 'randomblob() is not accepted'],
  ['CREATE INDEX i ON t(a) WHERE b > CURRENT_TIMESTAMP', 'CURRENT_TIMESTAMP is not accepted'],
  ['EXPLAIN ATTACH x AS y', 'ATTACH is not accepted'],
  ["SELECT 'unterminated", 'unrecognized token'],
  ['SELECT 1; SELECT 2', 'holds 2 statements where one is expected'],
  ['  -- nothing\n', 'there is no statement'],
  ['FROBNICATE t', '"FROBNICATE" does not start a statement'],
];

test('refused statements say why', () => {
  for (const [sql, reason] of REFUSED) {
    const a: AnalysisResult = analyzeStatement(sql);
    assert.ok(isRefusal(a), `${sql} was accepted: ${JSON.stringify(a)}`);
    assert.ok(a.refused.includes(reason), `${sql}: ${a.refused}`);
  }
});

test('what is only read may use the local time zone and load nothing', () => {
  assert.equal((analyzeStatement("SELECT datetime('now', 'localtime')") as { kind: string }).kind, 'read');
  assert.equal((analyzeStatement('SELECT total_changes()') as { kind: string }).kind, 'read');
});

test('readsClock tells whether makeDeterministic has work to do', () => {
  const reads = (sql: string): boolean => (analyzeStatement(sql) as { readsClock: boolean }).readsClock;
  assert.equal(reads("INSERT INTO t(a) VALUES (date('now'))"), true);
  assert.equal(reads('INSERT INTO t(a) VALUES (CURRENT_TIME)'), true);
  assert.equal(reads("INSERT INTO t(a) VALUES ('now')"), false);
  assert.equal(reads('CREATE TABLE n(a DEFAULT CURRENT_TIMESTAMP)'), false);
});

test('acceptStatements: every statement of an element, or a SqlRefusedError naming the culprit', () => {
  const accepted = acceptStatements("INSERT INTO t(a) VALUES ('x;y'); SELECT * FROM t;", { readOnly: false, hasParameters: false });
  assert.deepEqual(
    accepted.map((s) => [s.sql, s.analysis.kind]),
    [
      ["INSERT INTO t(a) VALUES ('x;y')", 'write'],
      ['SELECT * FROM t', 'read'],
    ],
  );
  assert.throws(
    () => acceptStatements('SELECT 1; VACUUM', { readOnly: false, hasParameters: false }),
    (e: unknown) => e instanceof SqlRefusedError && e.code === 'bad_request' && e.statement === 'VACUUM' && e.message.startsWith('refused "VACUUM": VACUUM is not accepted'),
  );
  assert.throws(
    () => acceptStatements('SELECT 1; DELETE FROM t', { readOnly: true, hasParameters: false }),
    (e: unknown) => e instanceof SqlRefusedError && e.statement === 'DELETE FROM t' && e.reason === WRITE_IN_QUERY,
  );
  assert.throws(
    () => acceptStatements('SELECT ?; SELECT ?', { readOnly: true, hasParameters: true }),
    (e: unknown) => e instanceof SqlRefusedError && e.reason.includes('parameters bind to one statement'),
  );
  assert.throws(() => acceptStatements(';;', { readOnly: false, hasParameters: false }), SqlRefusedError);
});

test('a write sent as a query is refused before it changes anything', () => {
  const db = openMemoryDatabase();
  db.exec(SCHEMA);
  const sql = "INSERT INTO t(a) VALUES ('sneaky')";
  assert.throws(() => acceptStatements(sql, { readOnly: true, hasParameters: false }), SqlRefusedError);
  assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
  db.close();
});
