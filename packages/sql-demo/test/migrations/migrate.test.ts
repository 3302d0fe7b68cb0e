// migrate() and migrationStatus() through the real SqlClient against a fake node with a real
// SQLite database behind rqlite's exact answers.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { SqlClient } from '../../src/client/index.js';
import { migrate, MigrationError, migrationStatus, type Migration, type MigrationClient } from '../../src/migrations/index.js';
import { FakeRqliteServer } from '../shell/fake-rqlite-server.js';

let fake: FakeRqliteServer;
let client: SqlClient;

before(async () => {
  fake = await FakeRqliteServer.start();
  client = new SqlClient({ urls: [fake.url] });
});
after(() => fake.close());
beforeEach(() => {
  fake.answer = undefined;
  fake.requests.length = 0;
  for (const { name } of fake.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) fake.db.exec(`DROP TABLE "${name}"`);
});

const V1: Migration = { version: 1, name: 'users', up: ['CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)'] };
const V2: Migration = {
  version: 2,
  name: 'users.name',
  up: ['ALTER TABLE users ADD COLUMN name TEXT', ['INSERT INTO users (email, name) VALUES (?, ?)', 'root@example.com', 'root']],
};
const V3: Migration = { version: 3, name: 'email index', up: ['CREATE UNIQUE INDEX users_email ON users (email)'] };

/** The record insert as it appears in a JSON body. */
const RECORD = JSON.stringify('INSERT INTO "_migrations"').slice(1, -1);
const rows = (sql: string) => fake.db.prepare(sql).raw(true).all();
const at = () => new Date('2026-01-02T03:04:05.000Z');

test('pending migrations are applied in order, each recorded, and a second run applies nothing', async () => {
  const first = await migrate(client, [V1, V2, V3], { now: at });
  assert.deepEqual(first, {
    applied: [
      { version: 1, name: 'users' },
      { version: 2, name: 'users.name' },
      { version: 3, name: 'email index' },
    ],
    skipped: [],
    currentVersion: 3,
  });
  assert.deepEqual(rows('SELECT version, name, applied_at FROM _migrations ORDER BY version'), [
    [1, 'users', '2026-01-02T03:04:05.000Z'],
    [2, 'users.name', '2026-01-02T03:04:05.000Z'],
    [3, 'email index', '2026-01-02T03:04:05.000Z'],
  ]);
  assert.deepEqual(rows('SELECT email, name FROM users'), [['root@example.com', 'root']]);

  const again = await migrate(client, [V1, V2, V3]);
  assert.deepEqual(again.applied, []);
  assert.equal(again.skipped.length, 3);
  assert.equal(again.currentVersion, 3);
  assert.deepEqual(rows('SELECT count(*) FROM users'), [[1]]);
});

test('each migration is ONE transactional execute: its record first, then its statements', async () => {
  await migrate(client, [V1, V2], { now: at });
  const writes = fake.requestsTo('/db/execute').filter((r) => r.body.includes(RECORD));
  assert.equal(writes.length, 2);
  assert.match(writes[1]!.query, /(^|&)transaction(&|$)/);
  assert.equal(
    writes[1]!.body.toString(),
    JSON.stringify([
      ['INSERT INTO "_migrations" (version, name, applied_at) VALUES (?, ?, ?)', 2, 'users.name', '2026-01-02T03:04:05.000Z'],
      'ALTER TABLE users ADD COLUMN name TEXT',
      ['INSERT INTO users (email, name) VALUES (?, ?)', 'root@example.com', 'root'],
    ]),
  );
  for (const read of fake.requestsTo('/db/query')) assert.match(read.query, /level=strong/);
});

test('a failing migration leaves nothing of itself (nor its record), and later ones are not tried', async () => {
  const broken: Migration = { version: 2, name: 'broken', up: ['ALTER TABLE users ADD COLUMN nick TEXT', 'INSERT INTO nosuch VALUES (1)'] };
  await assert.rejects(
    migrate(client, [V1, broken, V3]),
    (e: unknown) =>
      e instanceof MigrationError &&
      e.code === 'failed' &&
      e.version === 2 &&
      e.message === 'migration 2 (broken) failed at statement 2, nothing of it was applied: no such table: nosuch',
  );
  assert.deepEqual(rows('SELECT version FROM _migrations'), [[1]]);
  assert.deepEqual(rows("SELECT name FROM pragma_table_info('users') ORDER BY cid"), [['id'], ['email']]);
  assert.deepEqual(rows("SELECT name FROM sqlite_master WHERE type = 'index'"), []);
});

test('an applied migration whose name changed is a rewritten history: refused before anything runs', async () => {
  await migrate(client, [V1]);
  const before = fake.requests.length;
  await assert.rejects(
    migrate(client, [{ ...V1, name: 'people' }, V2]),
    (e: unknown) => e instanceof MigrationError && e.code === 'history_mismatch' && /version 1 was applied as "users" but is now called "people"/.test(e.message),
  );
  assert.equal(fake.requests.slice(before).filter((r) => r.body.includes('ALTER')).length, 0);
});

