// Learners: non-voting members that receive and apply the log, never count for commit or
// quorum, never campaign and are never asked for votes; they can be promoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, addLearner, addVoter, autoChange } from './harness.js';
import { MessageType, Role } from '../../src/core/types.js';

test('a learner receives and applies the log', () => {
  const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
  c.campaign(1);
  for (const v of ['a', 'b', 'c']) c.propose(1, v);
  assert.deepEqual(c.data(4), ['a', 'b', 'c']);
  assert.deepEqual(c.logTerms(4), c.logTerms(1));
  const p4 = c.status(1).progress.find((p) => p.id === 4)!;
  assert.equal(p4.learner, true);
  assert.deepEqual(c.get(4).node.confState().learners, [4]);
});

test('a learner acknowledgement does not count towards commit', () => {
  const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
  c.campaign(1);
  c.holdFilter = (m) => m.type === MessageType.Append && (m.to === 2 || m.to === 3);
  const idx = c.propose(1, 'x');
  const p4 = c.status(1).progress.find((p) => p.id === 4)!;
  assert.equal(p4.match, idx, 'the learner has the entry');
  assert.ok(c.committed(1) < idx, 'leader + learner is not a quorum of {1,2,3}');
  assert.deepEqual(c.data(4), []);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.equal(c.committed(1), idx);
  assert.deepEqual(c.data(4), ['x']);
});

test('a learner never campaigns, even when every voter is gone', () => {
  const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
  c.campaign(1);
  const term = c.get(4).node.term;
  c.crash(1);
  c.crash(2);
  c.crash(3);
  c.tick(4, 100);
  c.campaign(4);
  assert.equal(c.get(4).node.role, Role.Follower);
  assert.equal(c.get(4).node.term, term);
});

test('candidates never ask a learner for its vote', () => {
  const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
  c.tickUntil(() => c.leader() !== undefined, 100);
  assert.equal(
    c.countSent(MessageType.PreVote, (m) => m.to === 4),
    0,
  );
  assert.equal(
    c.countSent(MessageType.Vote, (m) => m.to === 4),
    0,
  );
  assert.ok(c.countSent(MessageType.PreVote) > 0);
});

test('check-quorum does not count a learner: a leader with only a learner left steps down', () => {
  const c = new Cluster({ voters: [1, 2], learners: [3] });
  c.campaign(1);
  c.crash(2);
  c.tickUntil(() => c.get(1).node.role !== Role.Leader, 25, [1, 3]);
  assert.equal(c.get(1).node.role, Role.Follower);
});

test('a learner added by a membership change catches up, then is promoted to voter', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  c.snapshotAndCompact(1); // the joiner gets the base configuration from a snapshot
  c.addJoiningNode(4);
  c.proposeConfChange(1, autoChange(addLearner(4)));
  c.propose(1, 'b');
  assert.deepEqual(c.data(4), ['a', 'b']);
  for (const id of [1, 2, 3, 4]) {
    assert.deepEqual(c.get(id).node.confState().voters, [1, 2, 3], `voters on ${id}`);
    assert.deepEqual(c.get(id).node.confState().learners, [4], `learners on ${id}`);
  }
  c.proposeConfChange(1, autoChange(addVoter(4)));
  for (const id of [1, 2, 3, 4]) {
    assert.deepEqual(c.get(id).node.confState().voters, [1, 2, 3, 4], `voters on ${id}`);
    assert.deepEqual(c.get(id).node.confState().learners, []);
  }
  // Node 4 now counts: with 2 and 3 held back, 1 + 4 is not a quorum of four, 1 + 3 + 4 is.
  c.holdFilter = (m) => m.type === MessageType.Append && (m.to === 2 || m.to === 3);
  const idx = c.propose(1, 'c');
  assert.ok(c.committed(1) < idx);
  c.holdFilter = undefined;
  c.held = c.held.filter((m) => m.to === 3);
  c.release();
  c.stabilize();
  assert.equal(c.committed(1), idx);
});

test('a voter demoted to learner keeps receiving the log but stops voting', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.proposeConfChange(1, autoChange(addLearner(3)));
  for (const id of [1, 2, 3]) {
    assert.deepEqual(c.get(id).node.confState().voters, [1, 2]);
    assert.deepEqual(c.get(id).node.confState().learners, [3]);
  }
  c.propose(1, 'x');
  assert.deepEqual(c.data(3), ['x']);
  // Voters are {1, 2} now: without node 1 nobody can be elected. Node 3 is asked for no vote; as
  // a demoted voter it may campaign (slowly), but its votes are counted in {1, 2} and never win.
  c.clearSent();
  c.crash(1);
  c.tickAll(100);
  assert.equal(c.leader(), undefined);
  assert.ok(c.countSent(MessageType.PreVote, (m) => m.from === 2 && m.to === 1) > 0);
  assert.equal(
    c.countSent(MessageType.PreVote, (m) => m.to === 3),
    0,
  );
  assert.equal(c.countSent(MessageType.VoteResponse, (m) => m.to === 3 && !m.reject) <= 1, true, 'node 3 can collect at most node 2');
  assert.notEqual(c.get(3).node.role, 'leader');
});
