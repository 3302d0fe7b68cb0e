// `raftkit-sql shell` as a user runs it, a session piped into the real bin against a real
// raftkit-sql node (with a token), and the migration helper against the same node: two runners
// at once apply every migration exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../support/ports.js';
import type { KvCluster } from '../kv/kv-cluster.js';
import { SQL_BIN, sqlCluster, valuesOf, db } from '../sql/sql-cluster.js';

const TOKEN = 'shell-secret';
let cluster: KvCluster;
let url: string;
let dir: string;

before(async () => {
  cluster = sqlCluster([1], { token: TOKEN });
  await cluster.startAll();
  url = cluster.urlOf(1);
  dir = mkdtempSync(join(tmpdir(), 'raftkit-sql-shell-'));
});

after(async () => {
  await cluster.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Pipes `script` into `raftkit-sql shell ...args` and waits for it to exit. */
function shell(args: string[], script: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SQL_BIN, 'shell', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the shell did not exit within 20 s\nstdout: ${out}\nstderr: ${err}`));
    }, 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(script);
  });
}

test('a piped session against a real node: tables, errors, dot commands, backup and restore', { timeout: 60_000 }, async () => {
  const backup = join(dir, 'backup.db');
  const dump = join(dir, 'dump.sql');
  const script = `CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, photo BLOB, big INTEGER);
INSERT INTO people(name, photo, big) VALUES ('fiona', x'0102ff', 9223372036854775807);
INSERT INTO people(name)
  VALUES ('declan');
SELECT id, name, photo, big FROM people ORDER BY id;
SELECT * FROM nosuch;
.tables
.schema people
.consistency strong
.mode csv
SELECT name FROM people WHERE id = 2;
.mode table
.backup ${backup}
.dump ${dump}
DELETE FROM people;
.restore ${backup}
SELECT count(*) AS n FROM people;
BEGIN;
.nodes
.status store.raft
.timer on
SELECT 1 AS one;
`;
  const r = await shell(['--url', url, '--token', TOKEN], script);
  const expected = [
    '0 rows affected',
    '1 row affected',
    '1 row affected',
    '+----+--------+-----------+---------------------+',
    '| id | name   | photo     | big                 |',
    '+----+--------+-----------+---------------------+',
    "|  1 | fiona  | X'0102FF' | 9223372036854775807 |",
    '|  2 | declan | NULL      | NULL                |',
    '+----+--------+-----------+---------------------+',
    '+--------+',
    '| name   |',
    '+--------+',
    '| people |',
    '+--------+',
    'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, photo BLOB, big INTEGER);',
    'name',
    'declan',
    `Backup written to ${backup} (`,
  ].join('\n');
  assert.ok(r.out.startsWith(expected), `stdout:\n${r.out}\nstderr:\n${r.err}`);
  assert.match(r.out, new RegExp(`SQL dump written to ${dump} \\(\\d+ bytes\\)\\n2 rows affected\\nDatabase restored from ${backup} \\(SQLite file\\)\\n`));
  assert.match(r.out, /\| n \|\n\+---\+\n\| 2 \|/);
  assert.match(r.out, /\| 1 +\| http:\/\/127\.0\.0\.1:\d+ \| 127\.0\.0\.1:\d+ \| true +\| true +\| true +\| NULL +\|/);
  assert.match(r.out, /state: Leader/);
  assert.match(r.out, /\| one \|\n\+-----\+\n\| {3}1 \|\n\+-----\+\nRun Time: real \d+\.\d{3} s, server \d+\.\d{6} s \(1 row\)\n$/);
  assert.match(readFileSync(dump, 'utf8'), /INSERT INTO "?people"? VALUES\(1,'fiona',X'0102[fF]{2}',9223372036854775807\);/);

  // Errors: one line each on stderr, with the input line, no stack; the exit status says some failed.
  const errors = r.err.trimEnd().split('\n');
  assert.equal(errors.length, 2, r.err);
  assert.equal(errors[0], 'Error: near line 6: no such table: nosuch');
  assert.match(errors[1]!, /^Error: near line 18: refused "BEGIN"/);
  assert.equal(r.code, 1);
});

test('the shell without the token, with a dead node first, with --bail, and with statements as arguments', { timeout: 60_000 }, async () => {
  let r = await shell(['--url', url], 'SELECT 1;\n');
  assert.equal(r.code, 1);
  assert.match(r.err, /^Error: near line 1: unauthorized.*--token or RAFTKIT_TOKEN\n$/i);

  const [dead] = await freePorts(1);
  r = await shell(['--url', `http://127.0.0.1:${dead},${url}`], "SELECT 'via the second node' AS s;\n", { RAFTKIT_TOKEN: TOKEN });
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  assert.match(r.out, /\| via the second node \|/);

  r = await shell(['--url', url, '--token', TOKEN, '--bail'], 'SELECT * FROM nosuch;\nCREATE TABLE never (x);\n');
  assert.equal(r.code, 1);
  const tables = await db(cluster, 1, 'query', ["SELECT count(*) FROM sqlite_master WHERE name = 'never'"], 'level=strong');
  assert.deepEqual(valuesOf(tables), [[0]]);

  r = await shell(['--url', url, '--token', TOKEN, '--mode', 'json', 'SELECT 6 * 7 AS answer'], '');
  assert.equal(r.err, '');
  assert.equal(r.out, '[{"answer":42}]\n');
  assert.equal(r.code, 0);
});

// The package's migration helper and client, loaded from its build (the tests do not depend on
// the package at compile time).
interface MigrationModule {
  migrate(client: unknown, migrations: unknown[], options?: unknown): Promise<{ applied: { version: number }[]; skipped: { version: number }[]; currentVersion: number }>;
  migrationStatus(client: unknown, migrations: unknown[]): Promise<{ pending: unknown[]; currentVersion: number }>;
}
interface ClientModule {
  SqlClient: new (o: { urls: string[]; token?: string }) => unknown;
}
const packageBuild = (path: string) => new URL(`../../../packages/sql-demo/dist/src/${path}`, import.meta.url).href;

test('migrations against a real node: two runners at once apply each version exactly once, and a rerun applies nothing', { timeout: 60_000 }, async () => {
  const { migrate, migrationStatus } = (await import(packageBuild('migrations/index.js'))) as MigrationModule;
  const { SqlClient } = (await import(packageBuild('client/index.js'))) as ClientModule;
  const migrations = [
    { version: 1, name: 'audit', up: ['CREATE TABLE audit (version INTEGER NOT NULL)', 'INSERT INTO audit VALUES (1)'] },
    { version: 2, name: 'accounts', up: ['CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL)', 'INSERT INTO audit VALUES (2)'] },
    { version: 3, name: 'accounts.balance', up: ['ALTER TABLE accounts ADD COLUMN balance INTEGER NOT NULL DEFAULT 0', 'INSERT INTO audit VALUES (3)'] },
  ];
  const runner = () => new SqlClient({ urls: [url], token: TOKEN });
  const [a, b] = await Promise.all([migrate(runner(), migrations), migrate(runner(), migrations)]);
  assert.equal(a.applied.length + b.applied.length, 3, JSON.stringify({ a, b }));
  assert.equal(a.currentVersion, 3);
  assert.equal(b.currentVersion, 3);
  const audit = await db(cluster, 1, 'query', ['SELECT version FROM audit ORDER BY version', 'SELECT version, name FROM _migrations ORDER BY version'], 'level=strong');
  assert.deepEqual(valuesOf(audit, 0), [[1], [2], [3]]);
  assert.deepEqual(valuesOf(audit, 1), [
    [1, 'audit'],
    [2, 'accounts'],
    [3, 'accounts.balance'],
  ]);
  const again = await migrate(runner(), migrations);
  assert.deepEqual(again.applied, []);
  const status = await migrationStatus(runner(), migrations);
  assert.deepEqual(status.pending, []);
  assert.equal(status.currentVersion, 3);
});
