// Pre-vote, check-quorum and leader stickiness: a partitioned node must not disrupt a healthy
// cluster when it comes back, and a leader that lost its quorum steps down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { makeMessage } from '../../src/core/raft.js';
import { MessageType, Role, type Message } from '../../src/core/types.js';

function healthy(config = {}): Cluster {
  const c = new Cluster({ voters: [1, 2, 3], config });
  c.campaign(1);
  c.propose(1, 'a');
  return c;
}

test('pre-vote: an isolated follower does not raise its term', () => {
  const c = healthy();
  const term = c.get(1).node.term;
  c.isolate(3);
  c.tick(3, 100);
  assert.equal(c.get(3).node.term, term);
  assert.equal(c.get(3).node.role, Role.PreCandidate);
});

test('pre-vote + stickiness: a rejoining node leaves the term and the leader unchanged', () => {
  const c = healthy();
  const term = c.get(1).node.term;
  c.isolate(3);
  c.tickAll(100);
  c.heal();
  c.clearSent();
  c.tickAll(50);
  for (const id of [1, 2, 3]) {
    assert.equal(c.get(id).node.term, term, `term of ${id}`);
    assert.equal(c.get(id).node.lead, 1, `leader seen by ${id}`);
  }
  assert.equal(c.get(1).node.role, Role.Leader);
  // No real election took place.
  assert.equal(c.countSent(MessageType.Vote), 0);
  c.propose(1, 'b');
  assert.deepEqual(c.data(3), ['a', 'b']);
});

test('pre-vote: voters answer without changing their term or vote', () => {
  // Nobody has a leader yet, so no stickiness applies.
  const c = new Cluster({ voters: [1, 2, 3] });
  const n2 = c.get(2).node;
  const t0 = n2.term;
  n2.step(makeMessage({ type: MessageType.PreVote, from: 1, to: 2, term: 5, index: 1, logTerm: 1 }));
  const rd = n2.ready();
  assert.deepEqual(
    rd.messages.map((m) => [m.type, m.to, m.term, m.reject]),
    [[MessageType.PreVoteResponse, 1, 5, false]],
  );
  assert.equal(rd.hardState, undefined, 'a pre-vote must not touch the hard state');
  n2.advance(rd);
  assert.equal(n2.term, t0);
  assert.equal(c.status(2).hardState.vote, 0);
});

test('pre-vote: a pre-candidate with a stale log is refused and the term stays', () => {
  const c = new Cluster({ voters: [1, 2, 3], logs: { 1: [1], 2: [1, 1], 3: [1, 1] } });
  c.campaign(1);
  assert.notEqual(c.get(1).node.role, Role.Leader);
  assert.equal(c.get(1).node.term, 1);
  assert.equal(c.countSent(MessageType.Vote), 0);
});

test('pre-vote: winning the pre-vote starts a real election in the next term', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  const t0 = c.get(2).node.term;
  c.campaign(2);
  assert.equal(c.get(2).node.role, Role.Leader);
  assert.equal(c.get(2).node.term, t0 + 1);
  assert.equal(c.countSent(MessageType.PreVote), 2);
  assert.equal(c.countSent(MessageType.Vote), 2);
});

test('stickiness: a follower that heard from its leader ignores a higher-term vote request', () => {
  const c = healthy({ preVote: false });
  const term = c.get(2).node.term;
  c.clearSent();
  // A disruptive candidate with a long log.
  c.get(2).node.step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: term + 5, index: 100, logTerm: term + 5 }));
  c.stabilize();
  assert.equal(c.get(2).node.term, term);
  assert.equal(c.get(2).node.lead, 1);
  assert.equal(c.countSent(MessageType.VoteResponse), 0);
});

test('stickiness ends an election timeout after the last contact with the leader', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { preVote: false }, nodeConfig: { 2: { random: () => 0.999 } } });
  c.campaign(1);
  const term = c.get(2).node.term;
  c.isolate(2);
  c.tick(2, 10); // electionTick ticks without the leader; its own timeout is 19
  assert.equal(c.get(2).node.role, Role.Follower);
  c.heal();
  c.isolate(1);
  c.clearSent();
  c.get(2).node.step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: term + 1, index: 100, logTerm: term }));
  c.stabilize();
  const resp = c.sent.filter((m: Message) => m.type === MessageType.VoteResponse && m.from === 2);
  assert.equal(resp.length, 1);
  assert.equal(resp[0]!.reject, false);
  assert.equal(c.get(2).node.term, term + 1);
});

test('stickiness without check-quorum is off: a follower grants a higher-term vote at once', () => {
  const c = healthy({ preVote: false, checkQuorum: false });
  const term = c.get(2).node.term;
  c.get(2).node.step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: term + 1, index: 100, logTerm: term }));
  assert.equal(c.get(2).node.term, term + 1);
  assert.equal(c.status(2).hardState.vote, 3);
});

test('check-quorum: an isolated leader steps down within two election timeouts', () => {
  const c = healthy();
  c.isolate(1);
  let steppedDownAt = -1;
  for (let t = 1; t <= 20; t++) {
    c.tick(1);
    if (c.get(1).node.role !== Role.Leader) {
      steppedDownAt = t;
      break;
    }
  }
  assert.ok(steppedDownAt > 0, 'the leader should have stepped down');
  assert.ok(steppedDownAt > 1, 'the first check-quorum round after isolation still counts earlier acks');
  assert.equal(c.get(1).node.lead, 0);
});

test('check-quorum: a leader that hears from a quorum stays leader indefinitely', () => {
  const c = healthy();
  c.crash(3);
  c.tickAll(200);
  assert.equal(c.get(1).node.role, Role.Leader);
});

test('check-quorum off: an isolated leader keeps believing it leads', () => {
  const c = healthy({ checkQuorum: false });
  c.isolate(1);
  c.tick(1, 200);
  assert.equal(c.get(1).node.role, Role.Leader);
});

test('a partitioned old leader rejoins as a follower and loses its uncommitted entries', () => {
  const c = healthy();
  c.isolate(1);
  c.get(1).node.propose(new TextEncoder().encode('lost'));
  c.stabilize();
  c.tickUntil(() => [2, 3].some((id) => c.get(id).node.role === Role.Leader), 100);
  const newLeader = [2, 3].find((id) => c.get(id).node.role === Role.Leader)!;
  c.propose(newLeader, 'kept');
  c.heal();
  c.tickAll(5);
  c.propose(newLeader, 'after');
  c.tickAll(5);
  assert.equal(c.get(1).node.role, Role.Follower);
  assert.equal(c.get(1).node.lead, newLeader);
  for (const id of [1, 2, 3]) assert.deepEqual(c.data(id), ['a', 'kept', 'after'], `data of ${id}`);
  assert.deepEqual(c.logTerms(1), c.logTerms(newLeader));
});
