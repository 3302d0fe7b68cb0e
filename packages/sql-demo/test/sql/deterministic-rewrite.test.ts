import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDeterministic } from '../../src/sql/deterministic-rewrite.js';
import { sqliteTimeTexts } from '../../src/sql/sqlite-time.js';
import { openMemoryDatabase } from './open-sqlite.js';

const TS = Date.parse('2024-02-29T12:34:56.789Z');
const at = (sql: string, timestampMs = TS): string => makeDeterministic(sql, { timestampMs });

test('the SQLite texts of a timestamp', () => {
  assert.deepEqual(sqliteTimeTexts(TS), { now: '2024-02-29 12:34:56.789', timestamp: '2024-02-29 12:34:56', date: '2024-02-29', time: '12:34:56' });
  assert.equal(sqliteTimeTexts(Date.parse('0005-01-01T00:00:00Z')).date, '0005-01-01');
  assert.throws(() => sqliteTimeTexts(1.5), RangeError);
  assert.throws(() => sqliteTimeTexts(Date.parse('+010000-01-01T00:00:00Z')), RangeError);
});

test('rewritten clock reads give the same values on two databases, equal to what the timestamp means', () => {
  const sql = at(
    "SELECT datetime('now') AS dt, CURRENT_TIMESTAMP AS ts, CURRENT_DATE AS d, CURRENT_TIME AS t, julianday('now') AS jd, strftime('%s','now') AS s, unixepoch('now', 'subsec') AS us, date() AS implied",
  );
  const [first, second] = [openMemoryDatabase(), openMemoryDatabase()];
  const a = first.prepare(sql).get() as Record<string, unknown>;
  const b = second.prepare(sql).get() as Record<string, unknown>;
  assert.deepEqual(a, b);
  assert.deepEqual(a, {
    dt: '2024-02-29 12:34:56',
    ts: '2024-02-29 12:34:56',
    d: '2024-02-29',
    t: '12:34:56',
    jd: TS / 86_400_000 + 2440587.5, // SQLite's 'now' is exact to the millisecond
    s: String(Math.floor(TS / 1000)),
    us: TS / 1000,
    implied: '2024-02-29',
  });
  first.close();
  second.close();
});

test('every date function and position SQLite reads as a time value, any case of now', () => {
  assert.equal(
    at("SELECT date('NOW'), time('Now', '+1 hour'), datetime('now'), julianday('now'), unixepoch('now'), strftime('%Y', 'now', 'start of year'), timediff('now', 'now')"),
    "SELECT date('2024-02-29 12:34:56.789'), time('2024-02-29 12:34:56.789', '+1 hour'), datetime('2024-02-29 12:34:56.789'), julianday('2024-02-29 12:34:56.789'), " +
      "unixepoch('2024-02-29 12:34:56.789'), strftime('%Y', '2024-02-29 12:34:56.789', 'start of year'), timediff('2024-02-29 12:34:56.789', '2024-02-29 12:34:56.789')",
  );
  assert.equal(at("SELECT date(), strftime('%s')"), "SELECT date('2024-02-29 12:34:56.789'), strftime('%s', '2024-02-29 12:34:56.789')");
});

test("a 'now' that is not a time value is data and stays", () => {
  for (const sql of ["SELECT 'now'", "SELECT strftime('now', a) FROM t", "SELECT datetime(a, 'now') FROM t", "SELECT upper('now')", "SELECT date(' now')"]) {
    assert.equal(at(sql), sql);
  }
});

test('strings, quoted identifiers and comments are left alone', () => {
  const sql = `SELECT 'CURRENT_TIMESTAMP', "CURRENT_DATE", [date('now')], 'datetime(''now'')' -- CURRENT_TIME date('now')\n/* julianday('now') */`;
  assert.equal(at(sql), sql);
});

test('CURRENT_* used as a column name stays a name', () => {
  assert.equal(
    at('SELECT t.current_date, 1 AS current_time FROM t WHERE current_time > CURRENT_TIME'),
    "SELECT t.current_date, 1 AS current_time FROM t WHERE '12:34:56' > '12:34:56'",
  );
  assert.equal(at('INSERT INTO t(current_date, b) VALUES (CURRENT_DATE, 1)'), "INSERT INTO t(current_date, b) VALUES ('2024-02-29', 1)");
  assert.equal(at('UPDATE t SET current_date = CURRENT_DATE, b = 2 WHERE current_date = 1'), "UPDATE t SET current_date = '2024-02-29', b = 2 WHERE '2024-02-29' = 1");
});

test('calls inside casts, aliases and nested calls are rewritten; tables named like functions are not calls', () => {
  assert.equal(
    at("SELECT CAST(date('now') AS TEXT) AS d, upper(time('now'))"),
    "SELECT CAST(date('2024-02-29 12:34:56.789') AS TEXT) AS d, upper(time('2024-02-29 12:34:56.789'))",
  );
  assert.equal(at('INSERT INTO strftime(a) VALUES (1)'), 'INSERT INTO strftime(a) VALUES (1)');
  assert.equal(at("WITH date(a) AS (SELECT date('now')) SELECT * FROM date"), "WITH date(a) AS (SELECT date('2024-02-29 12:34:56.789')) SELECT * FROM date");
});

test('each statement of a text is rewritten; schema statements keep their expressions', () => {
  assert.equal(
    at("INSERT INTO t VALUES (date('now')); CREATE TABLE n(a DEFAULT CURRENT_TIMESTAMP); CREATE TABLE c AS SELECT CURRENT_DATE AS d"),
    "INSERT INTO t VALUES (date('2024-02-29 12:34:56.789')); CREATE TABLE n(a DEFAULT CURRENT_TIMESTAMP); CREATE TABLE c AS SELECT '2024-02-29' AS d",
  );
});

test('the rewrite follows the timestamp', () => {
  assert.equal(at('SELECT CURRENT_TIMESTAMP', 0), "SELECT '1970-01-01 00:00:00'");
  assert.notEqual(at("SELECT datetime('now')", TS), at("SELECT datetime('now')", TS + 1));
});
