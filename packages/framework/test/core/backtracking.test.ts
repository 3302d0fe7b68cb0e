// Fast backtracking: a rejecting follower sends a hint (the last index whose term is <= the
// probed term, and that term) so the leader skips whole terms of conflicting entries instead of
// walking back one entry per round trip. Logs are pre-filled in storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { MessageType } from '../../src/core/types.js';

const rep = (term: number, n: number): number[] => Array.from({ length: n }, () => term);

/**
 * Node 1 (the leader-to-be) and node 3 hold `leaderLog`; node 2 holds `followerLog`. Node 1
 * campaigns (node 3's vote suffices) and replicates. Returns the number of rejects node 2 sent.
 */
function sync(leaderLog: number[], followerLog: number[], leaderTerm?: number): { c: Cluster; rejects: number } {
  const top = leaderTerm ?? Math.max(...leaderLog, ...followerLog);
  const c = new Cluster({
    voters: [1, 2, 3],
    config: { checkQuorum: false },
    logs: { 1: leaderLog, 2: followerLog, 3: leaderLog },
    terms: { 1: top, 3: top },
  });
  c.campaign(1);
  assert.equal(c.get(1).node.role, 'leader');
  const rejects = c.countSent(MessageType.AppendResponse, (m) => m.from === 2 && m.reject);
  return { c, rejects };
}

// Figure 7 of the Raft paper: the leader's log and six possible follower logs.
const figure7Leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
const figure7: Record<string, number[]> = {
  a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
  b: [1, 1, 1, 4],
  c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
  d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
  e: [1, 1, 1, 4, 4, 4, 4],
  f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
};

for (const [name, log] of Object.entries(figure7)) {
  test(`Figure 7 (${name}): the follower ends up with the leader's log in at most two rejects`, () => {
    // As in the paper, the leader campaigns from term 7 and leads term 8.
    const { c, rejects } = sync(figure7Leader, log, 7);
    assert.deepEqual(c.logTerms(2), c.logTerms(1));
    // logTerms starts after the founding snapshot (index 1, term 1).
    assert.deepEqual(c.logTerms(1), [...figure7Leader.slice(1), 8]);
    assert.ok(rejects <= 2, `${rejects} rejects`);
    assert.equal(c.committed(2), 11);
  });
}

test('a long divergent tail of one stale term costs one reject, not one per entry', () => {
  const { c, rejects } = sync([1, ...rep(3, 300)], [1, ...rep(2, 300)]);
  assert.deepEqual(c.logTerms(2), c.logTerms(1));
  assert.equal(rejects, 1);
});

test('a divergent tail spanning many terms costs one reject per term at most', () => {
  // The follower's stale entries come from terms 2..6 (each 50 long); the leader's from term 7.
  const follower = [1, ...[2, 3, 4, 5, 6].flatMap((t) => rep(t, 50))];
  const leader = [1, ...rep(7, 200)];
  const { c, rejects } = sync(leader, follower);
  assert.deepEqual(c.logTerms(2), c.logTerms(1));
  assert.ok(rejects <= 2, `${rejects} rejects for 250 divergent entries`);
});

test('a follower longer than the leader with a stale tail is truncated in few round trips', () => {
  const { c, rejects } = sync([1, 1, ...rep(4, 100)], [1, 1, ...rep(3, 400)]);
  assert.deepEqual(c.logTerms(2), c.logTerms(1));
  assert.ok(rejects <= 2, `${rejects} rejects`);
  assert.equal(c.lastIndex(2), c.lastIndex(1));
  assert.equal(c.lastIndex(1), 103);
});

test('a follower that is merely behind gets the missing entries after one reject', () => {
  const { c, rejects } = sync([1, ...rep(2, 500)], [1, ...rep(2, 20)]);
  assert.deepEqual(c.logTerms(2), c.logTerms(1));
  assert.equal(rejects, 1);
});

test('the reject carries the hint: the index of the last entry with term <= the probed term, and its term', () => {
  const { c } = sync([1, 1, ...rep(5, 10)], [1, 1, 2, 2, 3, 3, 3]);
  const reject = c.sent.find((m) => m.type === MessageType.AppendResponse && m.from === 2 && m.reject)!;
  // The leader probed at its last index 12 (term 5); the follower has 7 entries, the last of term 3.
  assert.equal(reject.index, 12);
  assert.equal(reject.rejectHint, 7);
  assert.equal(reject.logTerm, 3);
  // The leader then skipped straight to index 2 (its last entry with term <= 3).
  const probes = c.sent.filter((m) => m.type === MessageType.Append && m.to === 2).map((m) => m.index);
  assert.deepEqual(probes.slice(0, 2), [12, 2]);
});
