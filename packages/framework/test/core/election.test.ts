// Leader election: randomized timeouts, the vote rules (one vote per term, up-to-date logs),
// majorities, and convergence on one leader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, seeded } from './harness.js';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RawNode } from '../../src/core/raw-node.js';
import { makeMessage } from '../../src/core/raft.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, MessageType, Role, type Message } from '../../src/core/types.js';

/** Ticks an isolated node until it starts a (pre-)campaign; returns the number of ticks. */
function ticksToFirstCampaign(random: () => number): number {
  const c = new Cluster({ voters: [1, 2, 3], nodeConfig: { 1: { random } } });
  c.isolate(1);
  for (let t = 1; t <= 100; t++) {
    c.tick(1);
    if (c.get(1).node.role !== Role.Follower) return t;
  }
  throw new Error('never campaigned');
}

test('the election timeout is electionTick + floor(random * electionTick)', () => {
  assert.equal(
    ticksToFirstCampaign(() => 0),
    10,
  );
  assert.equal(
    ticksToFirstCampaign(() => 0.5),
    15,
  );
  assert.equal(
    ticksToFirstCampaign(() => 0.999),
    19,
  );
});

test('seeded random sources spread the first timeouts over [electionTick, 2*electionTick)', () => {
  const timeouts = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => ticksToFirstCampaign(seeded(seed * 7919)));
  for (const t of timeouts) assert.ok(t >= 10 && t < 20, `timeout ${t} out of range`);
  assert.ok(new Set(timeouts).size >= 3, `timeouts are not randomized: ${timeouts.join(',')}`);
});

test('the timeout is re-randomized for each new election', () => {
  // Without pre-vote, every timeout starts a real election (a new term) and draws a new timeout.
  const seq = [0, 0.5, 0.9, 0.2];
  let k = 0;
  const random = () => seq[Math.min(k++, seq.length - 1)]!;
  const c = new Cluster({ voters: [1, 2, 3], config: { preVote: false }, nodeConfig: { 1: { random } } });
  c.isolate(1);
  const termStarts: number[] = [];
  let term = c.get(1).node.term;
  for (let t = 1; t <= 50; t++) {
    c.tick(1);
    if (c.get(1).node.term !== term) {
      term = c.get(1).node.term;
      termStarts.push(t);
    }
  }
  // 10 ticks (random 0), then 15 (0.5), then 19 (0.9).
  assert.deepEqual(termStarts, [10, 25, 44]);
});

test('ticking alone elects exactly one leader, and every node agrees on it and on the term', () => {
  for (const seedBase of [1, 2, 3, 4, 5]) {
    const c = new Cluster({ voters: [1, 2, 3, 4, 5], nodeConfig: Object.fromEntries([1, 2, 3, 4, 5].map((id) => [id, { random: seeded(seedBase * 1000 + id) }])) });
    const t0 = c.get(1).node.term; // founding term
    c.tickUntil(() => c.leader() !== undefined, 200);
    c.tickAll(3);
    const leaders = [...c.nodes.values()].filter((n) => n.node.role === Role.Leader);
    assert.equal(leaders.length, 1);
    const lead = leaders[0]!;
    // Pre-vote means the winning election is the first real one: one term past the founding one.
    assert.equal(lead.node.term, t0 + 1);
    for (const n of c.nodes.values()) {
      assert.equal(n.node.term, lead.node.term);
      assert.equal(n.node.lead, lead.id);
    }
  }
});

test('a candidate without a majority never becomes leader', () => {
  const c = new Cluster({ voters: [1, 2, 3, 4, 5] });
  c.crash(3);
  c.crash(4);
  c.crash(5);
  const t0 = c.get(1).node.term;
  c.tickAll(200);
  assert.equal(c.leader(), undefined);
  // With pre-vote the failed campaigns leave no trace on the term.
  assert.equal(c.get(1).node.term, t0);
  assert.equal(c.get(2).node.term, t0);
  // One more voter back: a majority (3 of 5) elects a leader.
  c.restart(3);
  c.tickUntil(() => c.leader() !== undefined, 100);
  assert.ok([1, 2, 3].includes(c.leader()!.id));
});

test('a leader is elected in a two-node cluster only with both votes', () => {
  const c = new Cluster({ voters: [1, 2] });
  c.crash(2);
  c.tickAll(100);
  assert.equal(c.leader(), undefined);
  c.restart(2);
  c.tickUntil(() => c.leader() !== undefined, 100);
});

test('a single-voter cluster elects itself at once', () => {
  const c = new Cluster({ voters: [1] });
  const t0 = c.get(1).node.term;
  c.campaign(1);
  assert.equal(c.get(1).node.role, Role.Leader);
  assert.equal(c.get(1).node.term, t0 + 1);
  c.propose(1, 'x');
  assert.deepEqual(c.data(1), ['x']);
});

