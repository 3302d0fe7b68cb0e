// Batching: proposals made before the next Ready go out as one Append per follower and one
// write to storage; many committed entries are handed out in one Ready (bounded by
// maxCommittedSizePerReady).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, enc } from './harness.js';
import { RaftError } from '../../src/core/errors.js';
import { MessageType, type RaftConfig } from '../../src/core/index.js';

function leaderOf3(config: Partial<RaftConfig> = {}): Cluster {
  const c = new Cluster({ voters: [1, 2, 3], config });
  c.campaign(1);
  c.propose(1, 'warm-up'); // followers in replicate state
  return c;
}

test('several proposals before a Ready become one Append per follower and one storage write', () => {
  const c = leaderOf3();
  c.recordReadies = true;
  c.clearSent();
  const n = c.get(1).node;
  const first = n.propose(enc('p0'));
  for (let i = 1; i < 5; i++) assert.equal(n.propose(enc(`p${i}`)), first + i);
  c.stabilize();
  for (const to of [2, 3]) {
    const apps = c.sent.filter((m) => m.type === MessageType.Append && m.to === to && m.entries.length > 0);
    assert.equal(apps.length, 1, `Appends with entries to ${to}`);
    assert.deepEqual(
      apps[0]!.entries.map((e) => e.index),
      [first, first + 1, first + 2, first + 3, first + 4],
    );
  }
  const leaderWrites = c.readies.filter((r) => r.id === 1 && r.rd.entries.length > 0);
  assert.equal(leaderWrites.length, 1);
  assert.equal(leaderWrites[0]!.rd.entries.length, 5);
  // The follower acknowledges the batch as a whole, never entry by entry.
  assert.equal(
    c.countSent(MessageType.AppendResponse, (m) => m.from === 2 && m.index >= first && m.index < first + 4),
    0,
  );
  assert.ok(c.countSent(MessageType.AppendResponse, (m) => m.from === 2 && m.index === first + 4) >= 1);
  assert.deepEqual(c.data(3), ['warm-up', 'p0', 'p1', 'p2', 'p3', 'p4']);
});

test('proposeBatch appends all entries at once and returns the first index', () => {
  const c = leaderOf3();
  c.clearSent();
  const last = c.lastIndex(1);
  const first = c.get(1).node.proposeBatch([enc('x'), enc('y'), enc('z')]);
  assert.equal(first, last + 1);
  assert.equal(c.lastIndex(1), last + 3);
  c.stabilize();
  assert.equal(
    c.countSent(MessageType.Append, (m) => m.to === 2 && m.entries.length > 0),
    1,
  );
  assert.deepEqual(c.data(2), ['warm-up', 'x', 'y', 'z']);
  assert.throws(
    () => c.get(1).node.proposeBatch([]),
    (e: unknown) => e instanceof RaftError && e.code === 'proposal_dropped',
  );
});

test('a follower hands out many committed entries in one Ready', () => {
  const c = leaderOf3();
  c.recordReadies = true;
  c.get(1).node.proposeBatch(Array.from({ length: 50 }, (_, i) => enc(`e${i}`)));
  c.stabilize();
  const applying = c.readies.filter((r) => r.id === 2 && r.rd.committedEntries.length > 0);
  assert.equal(applying.length, 1);
  assert.equal(applying[0]!.rd.committedEntries.length, 50);
  const leaderApplying = c.readies.filter((r) => r.id === 1 && r.rd.committedEntries.length > 0);
  assert.equal(leaderApplying.length, 1);
  assert.equal(leaderApplying[0]!.rd.committedEntries.length, 50);
});

test('maxCommittedSizePerReady bounds the committed entries of one Ready (at least one entry each)', () => {
  // 10-byte entries weigh 26; 60 bytes hold two of them.
  const c = leaderOf3({ maxCommittedSizePerReady: 60 });
  c.recordReadies = true;
  c.get(1).node.proposeBatch(Array.from({ length: 7 }, () => enc('0123456789')));
  c.stabilize();
  const sizes = c.readies.filter((r) => r.id === 2 && r.rd.committedEntries.length > 0).map((r) => r.rd.committedEntries.length);
  assert.deepEqual(sizes, [2, 2, 2, 1]);
  assert.equal(c.data(2).length, 8);
  // One oversized entry still goes out alone.
  c.readies = [];
  c.propose(1, 'x'.repeat(200));
  const big = c.readies.filter((r) => r.id === 2 && r.rd.committedEntries.length > 0);
  assert.deepEqual(
    big.map((r) => r.rd.committedEntries.length),
    [1],
  );
});

test('acknowledgements are batched too: many Appends in flight, the commit advances in one step', () => {
  const c = leaderOf3({ maxSizePerMsg: 1 });
  c.holdFilter = (m) => m.type === MessageType.AppendResponse && m.to === 1;
  for (let i = 0; i < 6; i++) c.propose(1, `v${i}`);
  const before = c.committed(1);
  c.holdFilter = undefined;
  c.recordReadies = true;
  c.release();
  c.stabilize();
  assert.equal(c.committed(1), before + 6);
  const leaderApplying = c.readies.filter((r) => r.id === 1 && r.rd.committedEntries.length > 0);
  assert.equal(leaderApplying.length, 1);
  assert.equal(leaderApplying[0]!.rd.committedEntries.length, 6);
});
