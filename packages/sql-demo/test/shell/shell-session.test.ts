// The shell driven by piped input against a fake node that answers rqlite's exact bodies.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRqliteServer } from './fake-rqlite-server.js';
import { runScript } from './run-session.js';

let fake: FakeRqliteServer;
let dir: string;

before(async () => {
  fake = await FakeRqliteServer.start();
  dir = mkdtempSync(join(tmpdir(), 'raftkit-shell-test-'));
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.answer = undefined;
  fake.db.exec('SELECT 1; DROP TABLE IF EXISTS foo; DROP TABLE IF EXISTS bar; DROP TABLE IF EXISTS _migrations');
  fake.requests.length = 0;
});

const shell = (script: string, ...argv: string[]) => runScript(['--url', fake.url, ...argv], script);

test('a piped session: writes, a multi-line query, a table with NULL, BLOB and a 64-bit integer', async () => {
  const r = await shell(`CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT, pic BLOB, big INTEGER);
INSERT INTO foo(name, pic, big) VALUES ('fiona', x'0102', 9223372036854775807);
INSERT INTO foo(name) VALUES ('declan'), (NULL);
SELECT id, name, pic, big
  FROM foo
  ORDER BY id;
`);
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  assert.equal(
    r.out,
    [
      '0 rows affected',
      '1 row affected',
      '2 rows affected',
      '+----+--------+---------+---------------------+',
      '| id | name   | pic     | big                 |',
      '+----+--------+---------+---------------------+',
      "|  1 | fiona  | X'0102' | 9223372036854775807 |",
      '|  2 | declan | NULL    | NULL                |',
      '|  3 | NULL   | NULL    | NULL                |',
      '+----+--------+---------+---------------------+',
      '',
    ].join('\n'),
  );
  // Each statement is its own /db/request, with BLOBs as byte arrays and the level.
  const sent = fake.requestsTo('/db/request');
  assert.equal(sent.length, 4);
  assert.match(sent[3]!.query, /(^|&)level=weak(&|$)/);
  assert.match(sent[3]!.query, /(^|&)blob_array(&|$)/);
  assert.equal(sent[3]!.body.toString(), JSON.stringify(['SELECT id, name, pic, big\n  FROM foo\n  ORDER BY id']));
});

test('errors go to stderr as one line with the input line, the session goes on, and the exit status is 1', async () => {
  const r = await shell('SELECT * FROM nosuch;\nSELECT 1 AS one;\n.nosuch\n');
  assert.equal(r.err, 'Error: near line 1: no such table: nosuch\nError: near line 3: unknown command or invalid arguments: "nosuch". Enter ".help" for help\n');
  assert.match(r.out, /\| one \|/);
  assert.equal(r.code, 1);
});

test('--bail stops at the first error', async () => {
  const r = await shell('SELECT * FROM nosuch;\nSELECT 1 AS one;\n', '--bail');
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const dot = await shell('.bail on\nSELECT * FROM nosuch;\nSELECT 1 AS one;\n');
  assert.equal(dot.out, '');
});

test('several statements on a line run one by one; a last statement without ";" runs at the end of input', async () => {
  const r = await shell("CREATE TABLE bar (x); INSERT INTO bar VALUES (1); SELECT x FROM bar;\nSELECT 'no semicolon' AS s");
  assert.equal(r.code, 0, r.err);
  assert.equal(fake.requestsTo('/db/request').length, 4);
  assert.match(r.out, /\| no semicolon \|/);
});

test('answers written by hand as rqlite sends them: error in its slot, booleans, REALs written without a fraction', async () => {
  fake.answer = (req) =>
    req.path === '/db/request'
      ? {
          status: 200,
          headers: { 'Content-Type': 'application/json; charset=utf-8' },
          body: '{"results":[{"columns":["ok","r","n"],"types":["boolean","real","integer"],"values":[[true,3,12345678901234567890],[false,0.5,null]]}]}',
        }
      : undefined;
  const r = await shell('SELECT ok, r, n FROM t;');
  assert.equal(r.err, '');
  assert.equal(
    r.out,
    [
      '+-------+-----+----------------------+',
      '| ok    | r   | n                    |',
      '+-------+-----+----------------------+',
      '| true  | 3.0 | 12345678901234567890 |',
      '| false | 0.5 | NULL                 |',
      '+-------+-----+----------------------+',
      '',
    ].join('\n'),
  );
  fake.answer = () => ({ status: 200, body: '{"results":[{"error":"near \\"SELEC\\": syntax error"}]}' });
  const e = await shell('SELEC 1;');
  assert.equal(e.err, 'Error: near line 1: near "SELEC": syntax error\n');
});

