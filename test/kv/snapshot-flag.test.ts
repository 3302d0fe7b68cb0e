import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCluster, eventually, readNdjson } from './kv-cluster.js';

test('--snapshot-entries compacts the log every N entries; a watch from before it answers 410 with firstIndex, also after a restart', { timeout: 90_000 }, async () => {
  const c = new KvCluster([1, 2, 3], { extraArgs: ['--snapshot-entries', '20'] });
  try {
    const leader = await c.startAll();
    let last = 0;
    for (let i = 0; i < 100; i++) last = (await c.ok(leader, 'put', { key: `k${i % 7}`, value: String(i) })).index;
    const st = await c.kvStatus(leader);
    assert.ok(st.firstIndex > 50, `the log was compacted (first index ${st.firstIndex})`);
    const r = await c.req(leader, 'GET', '/v1/groups/kv/watch?from=1');
    assert.equal(r.status, 410, r.text);
    assert.equal(r.body.error, 'compacted');
    assert.ok(Number.isInteger(r.body.firstIndex) && r.body.firstIndex > 1, r.text);
    // The state is intact after compaction: the key written last at i = 99 holds "99".
    const got = await c.query(leader, 'get', { key: 'k1' });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.result.value, '99');

    // A follower restarts from its latest snapshot. It still shows the entries its log kept
    // behind that snapshot (10 with an interval of 20), results included, and answers 410 below them.
    const victim = c.ids.find((id) => id !== leader)!;
    await c.waitApplied(victim, last);
    assert.equal(await c.stop(victim), 0);
    c.start(victim);
    await eventually(async () => ((await c.kvStatus(victim))?.applied >= last ? true : undefined), 15_000, `node ${victim} back`);
    const logFirst: number = (await c.kvStatus(victim)).firstIndex; // the snapshot's index + 1 after a restart
    const gone = await c.req(victim, 'GET', '/v1/groups/kv/watch?from=1');
    assert.equal(gone.status, 410, gone.text);
    const firstIndex: number = gone.body.firstIndex;
    assert.ok(firstIndex < logFirst - 5, `the restarted node shows entries behind its snapshot (firstIndex ${firstIndex}, snapshot at ${logFirst - 1})`);
    const w = c.watch(victim, `?from=${firstIndex - 1}`);
    const closed = await w.closed;
    assert.equal(closed.code, 4410, JSON.stringify(closed));
    assert.equal(JSON.parse(closed.reason).firstIndex, firstIndex);
    // What it shows from there is what the leader shows.
    const from = Math.max(firstIndex, r.body.firstIndex);
    const mine = await readNdjson(c.portOf(victim), `/v1/groups/kv/watch?from=${from}`, last);
    const theirs = await readNdjson(c.portOf(leader), `/v1/groups/kv/watch?from=${from}`, last);
    assert.equal(mine.status, 200, mine.text);
    assert.ok(mine.lines.length > 0 && mine.lines[0].index < logFirst);
    assert.ok(mine.lines.every((e) => e.command === 'put' && typeof e.result?.revision === 'number'));
    const upTo = (lines: any[]) => lines.filter((x) => x.index <= last);
    assert.deepEqual(upTo(mine.lines), upTo(theirs.lines));
  } finally {
    await c.stopAll();
  }
});