test('versions recorded but not listed, and pending versions below the highest applied, are refused unless allowed', async () => {
  await migrate(client, [V1, V3]);
  await assert.rejects(migrate(client, [V1]), (e: unknown) => e instanceof MigrationError && e.code === 'unknown_applied' && e.version === 3);
  assert.deepEqual((await migrate(client, [V1], { allowUnknownApplied: true })).applied, []);
  await assert.rejects(migrate(client, [V1, V2, V3]), (e: unknown) => e instanceof MigrationError && e.code === 'out_of_order' && e.version === 2);
  const late = await migrate(client, [V1, V2, V3], { allowOutOfOrder: true });
  assert.deepEqual(late.applied, [{ version: 2, name: 'users.name' }]);
});

test('the list is checked before anything is sent', async () => {
  const invalid = async (list: unknown, message: RegExp) => {
    await assert.rejects(migrate(client, list as Migration[]), (e: unknown) => e instanceof MigrationError && e.code === 'invalid_migrations' && message.test(e.message));
  };
  await invalid([V2, V1], /versions must increase: 1 \(users\) comes after 2 \(users.name\)/);
  await invalid([V1, { ...V1, name: 'again' }], /version 1 appears twice/);
  await invalid([{ ...V1, version: 0 }], /version must be a positive integer/);
  await invalid([{ ...V1, version: 1.5 }], /version must be a positive integer/);
  await invalid([{ ...V1, name: ' ' }], /name must be a non-empty string/);
  await invalid([{ ...V1, up: [] }], /up must be a non-empty array/);
  await invalid([{ ...V1, up: [42] }], /statement 1: expected SQL text/);
  await assert.rejects(migrate(client, [V1], { table: 'bad name' }), /use letters, digits and _ only/);
  await assert.rejects(migrate(client, [V1], { table: '_raftkit_x' }), /reserved/);
  assert.equal(fake.requests.length, 0);
});

test('two runners at once: the second fails on the record, rolls back, re-reads and goes on; nothing runs twice', async () => {
  const counted: Migration[] = [
    { version: 1, name: 'log', up: ['CREATE TABLE log (version INTEGER)', 'INSERT INTO log VALUES (1)'] },
    { version: 2, name: 'two', up: ['INSERT INTO log VALUES (2)'] },
    { version: 3, name: 'three', up: ['INSERT INTO log VALUES (3)'] },
  ];
  // Both runners read the (empty) table before either writes: they then race for every version.
  let waiting: (() => void)[] = [];
  const barrier = () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (waiting.length === 2) {
        waiting.forEach((r) => r());
        waiting = [];
      }
    });
  const runner = (): MigrationClient => {
    let reads = 0;
    return {
      execute: (s, o) => client.execute(s, o),
      query: async (s, o) => {
        const r = await client.query(s, o);
        if (reads++ === 0) await barrier();
        return r;
      },
    };
  };
  const [a, b] = await Promise.all([migrate(runner(), counted), migrate(runner(), counted)]);
  assert.deepEqual(rows('SELECT version FROM log ORDER BY version'), [[1], [2], [3]]);
  assert.deepEqual(rows('SELECT version FROM _migrations ORDER BY version'), [[1], [2], [3]]);
  assert.equal(a.applied.length + b.applied.length, 3);
  assert.equal(a.skipped.length + b.skipped.length, 3);
  assert.equal(a.currentVersion, 3);
  assert.equal(b.currentVersion, 3);
  const conflicts = fake.requests.filter((r) => r.path === '/db/execute' && r.body.includes(RECORD)).length;
  assert.ok(conflicts > 3, 'the loser did send its migrations and had them refused');
});

test('migrationStatus reports applied, pending, unknown and renamed versions without changing anything', async () => {
  assert.deepEqual(await migrationStatus(client, [V1, V2]), {
    currentVersion: 0,
    applied: [],
    pending: [
      { version: 1, name: 'users' },
      { version: 2, name: 'users.name' },
    ],
    unknown: [],
    mismatched: [],
  });
  await migrate(client, [V1, V3], { now: at });
  const before = fake.requests.length;
  assert.deepEqual(await migrationStatus(client, [{ ...V1, name: 'people' }, V2]), {
    currentVersion: 3,
    applied: [],
    pending: [{ version: 2, name: 'users.name' }],
    unknown: [{ version: 3, name: 'email index', appliedAt: '2026-01-02T03:04:05.000Z' }],
    mismatched: [{ version: 1, recordedName: 'users', givenName: 'people' }],
  });
  assert.ok(fake.requests.slice(before).every((r) => r.path === '/db/query'));
});

test('a node that refuses the migration (a 400) is a MigrationError naming the migration', async () => {
  fake.answer = (req) => (req.path === '/db/execute' && req.body.includes('VACUUM') ? { status: 400, body: 'refused "VACUUM": VACUUM is not accepted\n' } : undefined);
  await assert.rejects(
    migrate(client, [V1, { version: 2, name: 'vacuum', up: ['VACUUM'] }]),
    (e: unknown) => e instanceof MigrationError && e.code === 'failed' && e.version === 2 && /^migration 2 \(vacuum\): refused "VACUUM"/.test(e.message),
  );
  assert.deepEqual(rows('SELECT version FROM _migrations'), [[1]]);
});
