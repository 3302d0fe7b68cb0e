// Liveness after a voter applied its own removal while the others have not learned that it
// committed (sim seeds 11 and 760 of the late-proposals profile, 20,000 steps). The others still
// count the removed node in their configuration's quorum; when it and a witness hold the longest
// logs, nobody they can elect gets the quorum: the removed node and the witness refuse every
// data voter whose log is shorter, and the witness may not lead. Before the fix only the removed
// node could end it, by campaigning (slowly) as a removed voter, which it did not do after a
// restart (the removed-voter flag is not durable: seed 11) or while the others' failed elections
// kept bumping the term and restarting its wait (no pre-vote: seed 760). Now every vote answer
// carries the voter's commit index and its term, which a candidate whose log holds that entry
// adopts (Log Matching): the others learn that the removal committed, apply it, and elect a
// leader of the new configuration without the removed node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RaftConfig } from '../../src/core/config.js';
import { Cluster, addLearner, autoChange, enc, removeNode } from './harness.js';
import { MessageType, Role } from '../../src/core/types.js';

/**
 * Voters 1, 2, 4 (data) and 3 (witness). Node 1 leads and removes itself at index r; node 2 and
 * the witness acknowledge it (so it commits) but never hear that it did. Node 1 has also sent the
 * witness one more entry that node 2 lacks, and node 4 is behind. Node 1 applies its removal.
 */
function removedLeaderAhead(config: Partial<RaftConfig> = {}): { c: Cluster; r: number } {
  // One entry per Append, so a filter can let one entry through and drop the next.
  const c = new Cluster({ voters: [1, 2, 4], witnesses: [3], config: { maxSizePerMsg: 1, ...config } });
  c.campaign(1);
  c.propose(1, 'a');
  const r = c.lastIndex(1) + 1;
  c.filters.push(
    (m) => m.from === 1 && m.to === 4, // node 4 falls behind
    (m) => m.from === 1 && m.commit >= r, // nobody learns that the removal committed
    (m) => m.from === 1 && m.to === 2 && m.entries.some((e) => e.index > r), // node 2 gets the removal, not what follows
    (m) => m.type === MessageType.TimeoutNow, // the handoff is lost
  );
  const n1 = c.get(1).node;
  assert.equal(n1.proposeConfChange(autoChange(removeNode(1))), r);
  n1.propose(enc('b'));
  c.stabilize();
  assert.deepEqual(n1.confState().voters, [2, 3, 4], 'node 1 applied its removal');
  assert.ok(c.committed(1) >= r);
  for (const id of [2, 3]) {
    assert.ok(c.lastIndex(id) >= r && c.committed(id) < r, `node ${id} has the removal, not its commit`);
    assert.deepEqual(c.get(id).node.confState().voters, [1, 2, 3, 4]);
  }
  assert.equal(c.lastIndex(2), r);
  assert.equal(c.lastIndex(3), r + 1, 'the witness is ahead of every data voter but node 1');
  assert.ok(c.lastIndex(4) < r);
  return { c, r };
}

function assertRecovers(c: Cluster, ticks: number): void {
  c.tickUntil(() => c.leader() !== undefined && c.leader()!.id !== 1, ticks);
  const lead = c.leader()!;
  assert.ok([2, 4].includes(lead.id), `node ${lead.id} leads`);
  assert.deepEqual(lead.node.confState().voters, [2, 3, 4]);
  c.propose(lead.id, 'c');
  const data = c.data(lead.id);
  assert.equal(data[0], 'a');
  assert.equal(data[data.length - 1], 'c');
  for (const id of [2, 4]) {
    assert.deepEqual(c.data(id), data, `data on node ${id}`);
    assert.deepEqual(c.get(id).node.confState().voters, [2, 3, 4], `configuration on node ${id}`);
  }
}

test('a voter that applied its own removal and restarted still lets the others elect a leader (seed 11)', () => {
  const { c } = removedLeaderAhead();
  // Node 1 snapshots (its configuration without itself) and restarts: it no longer knows it was
  // a voter, so it never campaigns.
  c.snapshotAndCompact(1);
  c.crash(1);
  const n1 = c.restart(1).node;
  c.heal();
  c.clearSent();
  assertRecovers(c, 300);
  // It was never needed as a leader: its answers told node 2 that the removal committed.
  assert.notEqual(n1.role, Role.Leader);
  assert.equal(c.countSent(MessageType.PreVote, (m) => m.from === 1) + c.countSent(MessageType.Vote, (m) => m.from === 1), 0);
});

test('without pre-vote, the others failed elections do not keep a removed voter from helping (seed 760)', () => {
  const { c } = removedLeaderAhead({ preVote: false, checkQuorum: false });
  // Nobody hears from node 1 (every message it sends now carries the commit); node 2 or 4 times
  // out and campaigns at a higher term, which makes node 1 a follower.
  c.tickUntil(() => c.get(1).node.role === Role.Follower, 100);
  c.heal();
  // The removed leader waits three election timeouts before it campaigns; every failed election
  // of node 2 or 4 bumps the term and would restart that wait.
  assertRecovers(c, 300);
});

test('a candidate adopts a commit index from a vote answer only where its log has that entry', () => {
  // Node 1 knows 3@3 committed; node 2 holds a stale 3@2, node 3 stops at 2@2.
  const c = new Cluster({ voters: [1, 2, 3], config: { checkQuorum: false }, logs: { 1: [1, 2, 3], 2: [1, 2, 2], 3: [1, 2] } });
  c.crash(1);
  c.get(1).storage.setHardState({ term: 3, vote: 0, commit: 3 });
  c.restart(1);
  c.filters.push((m) => m.from === 3 || m.to === 3);
  c.campaign(2);
  assert.ok(c.countSent(MessageType.PreVoteResponse, (m) => m.from === 1 && m.to === 2 && m.reject && m.commit === 3 && m.logTerm === 3) > 0);
  assert.equal(c.committed(2), 1, 'node 2 holds 3@2, not the committed 3@3: it learns nothing');
  c.heal();
  c.filters.push((m) => m.from === 2 || m.to === 2);
  c.campaign(3);
  assert.equal(c.committed(3), 2, 'node 3 holds 2@2, which node 1 knows committed');
  assert.deepEqual(c.data(3), ['t2i2']);
});

test('a transfer target that learns from the vote answers of an unapplied membership change applies it, then campaigns again at once', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  const cc = c.lastIndex(1) + 1;
  // Node 2 gets the change, but no Append or heartbeat tells it that it committed.
  c.filters.push((m) => m.to === 2 && (m.type === MessageType.Append || m.type === MessageType.Heartbeat) && m.commit >= cc);
  c.proposeConfChange(1, autoChange(addLearner(4)));
  assert.ok(c.committed(1) >= cc && c.committed(2) < cc && c.lastIndex(2) === c.lastIndex(1));
  c.clearSent();
  c.get(1).node.transferLeader(2);
  c.stabilize();
  // Its first campaign (in the configuration without learner 4) stopped when the answers told it
  // the change committed; it applied the change and ran the transfer's campaign again.
  assert.equal(
    c.countSent(MessageType.Vote, (m) => m.from === 2 && m.to === 1),
    2,
  );
  assert.equal(c.leader()?.id, 2);
  assert.deepEqual(c.get(2).node.confState().learners, [4]);
});
