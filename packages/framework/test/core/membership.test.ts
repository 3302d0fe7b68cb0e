// Membership changes: single-server changes with one pending change at a time, joint consensus
// (entered for arbitrary changes and left automatically, or explicitly), removal of the leader
// itself, and validation of bad changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, addLearner, addVoter, autoChange, enc, jointExplicit, jointImplicit, leaveJoint, removeNode } from './harness.js';
import { decodeConfChange } from '../../src/core/confchange/codec.js';
import { RaftError } from '../../src/core/errors.js';
import { EntryType, MessageType, Role, type ConfState } from '../../src/core/types.js';

const dropped = (e: unknown) => e instanceof RaftError && e.code === 'proposal_dropped';
const invalid = (e: unknown) => e instanceof RaftError && e.code === 'conf_change_invalid';

function leaderOf3(): Cluster {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  return c;
}

/** Starts nodes that join with an empty log; the leader compacts first so they get a snapshot. */
function joiners(c: Cluster, ...ids: number[]): void {
  c.snapshotAndCompact(c.leader()!.id);
  for (const id of ids) c.addJoiningNode(id);
}

const voters = (c: Cluster, id: number) => c.get(id).node.confState().voters;

test('single-server change: adding a voter (the new quorum is used at once)', () => {
  const c = leaderOf3();
  joiners(c, 4);
  c.proposeConfChange(1, autoChange(addVoter(4)));
  for (const id of [1, 2, 3, 4]) assert.deepEqual(voters(c, id), [1, 2, 3, 4], `voters on ${id}`);
  assert.deepEqual(c.data(4), ['a']);
  // With 2 and 4 held back, {1, 3} was a quorum of three but is not one of four.
  c.holdFilter = (m) => m.type === MessageType.Append && (m.to === 2 || m.to === 4);
  const idx = c.propose(1, 'b');
  assert.ok(c.committed(1) < idx);
  c.holdFilter = undefined;
  c.held = c.held.filter((m) => m.to === 4);
  c.release();
  c.stabilize();
  assert.equal(c.committed(1), idx);
});

test('single-server change: removing a follower; it is no longer contacted and cannot disrupt', () => {
  const c = leaderOf3();
  const term = c.get(1).node.term;
  c.proposeConfChange(1, autoChange(removeNode(3)));
  for (const id of [1, 2]) assert.deepEqual(voters(c, id), [1, 2]);
  c.clearSent();
  c.propose(1, 'b');
  c.tickAll(50);
  assert.equal(
    c.countSent(MessageType.Append, (m) => m.to === 3),
    0,
  );
  assert.equal(
    c.countSent(MessageType.Heartbeat, (m) => m.to === 3),
    0,
  );
  assert.equal(c.get(1).node.role, Role.Leader);
  assert.equal(c.get(1).node.term, term);
  assert.deepEqual(c.data(2), ['a', 'b']);
});

test('only one membership change may be pending at a time', () => {
  const c = leaderOf3();
  const n = c.get(1).node;
  n.proposeConfChange(autoChange(addLearner(4)));
  assert.throws(() => n.proposeConfChange(autoChange(addLearner(5))), dropped);
  c.stabilize(); // committed and applied
  n.proposeConfChange(autoChange(addLearner(5)));
  c.stabilize();
  assert.deepEqual(c.get(2).node.confState().learners, [4, 5]);
});

test('a new leader accepts a membership change only once it applied its whole inherited log', () => {
  const c = leaderOf3();
  // Only node 2 gets 'b', and node 1 never hears that it did: 'b' is not committed (so no vote
  // answer can tell node 2 it is), and node 1 fails.
  c.filters.push(
    (m) => m.from === 1 && m.to === 3,
    (m) => m.type === MessageType.AppendResponse && m.to === 1,
  );
  c.propose(1, 'b');
  assert.ok(c.committed(2) < c.lastIndex(2));
  c.crash(1);
  c.heal();
  // Node 2 takes over, but its no-op does not commit yet.
  c.holdFilter = (m) => m.type === MessageType.AppendResponse && m.to === 2;
  c.tickUntil(() => c.get(2).node.role === Role.Leader, 200);
  assert.ok(c.get(2).node.inspectLog().applied < c.lastIndex(2));
  // Entries it inherited may hold membership changes it has not applied: refuse.
  assert.throws(() => c.get(2).node.proposeConfChange(autoChange(addLearner(4))), dropped);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  c.proposeConfChange(2, autoChange(addLearner(4)));
  assert.deepEqual(c.get(3).node.confState().learners, [4]);
  assert.deepEqual(c.data(3), ['a', 'b']);
});

