// Each group's execution-history checksum in the host's status: equal on every replica that
// applied the same entries from the same start, equal to folding the log independently, and
// rebuilt alike by a follower that restarts and re-applies its log.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryChecksum } from '../../src/common/history-checksum.js';
import type { MemoryStorage } from '../../src/core/memory-storage.js';
import { HostCluster, enc, waitFor } from './fixtures.js';

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
