// An on-disk state machine (test/fixtures/rows-node.ts: SQLite rows, the applied index in the same
// transaction, sync()) on 3 real processes: the snapshots taken to compact the log copy nothing
// (metadata only, after sync()), a restarted node applies none of what its database holds, a
// node that fell behind the compacted log gets the database as a streamed snapshot file made for
// it, and a node whose database is older than its log's base refuses to start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvCluster, eventually } from '../kv/kv-cluster.js';

const ROWS_NODE = fileURLToPath(new URL('../fixtures/rows-node.js', import.meta.url));

interface Stats {
  count: number;
  applied: number;
  calls: number;
  digest: string;
  saves: number;
  syncs: number;
}

async function stats(c: KvCluster, id: number): Promise<Stats> {
  const r = await c.req(id, 'POST', '/v1/groups/rows/queries/stats?consistency=local', { body: {} });
  assert.equal(r.status, 200, r.text);
  return r.body.result as Stats;
}

/** Waits until node `id` reports the same rows and applied index as `target`. */
async function converges(c: KvCluster, id: number, target: Stats): Promise<void> {
  await eventually(
    async () => {
      const s = await stats(c, id);
      return s.count === target.count && s.digest === target.digest && s.applied === target.applied ? true : undefined;
    },
    30_000,
    `node ${id} to hold ${target.count} rows`,
  );
}

async function add(c: KvCluster, leader: number, count: number, value: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const r = await c.req(leader, 'POST', '/v1/groups/rows/commands/add', { body: { n: 3, value } });
    assert.equal(r.status, 200, r.text);
  }
}

test('an on-disk machine: restarts apply nothing twice, a lagging follower installs the database as a file', { timeout: 120_000 }, async () => {
  const c = new KvCluster([1, 2, 3], { bin: ROWS_NODE, group: 'rows', extraArgs: ['--snapshot-entries', '40'] });
  try {
    let leader = await c.startAll();
    await add(c, leader, 120, 'a');
    const target = await stats(c, leader);
    assert.equal(target.count, 360);
    for (const id of [1, 2, 3]) await converges(c, id, target);
    // Every node snapshotted (every 40 entries) without copying its database.
    for (const id of [1, 2, 3]) {
      const s = await stats(c, id);
      assert.equal(s.saves, 0, `node ${id} saved a full snapshot`);
      assert.ok(s.syncs >= 2, `node ${id} synced ${s.syncs} times`);
    }

    // kill -9 of a follower: on restart its database already holds every entry it applied.
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    await c.kill(follower);
    c.start(follower);
    await converges(c, follower, target);
    assert.equal((await stats(c, follower)).calls, 0, 'the restarted node applied entries its database already held');

    // The other follower misses enough entries that the leader's log is compacted past it.
    const lagging = [1, 2, 3].find((id) => id !== leader && id !== follower)!;
    await c.stop(lagging);
    leader = await c.waitLeader([1, 2, 3].filter((id) => id !== lagging));
    await add(c, leader, 150, 'b');
    const after = await stats(c, leader);
    assert.equal(after.count, 360 + 450);
    c.start(lagging);
    await converges(c, lagging, after);
    // It received the database (its applied count is only what came after the snapshot).
    const s = await stats(c, lagging);
    assert.ok(s.calls < 150, `the lagging node applied ${s.calls} commands itself; a snapshot should have covered most`);
    // The leader made that full snapshot when the follower needed it.
    assert.ok((await stats(c, leader)).saves >= 1, 'the leader saved a full snapshot for the follower');

    // A node whose database was lost while its log starts after a snapshot without the state.
    const other = [1, 2, 3].find((id) => id !== leader && id !== lagging)!;
    await c.stop(other);
    const dir = join(c.dataDirOf(other), 'machines', 'g_rows');
    for (const name of await readdir(dir)) await rm(join(dir, name), { force: true });
    const p = c.start(other);
    const code = await p.exited;
    assert.notEqual(code, 0, 'the node refuses to start');
    assert.match(p.stderr, /group "rows"/);
    assert.match(p.stderr, /holds entries up to index 0 \(what open\(\) reported\), but the log starts after a snapshot at index \d+/);
  } finally {
    await c.stopAll();
  }
});
