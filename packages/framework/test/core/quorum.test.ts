// Majority and joint quorum arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { majorityActive, majorityCommitted, majorityVoteResult, VoteResult } from '../../src/core/quorum/majority.js';
import { JointConfig } from '../../src/core/quorum/joint.js';

const ids = (...xs: number[]) => new Set(xs);
const matches = (m: Record<number, number>) => (id: number) => m[id];
const votes = (v: Record<number, boolean>) => new Map(Object.entries(v).map(([k, b]) => [Number(k), b]));

test('majorityCommitted: the highest index a majority has reached', () => {
  assert.equal(majorityCommitted(ids(1), matches({ 1: 7 })), 7);
  assert.equal(majorityCommitted(ids(1, 2), matches({ 1: 7, 2: 3 })), 3);
  assert.equal(majorityCommitted(ids(1, 2, 3), matches({ 1: 7, 2: 3, 3: 5 })), 5);
  assert.equal(majorityCommitted(ids(1, 2, 3, 4), matches({ 1: 7, 2: 3, 3: 5, 4: 9 })), 5);
  assert.equal(majorityCommitted(ids(1, 2, 3, 4, 5), matches({ 1: 9, 2: 9, 3: 1 })), 1, 'unknown members count as 0');
  assert.equal(majorityCommitted(ids(), matches({})), Number.MAX_SAFE_INTEGER, 'an empty config never constrains');
});

test('majorityVoteResult: won, lost, pending', () => {
  const three = ids(1, 2, 3);
  assert.equal(majorityVoteResult(three, votes({ 1: true, 2: true })), VoteResult.Won);
  assert.equal(majorityVoteResult(three, votes({ 1: true })), VoteResult.Pending);
  assert.equal(majorityVoteResult(three, votes({ 1: true, 2: false })), VoteResult.Pending);
  assert.equal(majorityVoteResult(three, votes({ 2: false, 3: false })), VoteResult.Lost);
  assert.equal(majorityVoteResult(three, votes({ 1: true, 9: true })), VoteResult.Pending, 'non-members do not count');
  const four = ids(1, 2, 3, 4);
  assert.equal(majorityVoteResult(four, votes({ 1: true, 2: true })), VoteResult.Pending, 'half is not a majority');
  assert.equal(majorityVoteResult(four, votes({ 1: true, 2: true, 3: false, 4: false })), VoteResult.Lost);
  assert.equal(majorityVoteResult(ids(), votes({})), VoteResult.Won);
});

test('majorityActive', () => {
  assert.equal(
    majorityActive(ids(1, 2, 3), (id) => id !== 3),
    true,
  );
  assert.equal(
    majorityActive(ids(1, 2, 3), (id) => id === 1),
    false,
  );
  assert.equal(
    majorityActive(ids(1, 2, 3, 4), (id) => id <= 2),
    false,
  );
  assert.equal(
    majorityActive(ids(), () => false),
    true,
  );
});

test('joint: commit index is the minimum of both halves; a simple config ignores the empty half', () => {
  const j = new JointConfig(ids(1, 2, 3), ids(3, 4, 5));
  assert.equal(j.joint, true);
  assert.deepEqual([...j.ids()].sort(), [1, 2, 3, 4, 5]);
  // incoming majority at 8 (1,2), outgoing majority at 2 (3 at 2, 4 at 6, 5 at 1 -> 2)
  assert.equal(j.committedIndex(matches({ 1: 8, 2: 8, 3: 2, 4: 6, 5: 1 })), 2);
  const simple = new JointConfig(ids(1, 2, 3), ids());
  assert.equal(simple.joint, false);
  assert.equal(simple.committedIndex(matches({ 1: 8, 2: 8, 3: 2 })), 8);
});

test('joint: a vote needs both majorities; losing either loses', () => {
  const j = new JointConfig(ids(1, 2, 3), ids(1, 4, 5));
  assert.equal(j.voteResult(votes({ 1: true, 2: true })), VoteResult.Pending, 'outgoing has only 1');
  assert.equal(j.voteResult(votes({ 1: true, 2: true, 4: true })), VoteResult.Won);
  assert.equal(j.voteResult(votes({ 1: true, 2: true, 4: false, 5: false })), VoteResult.Lost);
  assert.equal(j.voteResult(votes({ 2: false, 3: false, 4: true, 5: true })), VoteResult.Lost);
});

test('joint: quorumActive needs both halves', () => {
  const j = new JointConfig(ids(1, 2, 3), ids(1, 4, 5));
  assert.equal(
    j.quorumActive((id) => [1, 2].includes(id)),
    false,
  );
  assert.equal(
    j.quorumActive((id) => [1, 2, 4].includes(id)),
    true,
  );
  assert.equal(j.has(5), true);
  assert.equal(j.has(6), false);
});
