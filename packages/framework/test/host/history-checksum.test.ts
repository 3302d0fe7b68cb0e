// Each group's execution-history checksum in the host's status: equal on every replica that
// applied the same entries from the same start, equal to folding the log independently, and
// rebuilt alike by a follower that restarts and re-applies its log.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryChecksum } from '../../src/common/history-checksum.js';
import type { MemoryStorage } from '../../src/core/memory-storage.js';
import { HostCluster, enc, lagOneFollowerBehindASnapshot, waitFor } from './fixtures.js';

const history = (c: HostCluster, id: number) => c.get(id).host.groupStatus('g').history;

test('replicas report the same history checksum, the log folded; a restarted follower rebuilds it', async () => {
  const c = new HostCluster([1, 2, 3]);
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    for (let i = 0; i < 20; i++) await leader.host.propose('g', enc(`v${i}`));
    const target = leader.host.groupStatus('g').applied;
    await waitFor(() => [1, 2, 3].every((id) => history(c, id).index === target), 5000, 'every replica to apply everything');
    const views = [1, 2, 3].map((id) => history(c, id));
    assert.equal(new Set(views.map((v) => JSON.stringify(v))).size, 1, JSON.stringify(views));

    // The same figures from the log itself: every entry after `from`, folded in order.
    const v = views[0]!;
    const storage = (leader.host as unknown as { groups: Map<string, { storage: MemoryStorage }> }).groups.get('g')!.storage;
    const again = new HistoryChecksum(v.from);
    again.fold(storage.entries(v.from + 1, v.index + 1, Number.MAX_SAFE_INTEGER));
    assert.deepEqual(again.view(), v);

    // Another entry changes the checksums (they are not constant).
    await leader.host.propose('g', enc('one more'));
    await waitFor(() => history(c, leader.id).index === target + 1, 3000, 'the next entry');
    assert.notEqual(history(c, leader.id).dataChecksum, v.dataChecksum);

    const follower = [1, 2, 3].find((id) => id !== leader.id)!;
    await waitFor(() => history(c, follower).index === target + 1, 3000, 'the follower to apply it');
    const before = history(c, follower);
    await c.get(follower).host.stop();
    await c.start(follower);
    await waitFor(() => history(c, follower).index === before.index, 5000, 'the restarted follower to re-apply its log');
    assert.deepEqual(history(c, follower), before);
  } finally {
    await c.stopAll();
  }
});

test('snapshots carry the checksums: a follower caught up by a snapshot and nodes restarted from one continue the same chain', async () => {
  const c = new HostCluster([1, 2, 3], { snapshotEntries: 20, retainEntries: 5 });
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const lagging = await lagOneFollowerBehindASnapshot(c, 'g', leader, 100);
    const target = leader.host.groupStatus('g').applied;
    await waitFor(() => [1, 2, 3].every((id) => history(c, id).index === target), 5000, 'every replica, the lagging one by a snapshot');
    const views = [1, 2, 3].map((id) => history(c, id));
    // One chain from the group's founding snapshot, not one restarted at the installed snapshot.
    assert.equal(views[0]!.from, 1, JSON.stringify(views));
    assert.equal(new Set(views.map((v) => JSON.stringify(v))).size, 1, JSON.stringify(views));

    // Restarts begin from the node's latest snapshot (the log before it is gone) and continue the
    // chain; a restarted leader's successor appends an entry of its own, which all then fold.
    for (const id of [lagging, leader.id]) {
      await c.get(id).host.stop();
      await c.start(id);
      assert.ok(c.get(id).host.groupStatus('g').firstIndex > 50, `node ${id} restarted from a snapshot`);
    }
    await c.waitLeader('g');
    const same = (): boolean => {
      const now = [1, 2, 3].map((id) => JSON.stringify(history(c, id)));
      return new Set(now).size === 1;
    };
    await waitFor(same, 5000, 'the replicas to agree again after the restarts');
    const after = history(c, leader.id);
    assert.equal(after.from, 1);
    assert.ok(after.index > target);
    // And it is the chain folded over the entries since the last common view.
    const storage = (c.get(lagging).host as unknown as { groups: Map<string, { storage: MemoryStorage }> }).groups.get('g')!.storage;
    const carried = new HistoryChecksum(target, { from: 1, termChecksum: parseInt(views[0]!.termChecksum, 16), dataChecksum: parseInt(views[0]!.dataChecksum, 16) });
    carried.fold(storage.entries(target + 1, after.index + 1, Number.MAX_SAFE_INTEGER));
    assert.deepEqual(carried.view(), after);
  } finally {
    await c.stopAll();
  }
});