test('joint consensus: several changes enter a joint configuration that is left automatically', () => {
  const c = leaderOf3();
  joiners(c, 4, 5);
  const seen: ConfState[] = [];
  c.onReady = (n) => {
    if (n.id !== 1) return;
    const cs = n.node.confState();
    const last = seen[seen.length - 1];
    if (!last || JSON.stringify(last) !== JSON.stringify(cs)) seen.push(cs);
  };
  c.proposeConfChange(1, autoChange(addVoter(4), addVoter(5), removeNode(3)));
  c.onReady = undefined;
  const joint = seen.find((cs) => cs.votersOutgoing.length > 0);
  assert.ok(joint, 'a joint configuration was in effect');
  assert.deepEqual(joint.voters, [1, 2, 4, 5]);
  assert.deepEqual(joint.votersOutgoing, [1, 2, 3]);
  assert.equal(joint.autoLeave, true);
  for (const id of [1, 2, 4, 5]) {
    const cs = c.get(id).node.confState();
    assert.deepEqual(cs.voters, [1, 2, 4, 5], `voters on ${id}`);
    assert.deepEqual(cs.votersOutgoing, []);
    assert.equal(cs.autoLeave, false);
  }
  // The leader appended the leave entry itself: an empty change.
  const ccs = c
    .get(1)
    .applied.filter((e) => e.type === EntryType.ConfChange)
    .map((e) => decodeConfChange(e.data));
  assert.equal(ccs.length, 2);
  assert.deepEqual(ccs[1]!.changes, []);
  c.propose(1, 'b');
  assert.deepEqual(c.data(5), ['a', 'b']);
});

test('explicit joint consensus: stays joint, needs both majorities, left by an empty change', () => {
  const c = leaderOf3();
  joiners(c, 4, 5);
  c.proposeConfChange(1, jointExplicit(addVoter(4), addVoter(5), removeNode(2), removeNode(3)));
  c.tickAll(5);
  let cs = c.get(1).node.confState();
  assert.deepEqual(cs.voters, [1, 4, 5]);
  assert.deepEqual(cs.votersOutgoing, [1, 2, 3]);
  assert.equal(cs.autoLeave, false);
  // The new majority {1, 4, 5} alone cannot commit: the old one {1, 2, 3} must agree too.
  c.holdFilter = (m) => m.type === MessageType.Append && (m.to === 2 || m.to === 3);
  const idx = c.propose(1, 'b');
  assert.ok(c.committed(1) < idx, 'committed without a majority of the outgoing configuration');
  c.holdFilter = undefined;
  c.held = c.held.filter((m) => m.to === 2);
  c.release();
  c.stabilize();
  assert.equal(c.committed(1), idx);
  // And the old majority alone cannot commit either.
  c.holdFilter = (m) => m.type === MessageType.Append && (m.to === 4 || m.to === 5);
  const idx2 = c.propose(1, 'c');
  assert.ok(c.committed(1) < idx2, 'committed without a majority of the incoming configuration');
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.equal(c.committed(1), idx2);
  // Leaving is explicit.
  c.proposeConfChange(1, leaveJoint());
  cs = c.get(1).node.confState();
  assert.deepEqual(cs.voters, [1, 4, 5]);
  assert.deepEqual(cs.votersOutgoing, []);
  assert.deepEqual(
    c.status(1).progress.map((p) => p.id),
    [1, 4, 5],
  );
});

