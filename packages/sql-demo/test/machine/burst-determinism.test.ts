// The same log applied in different bursts gives the same results and the same database. Entries
// a node applies close together share a SQLite transaction (entry-transactions.ts), and when
// differs from node to node. Three SQL machines behind the framework's manager apply one random
// log: the proposer a few entries per event-loop turn, a follower more per turn and sometimes
// waiting for its burst to commit, another follower committing after every entry. The workload rolls back
// whole transactions (INSERT OR ROLLBACK, a trigger's RAISE(ROLLBACK) added and dropped half-way),
// fails statements, uses random() and the clock, and mixes transaction=true requests in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStateMachineManager } from '@raftkit/framework/fsm';
import { FLUSH_DELAY_MS } from '../../src/engine/entry-transactions.js';
import { SqlDatabase } from '../../src/machine/sql-database.machine.js';

/** mulberry32: the workload is the same on every run. */
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

const SCHEMA = ['CREATE TABLE w (k INTEGER PRIMARY KEY, r INTEGER, b BLOB, d TEXT)', 'CREATE TABLE u (x INTEGER UNIQUE)', 'CREATE TABLE g (x INTEGER)'];
const TRIGGER = "CREATE TRIGGER g_guard BEFORE INSERT ON g WHEN NEW.x % 5 = 0 BEGIN SELECT RAISE(ROLLBACK, 'multiple of 5'); END";

const STATEMENTS: ((k: number) => unknown)[] = [
  (k) => [`INSERT INTO w(k, r, b, d) VALUES (?, random(), randomblob(4), datetime('now')) ON CONFLICT(k) DO UPDATE SET r = excluded.r % 1000`, k],
  (k) => `INSERT OR ROLLBACK INTO u VALUES (${k % 25})`,
  (k) => `INSERT INTO u VALUES (${k % 25})`,
  (k) => ['INSERT INTO g VALUES (?)', k],
  (k) => `UPDATE w SET r = r + 1, d = CURRENT_TIMESTAMP WHERE k % 7 = ${k % 7}`,
  (k) => `DELETE FROM w WHERE k = ${k} AND abs(random()) % 2 = 0`,
  () => 'INSERT INTO nosuch VALUES (1)',
  (k) => `INSERT INTO g SELECT count(*) + ${k} FROM w`,
];

interface Command {
  name: 'execute' | 'request';
  args: unknown;
}

function workload(n: number): Command[] {
  const rand = prng(7);
  const out: Command[] = [{ name: 'execute', args: { statements: SCHEMA } }];
  for (let i = 1; i < n; i++) {
    if (i === Math.floor(n / 3)) out.push({ name: 'execute', args: { statements: [TRIGGER] } });
    else if (i === Math.floor((2 * n) / 3)) out.push({ name: 'execute', args: { statements: ['DROP TRIGGER g_guard'] } });
    else {
      const statements = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => STATEMENTS[Math.floor(rand() * STATEMENTS.length)]!(Math.floor(rand() * 100)));
      if (rand() < 0.15) statements.push('SELECT count(*), sum(r) FROM w');
      out.push({ name: rand() < 0.2 ? 'request' : 'execute', args: { statements, ...(rand() < 0.3 ? { transaction: true } : {}) } });
    }
  }
  return out;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const committed = () => new Promise<void>((resolve) => setTimeout(resolve, FLUSH_DELAY_MS + 2));

test('one log applied in different bursts: the same result for every entry and the same database', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-sql-bursts-'));
  const machines = [new SqlDatabase(), new SqlDatabase(), new SqlDatabase()];
  const managers = machines.map((m) => createStateMachineManager(m));
  try {
    for (const [i, m] of managers.entries()) await m.open(join(dir, `n${i}`));
    const commands = workload(300);
    // The proposer prepares every entry (its args are checked and kept); the others see the bytes.
    const entries = commands.map((c, i) => ({ term: 1, index: i + 1, type: 0, data: managers[0]!.prepareCommand(c.name, c.args, {}, Date.UTC(2030, 0, 1) + i * 997) }));
    const rand = prng(99);
    const results: unknown[][] = [[], [], []];
    const burstSizes = [() => 1 + Math.floor(rand() * 8), () => 1 + Math.floor(rand() * 20), () => 1];
    const pause = [turn, () => (rand() < 0.2 ? committed() : turn()), committed];
    await Promise.all(
      managers.map(async (m, n) => {
        for (let at = 0; at < entries.length;) {
          const burst = entries.slice(at, at + burstSizes[n]!()).map((e) => (n === 0 ? e : { ...e, data: new Uint8Array(e.data) }));
          at += burst.length;
          const r = m.apply(burst) as unknown[];
          results[n]!.push(...r.map((x) => JSON.parse(JSON.stringify(x)) as unknown));
          await pause[n]!();
        }
      }),
    );
    for (let i = 0; i < entries.length; i++) {
      assert.deepEqual(results[1]![i], results[0]![i], `entry ${i + 1}`);
      assert.deepEqual(results[2]![i], results[0]![i], `entry ${i + 1}`);
    }
    // The workload did what it is for: whole-transaction rollbacks, under the trigger and without it.
    const flat = JSON.stringify(results[0]);
    assert.match(flat, /UNIQUE constraint failed: u.x/);
    assert.match(flat, /multiple of 5/);
    const sums = machines.map((m) => m.checksum());
    assert.equal(sums[1]!.checksum, sums[0]!.checksum);
    assert.equal(sums[2]!.checksum, sums[0]!.checksum);
    assert.ok(sums[0]!.rows > 50);
    for (const m of machines) assert.equal(m.info().appliedIndex, entries.length);
  } finally {
    for (const m of managers) await m.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
