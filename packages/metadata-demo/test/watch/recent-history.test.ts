// The in-memory window of recent revisions: bounded by count and bytes, consecutive revisions
// only, pages that end with a whole revision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RevisionChanges } from '../../src/store/store-types.js';
import { RecentHistory } from '../../src/watch/recent-history.js';

function rev(revision: number, events = 1, valueBytes = 10): RevisionChanges {
  const kv = { key: Buffer.from(`k${revision}`), createRevision: revision, modRevision: revision, version: 1, value: Buffer.alloc(valueBytes), lease: 0n };
  return { revision, events: Array.from({ length: events }, () => ({ type: 'put' as const, kv })) };
}

test('keeps the newest revisions within its count and byte bounds', () => {
  const h = new RecentHistory(100, 1 << 20);
  for (let r = 2; r <= 3000; r++) h.push(rev(r));
  assert.deepEqual([h.oldest, h.newest], [2901, 3000]);
  assert.ok(h.covers(2901, 3000) && !h.covers(2900, 3000) && !h.covers(2950, 3001));
  const small = new RecentHistory(1000, 1000);
  for (let r = 2; r <= 50; r++) small.push(rev(r, 1, 100));
  assert.ok(small.oldest! > 40, `bytes bound the window: oldest ${small.oldest}`);
  const one = new RecentHistory(10, 10);
  one.push(rev(5, 1, 1000));
  assert.deepEqual([one.oldest, one.newest], [5, 5], 'a revision larger than the byte bound is still kept alone');
});

test('a gap in revisions starts the window over; clear empties it', () => {
  const h = new RecentHistory(100, 1 << 20);
  for (let r = 2; r <= 10; r++) h.push(rev(r));
  h.push(rev(20));
  assert.deepEqual([h.oldest, h.newest], [20, 20]);
  h.clear();
  assert.equal(h.oldest, undefined);
  assert.equal(h.covers(20, 20), false);
});

test('pages stop after the limits, at a whole revision, and never pass `to`', () => {
  const h = new RecentHistory(100, 1 << 20);
  for (let r = 2; r <= 30; r++) h.push(rev(r, 3));
  const p = h.page(5, 30, { maxEvents: 7, maxBytes: 1 << 20 });
  assert.deepEqual(
    p.changes.map((c) => c.revision),
    [5, 6, 7],
  );
  assert.equal(p.through, 7);
  const q = h.page(28, 29, { maxEvents: 1000, maxBytes: 1 << 20 });
  assert.deepEqual([q.changes.map((c) => c.revision), q.through], [[28, 29], 29]);
});