test('a refusal (400 plain text), a 401 and a top-level error are one line each', async () => {
  fake.answer = () => ({ status: 400, body: 'refused "BEGIN": explicit transactions are not accepted\n', headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  let r = await shell('BEGIN;');
  assert.match(r.err, /^Error: near line 1: refused "BEGIN": explicit transactions are not accepted/);
  assert.equal(r.err.split('\n').length, 2);
  fake.answer = () => ({ status: 401, body: '' });
  r = await shell('SELECT 1;');
  assert.equal(r.err.split('\n').length, 2);
  assert.match(r.err, /^Error: near line 1: .*unauthori.*--token or RAFTKIT_TOKEN\n$/i);
  fake.answer = () => ({ status: 200, body: '{"results":[],"error":"stale read"}' });
  r = await shell('SELECT 1;', '--consistency', 'none');
  assert.match(r.err, /^Error: near line 1: .*stale read/);
  assert.doesNotMatch(r.err + r.out, /\n\s+at /);
});

test('a node that refuses connections: one line per statement, and the session goes on', async () => {
  const closed = await FakeRqliteServer.start();
  const url = closed.url;
  await closed.close();
  const r = await runScript(['--url', url], 'SELECT 1;\n.tables\n');
  assert.equal(r.code, 1);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  for (const line of lines) assert.match(line, /^Error: near line \d: cannot reach .*connection refused/);
});

test('a second URL takes over when the first refuses connections', async () => {
  const closed = await FakeRqliteServer.start();
  const url = closed.url;
  await closed.close();
  const r = await runScript(['--url', `${url},${fake.url}`], 'SELECT 7 AS seven;\n');
  assert.equal(r.err, '');
  assert.match(r.out, /\|\s+7 \|/);
});

test('.tables, .schema and .indexes read sqlite_master at the session consistency, and hide the store tables', async () => {
  fake.db.exec('CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX foo_name ON foo(name); CREATE VIEW bar AS SELECT 1; CREATE TABLE _raftkit_state (i)');
  try {
    const r = await shell('.consistency strong\n.tables\n.tables f%\n.schema foo\n.indexes\n');
    assert.equal(r.err, '');
    assert.equal(
      r.out,
      [
        '+------+',
        '| name |',
        '+------+',
        '| bar  |',
        '| foo  |',
        '+------+',
        '+------+',
        '| name |',
        '+------+',
        '| foo  |',
        '+------+',
        'CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT);',
        'CREATE INDEX foo_name ON foo(name);',
        '+----------+-------+',
        '| name     | table |',
        '+----------+-------+',
        '| foo_name | foo   |',
        '+----------+-------+',
        '',
      ].join('\n'),
    );
    for (const req of fake.requestsTo('/db/query')) assert.match(req.query, /level=strong/);
  } finally {
    fake.db.exec('DROP VIEW bar; DROP TABLE _raftkit_state');
  }
});

test('.mode, .headers, .nullvalue, .consistency and .timer change what is sent and shown', async () => {
  const r = await shell(
    [
      ".mode csv\n.headers off\nSELECT 1 AS a, NULL AS b, 'x' AS c;",
      '.mode line\n.nullvalue -\nSELECT NULL AS b;',
      '.mode\n.consistency\n.consistency linearizable\n.consistency',
      '.timer on\nSELECT 1 AS a;\n.timer off\n',
    ].join('\n'),
  );
  assert.equal(r.err, '');
  const [csv, line, mode, before, after, ...timed] = r.out.split('\n');
  assert.equal(csv, '1,,x');
  assert.equal(line, 'b = -');
  assert.equal(mode, 'line');
  assert.equal(before, 'weak');
  assert.equal(after, 'linearizable');
  assert.match(timed.join('\n'), /a = 1\nRun Time: real \d+\.\d{3} s, server \d+\.\d{6} s \(1 row\)/);
  const last = fake.requestsTo('/db/request').at(-1)!;
  assert.match(last.query, /level=linearizable/);
  assert.match(last.query, /timings/);
  const bad = await shell('.mode html\n.timer maybe\n.consistency eventual\n');
  assert.deepEqual(
    bad.err.split('\n').filter((l) => l.startsWith('Error')),
    [
      'Error: near line 1: unknown mode "html"; the modes are:',
      'Error: near line 2: usage: .timer on|off',
      'Error: near line 3: unknown consistency level "eventual": use one of none, weak, linearizable, strong, auto',
    ],
  );
});

test('.backup and .restore round-trip the database as a SQLite file; .dump writes SQL that .restore takes too', async () => {
  const file = join(dir, 'backup.db');
  const dump = join(dir, 'dump.sql');
  let r = await shell(`CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO foo(name) VALUES ('fiona');\n.backup ${file}\n.dump ${dump}\nDELETE FROM foo;`);
  assert.equal(r.err, '');
  assert.match(r.out, new RegExp(`Backup written to ${file} \\(\\d+ bytes\\)`));
  assert.equal(readFileSync(file).subarray(0, 15).toString(), 'SQLite format 3');
  assert.match(readFileSync(dump, 'utf8'), /INSERT INTO "foo" VALUES\(1,'fiona'\);/);

  r = await shell(`.restore ${file}\nSELECT name FROM foo;`);
  assert.equal(r.err, '');
  assert.match(r.out, /Database restored from .*backup\.db \(SQLite file\)/);
  assert.match(r.out, /\| fiona \|/);
  assert.equal(fake.requestsTo('/db/load')[0]!.headers['content-type'], 'application/octet-stream');

  r = await shell(`DROP TABLE foo;\n.restore "${dump}"\nSELECT count(*) AS n FROM foo;\n.dump`);
  assert.equal(r.err, '');
  assert.match(r.out, /\(SQL dump\)/);
  assert.match(r.out, /\|\s+1 \|/);
  assert.match(r.out, /CREATE TABLE foo/);
  assert.equal(fake.requestsTo('/db/load').at(-1)!.headers['content-type'], 'text/plain');

  r = await shell(`.restore ${join(dir, 'missing.db')}\n.backup\n`);
  assert.equal(r.err, `Error: near line 1: ${join(dir, 'missing.db')}: no such file or directory\nError: near line 2: usage: .backup FILE\n`);
});

test('.read runs a file of statements and commands', async () => {
  const file = join(dir, 'script.sql');
  writeFileSync(file, 'CREATE TABLE bar (x);\nINSERT INTO bar VALUES (1),\n  (2);\n.mode csv\nSELECT sum(x) AS s FROM bar;\n');
  const r = await shell(`.read ${file}\n`);
  assert.equal(r.err, '');
  assert.equal(r.out, '0 rows affected\n2 rows affected\ns\n3\n');
});

test('.status, .nodes and .ready show the node as rqlite reports it', async () => {
  const r = await shell('.status store.raft\n.nodes\n.ready\n');
  assert.equal(r.err, '');
  assert.match(r.out, /^applied_index: \d+\ncommit_index: \d+\n/);
  assert.match(r.out, /state: Leader/);
  assert.match(r.out, /\| id \| api_addr\s+\| addr\s+\| voter \| reachable \| leader \| error\s+\|/);
  assert.match(r.out, /\| 2\s+\| NULL\s+\| 127\.0\.0\.1:4004 \| true\s+\| false\s+\| false\s+\| connection refused \|/);
  assert.match(r.out, /\nready\n$/);
  assert.match(fake.requestsTo('/status')[0]!.query, /key=store\.raft/);
});

test('statements on the command line run without reading input; .exit sets the status', async () => {
  let r = await runScript(['--url', fake.url, '--mode', 'csv', 'SELECT 1 AS a', '.mode json', 'SELECT 2 AS b;'], 'SELECT 99;\n');
  assert.equal(r.code, 0);
  assert.equal(r.out, 'a\n1\n[{"b":2}]\n');
  r = await shell('.exit 3\nSELECT 1;\n');
  assert.equal(r.code, 3);
  assert.equal(r.out, '');
  r = await shell('.quit\n');
  assert.equal(r.code, 0);
});

test('--help prints the usage; a bad flag is exit status 2 with one line and a hint', async () => {
  let r = await runScript(['--help'], '');
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: raftkit-sql shell/);
  r = await runScript(['--frobnicate'], '');
  assert.equal(r.code, 2);
  assert.equal(r.err, 'raftkit-sql shell: unknown flag --frobnicate\nRun "raftkit-sql shell --help" for the flags.\n');
  r = await runScript(['--url', 'ftp://x'], '');
  assert.equal(r.code, 2);
  assert.match(r.err, /^raftkit-sql shell: .*http/);
});

test('the token goes out as a Bearer header', async () => {
  await runScript(['--url', fake.url, '--token', 's3cret'], 'SELECT 1;');
  assert.equal(fake.requests[0]!.headers.authorization, 'Bearer s3cret');
});

test('.help lists every command', async () => {
  const r = await shell('.help\n');
  for (const c of ['.backup', '.restore', '.dump', '.tables', '.schema', '.indexes', '.timer', '.status', '.nodes', '.consistency', '.mode', '.help', '.quit', '.exit']) {
    assert.match(r.out, new RegExp(`^\\${c}\\b`, 'm'), c);
  }
});

test('history is not touched when the input is not a terminal', async () => {
  const file = join(dir, 'history-piped');
  await runScript(['--url', fake.url], 'SELECT 1;\n', { env: { RAFTKIT_SQL_HISTORY: file } });
  assert.equal(existsSync(file), false);
});