test('joint-implicit with one change still goes through a joint configuration', () => {
  const c = leaderOf3();
  let wasJoint = false;
  c.onReady = (n) => {
    if (n.id === 1 && n.node.confState().votersOutgoing.length > 0) wasJoint = true;
  };
  c.proposeConfChange(1, jointImplicit(addLearner(3)));
  c.onReady = undefined;
  assert.ok(wasJoint);
  const cs = c.get(1).node.confState();
  // A voter demoted inside a joint configuration becomes a learner only when it is left.
  assert.deepEqual(cs.voters, [1, 2]);
  assert.deepEqual(cs.learners, [3]);
  assert.deepEqual(cs.learnersNext, []);
});

test('removing the leader itself: it steps down and hands off without an election timeout', () => {
  const c = leaderOf3();
  const term = c.get(1).node.term;
  c.clearSent();
  c.proposeConfChange(1, autoChange(removeNode(1)));
  // No ticks: the handoff (TimeoutNow to the most caught-up voter) elects a successor at once.
  assert.equal(c.get(1).node.role, Role.Follower);
  assert.equal(
    c.countSent(MessageType.TimeoutNow, (m) => m.from === 1),
    1,
  );
  const lead = c.leader();
  assert.ok(lead, 'no successor: the TimeoutNow handoff did not lead to an election');
  assert.ok([2, 3].includes(lead.id));
  assert.equal(lead.node.term, term + 1);
});

test('removing the leader itself: the remaining voters carry on and the removed node stays quiet', () => {
  const c = leaderOf3();
  c.proposeConfChange(1, autoChange(removeNode(1)));
  assert.equal(c.get(1).node.role, Role.Follower);
  c.tickUntil(() => c.leader() !== undefined, 100);
  const lead = c.leader()!;
  assert.ok([2, 3].includes(lead.id));
  assert.deepEqual(lead.node.confState().voters, [2, 3]);
  c.propose(lead.id, 'b');
  for (const id of [2, 3]) assert.deepEqual(c.data(id), ['a', 'b']);
  c.clearSent();
  c.tickAll(50);
  assert.equal(
    c.countSent(MessageType.PreVote, (m) => m.from === 1),
    0,
  );
  assert.equal(
    c.countSent(MessageType.Append, (m) => m.to === 1),
    0,
  );
  assert.equal(c.leader()!.id, lead.id);
});

test('removing the leader through a joint configuration: it leads until the joint state is left', () => {
  const c = leaderOf3();
  joiners(c, 4);
  let ledWhileJoint = false;
  c.onReady = (n) => {
    if (n.id === 1 && n.node.confState().votersOutgoing.length > 0 && n.node.role === Role.Leader) ledWhileJoint = true;
  };
  c.proposeConfChange(1, autoChange(addVoter(4), removeNode(1)));
  c.onReady = undefined;
  assert.ok(ledWhileJoint, 'node 1 (only in the outgoing half) kept leading during the joint phase');
  assert.equal(c.get(1).node.role, Role.Follower);
  c.tickUntil(() => c.leader() !== undefined, 100);
  const lead = c.leader()!;
  assert.ok([2, 3, 4].includes(lead.id));
  assert.deepEqual(lead.node.confState().voters, [2, 3, 4]);
  assert.deepEqual(lead.node.confState().votersOutgoing, []);
  c.propose(lead.id, 'b');
  assert.deepEqual(c.data(4), ['a', 'b']);
});

test('a removed leader refuses proposals', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { stepDownOnRemoval: false } });
  c.campaign(1);
  c.proposeConfChange(1, autoChange(removeNode(1)));
  assert.equal(c.get(1).node.role, Role.Leader);
  assert.throws(() => c.get(1).node.propose(enc('x')), dropped);
});