// ------------------------------------------------------------------ vote rules on one node

/** A node whose log has the given terms at indexes 1.. (index 1 is the founding snapshot, term 1). */
/** A node restarted from storage; checkQuorum is off so its boot lease does not hide votes. */
function loneNode(id: number, logTerms: number[] = [1], hardTerm = 0): RawNode {
  const s = MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1, 2, 3] });
  assert.equal(s.firstIndex(), 2, 'founding snapshot at index 1');
  s.append(logTerms.slice(1).map((t, i) => ({ term: t, index: i + 2, type: EntryType.Normal, data: new Uint8Array(0) })));
  if (hardTerm > 0) s.setHardState({ term: hardTerm, vote: 0, commit: 1 });
  return new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage: s, random: () => 0, checkQuorum: false });
}

function drain(n: RawNode): Message[] {
  const out: Message[] = [];
  while (n.hasReady()) {
    const rd = n.ready();
    out.push(...rd.messages);
    n.advance(rd);
  }
  return out;
}

const vote = (from: number, to: number, term: number, index: number, logTerm: number): Message => makeMessage({ type: MessageType.Vote, from, to, term, index, logTerm });

test('a node grants at most one vote per term', () => {
  const n = loneNode(2);
  n.step(vote(1, 2, 5, 1, 1));
  let out = drain(n);
  assert.deepEqual(
    out.map((m) => [m.type, m.to, m.term, m.reject]),
    [[MessageType.VoteResponse, 1, 5, false]],
  );
  n.step(vote(3, 2, 5, 1, 1));
  out = drain(n);
  assert.deepEqual(
    out.map((m) => [m.type, m.to, m.reject]),
    [[MessageType.VoteResponse, 3, true]],
  );
  // The same candidate asking again (a retransmission) gets the vote again.
  n.step(vote(1, 2, 5, 1, 1));
  out = drain(n);
  assert.deepEqual(
    out.map((m) => [m.type, m.to, m.reject]),
    [[MessageType.VoteResponse, 1, false]],
  );
  // A new term frees the vote.
  n.step(vote(3, 2, 6, 1, 1));
  out = drain(n);
  assert.deepEqual(
    out.map((m) => [m.type, m.to, m.term, m.reject]),
    [[MessageType.VoteResponse, 3, 6, false]],
  );
});

test('a node refuses a candidate whose log is less up to date', () => {
  // Voter log: terms [1, 1, 2] (last index 3, last term 2).
  const cases: { index: number; logTerm: number; granted: boolean }[] = [
    { index: 3, logTerm: 2, granted: true }, // same
    { index: 4, logTerm: 2, granted: true }, // longer, same last term
    { index: 1, logTerm: 3, granted: true }, // shorter but higher last term
    { index: 2, logTerm: 2, granted: false }, // shorter, same last term
    { index: 9, logTerm: 1, granted: false }, // longer but lower last term
  ];
  for (const k of cases) {
    const n = loneNode(2, [1, 1, 2], 2);
    n.step(vote(1, 2, 3, k.index, k.logTerm));
    const out = drain(n).filter((m) => m.type === MessageType.VoteResponse);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.reject, !k.granted, `candidate (${k.index}, ${k.logTerm})`);
    // Either way the higher term was adopted.
    assert.equal(n.term, 3);
  }
});

test('a vote request with a lower term is ignored', () => {
  const n = loneNode(2, [1], 4);
  n.step(vote(1, 2, 3, 10, 3));
  const out = drain(n);
  assert.equal(out.filter((m) => m.type === MessageType.VoteResponse && !m.reject).length, 0);
  assert.equal(n.term, 4);
});

test('a candidate that collects rejections from a majority goes back to follower', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { preVote: false, checkQuorum: false }, logs: { 1: [1], 2: [1, 2], 3: [1, 2] } });
  c.campaign(1);
  assert.equal(c.get(1).node.role, Role.Follower);
  // It campaigned in term 2 (the others' term) and lost; nobody voted for it.
  assert.equal(c.get(1).node.term, 2);
  assert.equal(c.status(2).hardState.vote, 0);
  // A node with an up-to-date log wins the next round.
  c.campaign(2);
  assert.equal(c.get(2).node.role, Role.Leader);
});

test('a leader that hears of a higher term steps down', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  const term = c.get(1).node.term;
  c.get(1).node.step(makeMessage({ type: MessageType.Heartbeat, from: 2, to: 1, term: term + 3 }));
  assert.equal(c.get(1).node.role, Role.Follower);
  assert.equal(c.get(1).node.term, term + 3);
  assert.equal(c.get(1).node.lead, 2);
});
