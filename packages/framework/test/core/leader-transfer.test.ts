// Leadership transfer: catch the target up, then TimeoutNow; the target campaigns at once
// (bypassing leader stickiness); proposals are refused meanwhile; the transfer is abandoned
// after an election timeout; learners and witnesses are not eligible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, addLearner, autoChange, enc } from './harness.js';
import { makeMessage } from '../../src/core/raft.js';
import { RaftError } from '../../src/core/errors.js';
import { MessageType, Role } from '../../src/core/types.js';

function leaderOf3(): Cluster {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  return c;
}

const dropped = (e: unknown) => e instanceof RaftError && e.code === 'proposal_dropped';

test('transfer to an up-to-date follower: one TimeoutNow, the target leads the next term', () => {
  const c = leaderOf3();
  const term = c.get(1).node.term;
  c.clearSent();
  c.get(1).node.transferLeader(2);
  c.stabilize(); // no ticks needed
  assert.equal(
    c.countSent(MessageType.TimeoutNow, (m) => m.from === 1 && m.to === 2),
    1,
  );
  assert.equal(c.get(2).node.role, Role.Leader);
  assert.equal(c.get(2).node.term, term + 1);
  for (const id of [1, 3]) {
    assert.equal(c.get(id).node.role, Role.Follower);
    assert.equal(c.get(id).node.lead, 2);
  }
  // The followers were in their leader lease: the transfer-flagged votes bypassed it.
  assert.ok(c.countSent(MessageType.Vote, (m) => m.from === 2 && m.transfer === true) >= 2);
  assert.equal(c.countSent(MessageType.PreVote), 0, 'a transfer skips the pre-vote');
  c.propose(2, 'b');
  for (const id of [1, 2, 3]) assert.deepEqual(c.data(id), ['a', 'b']);
});

test('a lagging target is caught up first; TimeoutNow only once it has the whole log', () => {
  const c = leaderOf3();
  c.holdFilter = (m) => m.type === MessageType.Append && m.to === 3;
  c.propose(1, 'b');
  c.propose(1, 'c');
  c.clearSent();
  c.get(1).node.transferLeader(3);
  c.stabilize();
  assert.equal(c.status(1).leadTransferee, 3);
  assert.equal(c.countSent(MessageType.TimeoutNow), 0, 'no TimeoutNow to a lagging target');
  assert.equal(c.get(1).node.role, Role.Leader);
  // Proposals are refused while the transfer is in progress.
  assert.throws(() => c.get(1).node.propose(enc('x')), dropped);
  assert.throws(() => c.get(1).node.proposeConfChange(autoChange(addLearner(4))), dropped);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.equal(
    c.countSent(MessageType.TimeoutNow, (m) => m.to === 3),
    1,
  );
  assert.equal(c.get(3).node.role, Role.Leader);
  assert.deepEqual(c.data(3), ['a', 'b', 'c']);
});

test('a target that lagged behind a partition is caught up and takes over', () => {
  const c = leaderOf3();
  c.isolate(3);
  c.propose(1, 'b');
  c.propose(1, 'c');
  c.heal();
  c.get(1).node.transferLeader(3);
  c.stabilize();
  // The transfer has one election timeout to finish; heartbeats keep flowing.
  c.tickAll(9);
  assert.equal(c.get(3).node.role, Role.Leader, 'the lagging target never caught up');
  assert.deepEqual(c.data(3), ['a', 'b', 'c']);
});

test('a transfer that does not finish within an election timeout is abandoned', () => {
  const c = leaderOf3();
  c.crash(3);
  c.get(1).node.transferLeader(3);
  c.stabilize();
  c.tick(1, 9);
  assert.equal(c.status(1).leadTransferee, 3, 'still transferring one tick before the timeout');
  assert.throws(() => c.get(1).node.propose(enc('x')), dropped);
  c.tick(1);
  assert.equal(c.status(1).leadTransferee, 0);
  assert.equal(c.get(1).node.role, Role.Leader);
  c.propose(1, 'after');
  assert.deepEqual(c.data(2), ['a', 'after']);
});

test('transfer to a learner or a witness is ignored', () => {
  const c = new Cluster({ voters: [1, 2], witnesses: [3], learners: [4] });
  c.campaign(1);
  c.clearSent();
  for (const target of [3, 4]) {
    c.get(1).node.transferLeader(target);
    c.stabilize();
    assert.equal(c.status(1).leadTransferee, 0, `transfer to ${target}`);
  }
  assert.equal(c.countSent(MessageType.TimeoutNow), 0);
  assert.equal(c.get(1).node.role, Role.Leader);
  c.propose(1, 'still accepted');
  assert.deepEqual(c.data(2), ['still accepted']);
});

test('transfer to itself or to a non-member is ignored', () => {
  const c = leaderOf3();
  for (const target of [1, 9]) {
    c.get(1).node.transferLeader(target);
    c.stabilize();
    assert.equal(c.status(1).leadTransferee, 0);
  }
  assert.equal(c.get(1).node.role, Role.Leader);
});

test('a follower forwards a transfer request to the leader', () => {
  const c = leaderOf3();
  c.get(3).node.transferLeader(3);
  c.stabilize();
  assert.equal(c.get(3).node.role, Role.Leader);
  assert.equal(c.get(1).node.lead, 3);
});

test('a new transfer request to another target replaces the pending one', () => {
  const c = leaderOf3();
  c.crash(3);
  c.get(1).node.transferLeader(3);
  c.stabilize();
  assert.equal(c.status(1).leadTransferee, 3);
  c.get(1).node.transferLeader(2);
  c.stabilize();
  assert.equal(c.get(2).node.role, Role.Leader);
});

test('a TimeoutNow makes only a promotable node campaign', () => {
  const c = new Cluster({ voters: [1, 2], witnesses: [3], learners: [4] });
  c.campaign(1);
  const term = c.get(1).node.term;
  for (const id of [3, 4]) {
    c.get(id).node.step(makeMessage({ type: MessageType.TimeoutNow, from: 1, to: id, term }));
    c.stabilize();
    assert.equal(c.get(id).node.term, term, `node ${id} campaigned`);
  }
  assert.equal(c.get(1).node.role, Role.Leader);
});

test('a TimeoutNow that arrives before a committed membership change is applied is acted on once it is', () => {
  const c = leaderOf3();
  c.proposeConfChange(1, autoChange(addLearner(4)));
  // Node 2 receives the next membership change and its commit, but has not applied it yet.
  c.holdFilter = (m) => m.to === 2;
  c.get(1).node.proposeConfChange(autoChange(addLearner(5)));
  c.stabilize();
  c.holdFilter = undefined;
  const n2 = c.get(2).node;
  for (const m of c.held) n2.step(m);
  c.held = [];
  assert.ok(n2.inspectLog().committed > n2.inspectLog().applied);
  const term = n2.term;
  n2.step(makeMessage({ type: MessageType.TimeoutNow, from: 1, to: 2, term }));
  assert.equal(n2.term, term, 'no campaign with an unapplied membership change');
  c.stabilize(); // node 2 applies the change, then campaigns
  assert.equal(n2.role, Role.Leader);
  assert.equal(n2.term, term + 1);
  assert.deepEqual(n2.confState().learners, [4, 5]);
});