test('invalid membership changes are refused when proposed and leave nothing behind', () => {
  const c = leaderOf3();
  const last = c.lastIndex(1);
  assert.throws(() => c.get(1).node.proposeConfChange(autoChange(removeNode(1), removeNode(2), removeNode(3))), invalid);
  assert.throws(() => c.get(1).node.proposeConfChange(leaveJoint()), invalid);
  assert.throws(() => c.get(1).node.proposeConfChange(autoChange(addVoter(0))), invalid);
  assert.equal(c.lastIndex(1), last);
  assert.deepEqual(
    c.status(1).progress.map((p) => p.id),
    [1, 2, 3],
  );
  // Entering a joint configuration while in one is refused.
  joiners(c, 4);
  c.proposeConfChange(1, jointExplicit(addVoter(4)));
  assert.throws(() => c.get(1).node.proposeConfChange(jointExplicit(removeNode(2))), invalid);
  assert.throws(() => c.get(1).node.proposeConfChange(autoChange(removeNode(2))), invalid, 'a simple change while joint');
});

test('a node that joins with an empty log learns the whole configuration (leader log not compacted)', () => {
  const c = leaderOf3();
  c.addJoiningNode(4);
  c.proposeConfChange(1, autoChange(addVoter(4)));
  assert.deepEqual(c.data(4), ['a']);
  assert.deepEqual(voters(c, 4), [1, 2, 3, 4]);
});

test('after a join from an empty log, nothing commits without a majority of the configuration', () => {
  // Same join; then the leader fails and the joiner times out first.
  const c = new Cluster({ voters: [1, 2, 3], nodeConfig: { 4: { random: () => 0 } } });
  c.campaign(1);
  c.addJoiningNode(4);
  c.proposeConfChange(1, autoChange(addVoter(4)));
  c.crash(1);
  c.tickUntil(() => c.leader() !== undefined, 100);
  const lead = c.leader()!;
  const w = c.propose(lead.id, 'w');
  if (c.committed(lead.id) >= w) {
    const term = c.get(lead.id).storage.term(w);
    const holders = [1, 2, 3, 4].filter((id) => {
      const s = c.get(id).storage;
      return s.lastIndex() >= w && s.term(w) === term;
    });
    assert.ok(holders.length >= 3, `node ${lead.id} committed 'w' at ${w} with only ${holders.join(',')} holding it (voters ${c.get(lead.id).node.confState().voters.join(',')})`);
  }
});

test('a new leader leaves an auto-leave joint configuration that its predecessor entered', () => {
  const c = leaderOf3();
  joiners(c, 4, 5);
  // Node 1 enters the joint configuration, then crashes before its leave entry gets out.
  c.filters.push((m) => m.from === 1 && m.type === MessageType.Append && m.entries.some((e) => e.type === EntryType.ConfChange && decodeConfChange(e.data).changes.length === 0));
  c.proposeConfChange(1, autoChange(addVoter(4), addVoter(5)));
  assert.deepEqual(c.get(2).node.confState().votersOutgoing, [1, 2, 3], 'the followers are in the joint configuration');
  c.crash(1);
  c.heal();
  c.tickUntil(() => c.leader() !== undefined, 200);
  const lead = c.leader()!;
  c.stabilize();
  for (const id of [2, 3, 4, 5]) {
    const cs = c.get(id).node.confState();
    assert.deepEqual(cs.voters, [1, 2, 3, 4, 5], `voters on ${id}`);
    assert.deepEqual(cs.votersOutgoing, [], `node ${id} left the joint configuration`);
  }
  c.propose(lead.id, 'b');
  assert.deepEqual(c.data(5), ['a', 'b']);
});

test('a node does not campaign while a committed membership change is unapplied', () => {
  const c = leaderOf3();
  c.holdFilter = (m) => m.to === 2;
  c.get(1).node.proposeConfChange(autoChange(addLearner(4)));
  c.stabilize();
  c.holdFilter = undefined;
  const n2 = c.get(2).node;
  for (const m of c.held) n2.step(m);
  c.held = [];
  assert.ok(n2.inspectLog().committed > n2.inspectLog().applied);
  const term = n2.term;
  n2.campaign();
  assert.equal(n2.role, Role.Follower);
  assert.equal(n2.term, term);
  c.stabilize(); // applied now
  n2.campaign();
  assert.notEqual(n2.role, Role.Follower);
});
