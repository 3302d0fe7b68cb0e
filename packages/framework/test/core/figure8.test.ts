// The commit rule of Figure 8 of the Raft paper: a leader never commits an entry of a previous
// term by counting replicas; only an entry of its own term commits (and everything before it).
//
// The paper's scenario, with this implementation's terms and indexes. Every leader appends a
// no-op of its term, which plays the role of the paper's "new entry of the current term".
// Terms are counted from T, the term of the first election; indexes from B, the first index
// after that leader's no-op (the log before B is committed everywhere):
//   (a) S1 leads term T and replicates X at index B to S2 only.
//   (b) S1 crashes; S5 is elected for term T+1 (votes of S3, S4, S5) and appends its no-op at
//       index B (term T+1), which reaches nobody; S5 crashes.
//   (c) S1 restarts and is elected for term T+2 (S2, S3, S4); it replicates X (term T) to S3, so
//       X is on a majority (S1, S2, S3), but its own no-op (index B+1, term T+2) reaches nobody.
//       X must NOT be committed.
//   (d) S1 crashes; S5 restarts, is elected for term T+3 (S2, S3, S4) and overwrites X with its
//       term T+1 entry everywhere. Had X been committed, a committed entry would have been lost.
//   (e) Alternatively, if S1's term T+2 entry reaches a majority before S1 crashes, X commits with
//       it, and S5 can no longer be elected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, dec } from './harness.js';
import { MessageType, Role, type Message, type RaftConfig } from '../../src/core/index.js';

const hasEntryFrom = (m: Message, index: number) => m.type === MessageType.Append && m.entries.some((e) => e.index >= index);

interface Fig8 {
  c: Cluster;
  /** Term of the first election. */
  T: number;
  /** Index of X. */
  B: number;
  /** Terms of the committed prefix before B, as logTerms() shows them. */
  prefix: number[];
}

/** Runs (a) to (c); with `replicateNewTerm` the leader's term T+2 entry also reaches S2 and S3. */
function upToC(replicateNewTerm: boolean, s1Config: Partial<RaftConfig> = {}): Fig8 {
  const c = new Cluster({
    voters: [1, 2, 3, 4, 5],
    // Plain elections (no pre-vote, no stickiness) as in the paper; one entry per Append so that
    // entries can be delivered one by one.
    config: { preVote: false, checkQuorum: false, maxSizePerMsg: 1 },
    nodeConfig: { 1: s1Config },
  });
  c.campaign(1);
  const T = c.get(1).node.term;
  const B = c.lastIndex(1) + 1;
  assert.equal(c.committed(5), B - 1);
  const prefix = c.logTerms(1);
  assert.deepEqual(c.logTerms(5), prefix);

  // (a) X reaches S2 only.
  c.filters.push((m) => m.type === MessageType.Append && m.from === 1 && m.to !== 2);
  const x = c.propose(1, 'X');
  assert.equal(x, B);
  assert.deepEqual(c.logTerms(1), [...prefix, T]);
  assert.deepEqual(c.logTerms(2), [...prefix, T]);
  assert.deepEqual(c.logTerms(3), prefix);
  assert.equal(c.committed(1), B - 1);

  // (b) S1 crashes; S5 wins term T+1 with S3 and S4; its entry at index B stays local.
  c.crash(1);
  c.heal();
  c.filters.push((m) => m.type === MessageType.Append && m.from === 5);
  c.campaign(5);
  assert.equal(c.get(5).node.role, Role.Leader);
  assert.equal(c.get(5).node.term, T + 1);
  assert.deepEqual(c.logTerms(5), [...prefix, T + 1]);
  c.crash(5);
  c.heal();

  // (c) S1 restarts and wins term T+2 (its first attempt, in T+1, fails: S3 and S4 voted for S5).
  c.restart(1);
  // Appends carry entries one at a time; index B+1 (S1's new no-op) is stripped unless wanted,
  // and nothing reaches S4.
  c.filters.push((m) => {
    if (m.type !== MessageType.Append || m.from !== 1) return false;
    if (m.to === 4) return true;
    if (!replicateNewTerm && hasEntryFrom(m, B + 1)) m.entries = m.entries.filter((e) => e.index <= B);
    return false;
  });
  c.campaign(1);
  if (c.get(1).node.role !== Role.Leader) c.campaign(1);
  assert.equal(c.get(1).node.role, Role.Leader);
  assert.equal(c.get(1).node.term, T + 2);
  assert.deepEqual(c.logTerms(1), [...prefix, T, T + 2]);
  assert.deepEqual(c.logTerms(3).slice(0, prefix.length + 1), [...prefix, T], 'X reached S3: it is on a majority (S1, S2, S3)');
  return { c, T, B, prefix };
}

test('Figure 8 (c): an entry of a previous term on a majority is not committed by counting', () => {
  const { c, T, B, prefix } = upToC(false);
  assert.deepEqual(c.logTerms(2), [...prefix, T]);
  assert.deepEqual(c.logTerms(3), [...prefix, T]);
  assert.equal(c.committed(1), B - 1, 'X (an entry of an earlier term) must not commit by counting replicas');
  assert.deepEqual(c.data(1), []);
  // More rounds of heartbeats change nothing.
  c.tick(1, 5);
  assert.equal(c.committed(1), B - 1);
});

test('Figure 8 (c), mutated core: counting replicas of an old-term entry does commit it (the check is live)', () => {
  const { c, B } = upToC(false, { testingMutation: 'commit-previous-term' });
  assert.equal(c.committed(1), B);
});

test('Figure 8 (d): the uncommitted X is overwritten by S5, and no node ever applied it', () => {
  const { c, T, B, prefix } = upToC(false);
  c.crash(1);
  c.heal();
  c.restart(5);
  // Term T+2: S2, S3, S4 voted for S1 -> S5 loses; term T+3: its log (last term T+1) beats theirs.
  c.campaign(5);
  if (c.get(5).node.role !== Role.Leader) c.campaign(5);
  assert.equal(c.get(5).node.role, Role.Leader);
  assert.equal(c.get(5).node.term, T + 3);
  for (const id of [2, 3, 4, 5]) {
    assert.deepEqual(c.logTerms(id), [...prefix, T + 1, T + 3], `log of S${id}`);
    assert.equal(c.committed(id), B + 1);
  }
  for (const id of [1, 2, 3, 4, 5]) {
    assert.ok(!c.get(id).applied.some((e) => dec(e.data) === 'X'), `S${id} applied X`);
    for (const e of c.get(id).applied) if (e.index === B) assert.equal(e.term, T + 1);
  }
});

test("Figure 8 (e): once S1's own-term entry is on a majority, X commits with it and S5 cannot win", () => {
  const { c, T, B, prefix } = upToC(true);
  assert.equal(c.committed(1), B + 1);
  assert.deepEqual(c.data(1), ['X']);
  c.crash(1);
  c.heal();
  c.restart(5);
  c.campaign(5);
  c.campaign(5);
  c.campaign(5);
  assert.notEqual(c.get(5).node.role, Role.Leader);
  // Someone else (S2 or S3, which hold the term T+2 entry) leads; X survives everywhere.
  c.tickUntil(() => c.leader() !== undefined, 200);
  const lead = c.leader()!;
  assert.ok([2, 3].includes(lead.id), `leader ${lead.id}`);
  c.propose(lead.id, 'Y');
  for (const id of [2, 3, 4, 5]) {
    assert.deepEqual(c.data(id), ['X', 'Y'], `data of S${id}`);
    assert.deepEqual(c.logTerms(id).slice(0, prefix.length + 2), [...prefix, T, T + 2]);
  }
});
