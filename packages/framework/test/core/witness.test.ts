// Witnesses: voters that get every entry with its data stripped (Metadata entries), vote and
// count towards commit, never hold user data and never lead. Two data nodes plus a witness
// survive the failure of either data node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, addLearner, addVoter, addWitness, autoChange, enc, removeNode } from './harness.js';
import { RaftError } from '../../src/core/errors.js';
import { makeMessage } from '../../src/core/raft.js';
import { EntryType, MessageType, Role, type Snapshot } from '../../src/core/types.js';

function withWitness(): Cluster {
  const c = new Cluster({ voters: [1, 2], witnesses: [3] });
  c.campaign(1);
  c.propose(1, 'a');
  c.propose(1, 'b');
  return c;
}

test('a witness stores Metadata entries with no data, at the same indexes and terms', () => {
  const c = withWitness();
  const w = c.get(3).storage;
  const l = c.get(1).storage;
  assert.equal(w.lastIndex(), l.lastIndex());
  assert.equal(w.firstIndex(), l.firstIndex());
  const ws = w.entries(w.firstIndex(), w.lastIndex() + 1, Infinity);
  const ls = l.entries(l.firstIndex(), l.lastIndex() + 1, Infinity);
  assert.ok(ls.length >= 3);
  for (let i = 0; i < ls.length; i++) {
    assert.equal(ws[i]!.term, ls[i]!.term);
    assert.equal(ws[i]!.index, ls[i]!.index);
    if (ls[i]!.data.length > 0) {
      assert.equal(ws[i]!.type, EntryType.Metadata, `entry ${ls[i]!.index}`);
      assert.equal(ws[i]!.data.length, 0);
    }
  }
  assert.deepEqual(c.data(1), ['a', 'b']);
  assert.deepEqual(c.data(3), []);
  assert.ok(c.get(3).applied.every((e) => e.data.length === 0));
  assert.equal(c.committed(3), c.committed(1));
  // The data nodes never receive stripped entries.
  assert.deepEqual(c.data(2), ['a', 'b']);
  assert.ok(c.sent.filter((m) => m.type === MessageType.Append && m.to === 2).every((m) => m.entries.every((e) => e.type !== EntryType.Metadata)));
});

test('membership entries reach the witness intact, so it tracks the configuration', () => {
  const c = withWitness();
  c.proposeConfChange(1, autoChange(addLearner(4)));
  assert.deepEqual(c.get(3).node.confState().learners, [4]);
  assert.deepEqual(c.get(3).node.confState().witnesses, [3]);
  assert.ok(c.get(3).applied.some((e) => e.type === EntryType.ConfChange && e.data.length > 0));
});

test('two data nodes + a witness keep committing when the follower data node fails', () => {
  const c = withWitness();
  c.crash(2);
  c.propose(1, 'c');
  assert.deepEqual(c.data(1), ['a', 'b', 'c']);
  c.tickAll(30);
  assert.equal(c.get(1).node.role, Role.Leader, 'check-quorum counts the witness');
});

test('two data nodes + a witness elect the other data node when the leader fails', () => {
  const c = withWitness();
  c.crash(1);
  c.tickUntil(() => c.get(2).node.role === Role.Leader, 200);
  c.propose(2, 'c');
  assert.deepEqual(c.data(2), ['a', 'b', 'c']);
  assert.equal(c.committed(3), c.committed(2));
});

test('a witness never campaigns and never leads', () => {
  const c = withWitness();
  const term = c.get(3).node.term;
  c.crash(1);
  c.crash(2);
  c.tick(3, 100);
  c.campaign(3);
  c.get(3).node.step(makeMessage({ type: MessageType.TimeoutNow, from: 1, to: 3, term }));
  c.stabilize();
  assert.equal(c.get(3).node.role, Role.Follower);
  assert.equal(c.get(3).node.term, term);
});

test('a witness does not vote for a data node whose log is behind its own', () => {
  const c = withWitness();
  c.crash(2);
  c.propose(1, 'c'); // committed by 1 + witness only
  c.crash(1);
  c.restart(2);
  c.tickAll(100);
  assert.notEqual(c.get(2).node.role, Role.Leader, 'electing node 2 would lose the committed entry c');
});

test('a witness that needs compacted entries gets a snapshot without data', () => {
  const c = withWitness();
  const snaps: Snapshot[] = [];
  c.onReady = (n, rd) => {
    if (n.id === 3 && rd.snapshot) snaps.push(rd.snapshot);
  };
  c.isolate(3);
  c.propose(1, 'c');
  c.propose(1, 'd');
  c.snapshotAndCompact(1);
  assert.ok(c.get(1).storage.snapshot().data.length > 0);
  c.heal();
  c.propose(1, 'e');
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]!.data.length, 0);
  assert.deepEqual(snaps[0]!.metadata.confState.witnesses, [3]);
  assert.equal(c.committed(3), c.committed(1));
  assert.deepEqual(c.logTerms(3), c.logTerms(1).slice(c.logTerms(1).length - c.logTerms(3).length));
});

test('a witness cannot become a data voter or a learner; a learner cannot become a witness', () => {
  const c = new Cluster({ voters: [1, 2], witnesses: [3], learners: [4] });
  c.campaign(1);
  const invalid = (e: unknown) => e instanceof RaftError && e.code === 'conf_change_invalid';
  assert.throws(() => c.get(1).node.proposeConfChange(autoChange(addVoter(3))), invalid);
  assert.throws(() => c.get(1).node.proposeConfChange(autoChange(addLearner(3))), invalid);
  assert.throws(() => c.get(1).node.proposeConfChange(autoChange(addWitness(4))), invalid);
  c.propose(1, 'ok');
  assert.deepEqual(c.data(2), ['ok']);
});

test('a witness added by a membership change votes and counts for commit', () => {
  const c = new Cluster({ voters: [1, 2] });
  c.campaign(1);
  c.snapshotAndCompact(1);
  c.addJoiningNode(3);
  c.proposeConfChange(1, autoChange(addWitness(3)));
  for (const id of [1, 2, 3]) {
    assert.deepEqual(c.get(id).node.confState().voters, [1, 2, 3]);
    assert.deepEqual(c.get(id).node.confState().witnesses, [3]);
  }
  c.crash(2);
  c.get(1).node.propose(enc('w'));
  c.stabilize();
  assert.deepEqual(c.data(1), ['w']);
  assert.deepEqual(c.data(3), []);
});

test('a leader removing itself hands off to the data voter, never to the witness', () => {
  const c = new Cluster({ voters: [1, 2, 4], witnesses: [3] });
  c.campaign(1);
  c.propose(1, 'a');
  c.clearSent();
  c.proposeConfChange(1, autoChange(removeNode(1)));
  const handoffs = c.sent.filter((m) => m.type === MessageType.TimeoutNow);
  assert.equal(handoffs.length, 1);
  assert.notEqual(handoffs[0]!.to, 3);
  const lead = c.leader();
  assert.ok(lead && lead.id !== 3 && lead.id !== 1);
});
