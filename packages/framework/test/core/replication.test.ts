// Log replication: proposals reach every node in order, pipelining keeps several Appends in
// flight, commits need a quorum, and lost messages are recovered without new proposals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, enc } from './harness.js';
import { NotLeaderError, RaftError } from '../../src/core/errors.js';
import { MessageType, ProgressState, Role, type Message } from '../../src/core/types.js';

function leaderOf3(config = {}): Cluster {
  const c = new Cluster({ voters: [1, 2, 3], config });
  c.campaign(1);
  return c;
}

const appendsTo = (msgs: Message[], to: number) => msgs.filter((m) => m.type === MessageType.Append && m.to === to);

test('proposals are replicated, committed and applied in the same order on every node', () => {
  const c = leaderOf3();
  const want: string[] = [];
  for (let i = 0; i < 20; i++) {
    want.push(`v${i}`);
    c.propose(1, `v${i}`);
  }
  for (const id of [1, 2, 3]) {
    assert.deepEqual(c.data(id), want);
    assert.equal(c.committed(id), c.lastIndex(1));
  }
  assert.deepEqual(c.logTerms(2), c.logTerms(1));
  assert.deepEqual(c.logTerms(3), c.logTerms(1));
});

test('propose on a follower throws NotLeaderError naming the leader', () => {
  const c = leaderOf3();
  assert.throws(
    () => c.get(2).node.propose(enc('x')),
    (e: unknown) => e instanceof NotLeaderError && e.leader === 1 && e.code === 'not_leader',
  );
  const fresh = new Cluster({ voters: [1, 2, 3] });
  assert.throws(
    () => fresh.get(2).node.propose(enc('x')),
    (e: unknown) => e instanceof NotLeaderError && e.leader === 0,
  );
});

test('pipelining: in replicate state several Appends are in flight before any response', () => {
  const c = leaderOf3();
  const w = c.propose(1, 'warm-up'); // both followers are in replicate state now
  assert.equal(c.status(1).progress.find((p) => p.id === 2)!.state, ProgressState.Replicate);
  c.holdFilter = (m) => m.type === MessageType.Append && m.from === 1;
  for (let i = 0; i < 5; i++) c.propose(1, `p${i}`);
  const held2 = appendsTo(c.held, 2);
  assert.equal(held2.length, 5, 'one Append per proposal, all outstanding at once');
  // Each Append follows the previous one optimistically (prevIndex = the warm-up's index, ...).
  assert.deepEqual(
    held2.map((m) => m.index),
    [w, w + 1, w + 2, w + 3, w + 4],
  );
  assert.equal(c.status(1).progress.find((p) => p.id === 2)!.inflight, 5);
  assert.equal(c.committed(1), w, 'nothing new commits without acknowledgements');
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.equal(c.status(1).progress.find((p) => p.id === 2)!.inflight, 0);
  for (const id of [1, 2, 3]) assert.deepEqual(c.data(id), ['warm-up', 'p0', 'p1', 'p2', 'p3', 'p4']);
});

test('an entry commits only once a quorum has it', () => {
  const c = leaderOf3();
  c.holdFilter = (m) => m.type === MessageType.Append && (m.to === 2 || m.to === 3);
  const idx = c.propose(1, 'x');
  assert.equal(c.committed(1), idx - 1);
  assert.deepEqual(c.data(1), []);
  // Deliver to node 2 only: 2 of 3 is a quorum.
  c.holdFilter = undefined;
  const held = c.held;
  c.held = held.filter((m) => m.to === 3);
  for (const m of held.filter((m) => m.to === 2)) c.get(2).node.step(m);
  c.stabilize();
  assert.equal(c.committed(1), idx);
  assert.deepEqual(c.data(1), ['x']);
  assert.deepEqual(c.data(2), ['x']);
  c.release();
  c.stabilize();
  assert.deepEqual(c.data(3), ['x']);
});

test('the commit index reaches followers even when there is nothing new to append', () => {
  const c = leaderOf3();
  // Node 3 gets the entry but not the later commit notification.
  c.filters.push((m) => m.to === 3 && m.type === MessageType.Append && m.entries.length === 0);
  const idx = c.propose(1, 'x');
  assert.ok(c.committed(3) < idx);
  c.heal();
  c.tick(1); // heartbeat carries min(match, commit)
  assert.equal(c.committed(3), idx);
  assert.deepEqual(c.data(3), ['x']);
});

test('a follower whose Append was lost catches up on the next heartbeat, without new proposals', () => {
  // Node 3 is down, node 2 loses the Append carrying 'b': 'b' can commit only once 2 has it.
  const c = leaderOf3();
  c.propose(1, 'a');
  c.crash(3);
  c.filters.push((m) => m.type === MessageType.Append && m.to === 2 && m.entries.length > 0);
  c.get(1).node.propose(enc('b'));
  c.stabilize();
  c.heal();
  c.tick(1, 5); // five heartbeat rounds, no message lost any more
  assert.deepEqual(c.data(2), ['a', 'b'], 'follower 2 never received the lost entry again');
  assert.deepEqual(c.data(1), ['a', 'b'], 'the entry never committed');
});

test('a follower that crashed and restarted catches up on the next heartbeat, without new proposals', () => {
  const c = leaderOf3();
  c.propose(1, 'a');
  c.crash(3);
  c.propose(1, 'b');
  c.propose(1, 'c');
  c.restart(3);
  c.tick(1, 5);
  assert.deepEqual(c.data(3), ['a', 'b', 'c']);
});

test('a quorum that comes back commits the pending entry', () => {
  // Both followers crash while an entry is in flight; one comes back.
  const c = leaderOf3({ checkQuorum: false });
  c.propose(1, 'a');
  c.crash(2);
  c.crash(3);
  c.get(1).node.propose(enc('b'));
  c.stabilize();
  assert.deepEqual(c.data(1), ['a']);
  c.restart(2);
  c.tick(1, 5);
  assert.deepEqual(c.data(1), ['a', 'b']);
});

test('a follower that lost Appends is repaired by the next proposal (reject, probe, resend)', () => {
  const c = leaderOf3();
  c.propose(1, 'a');
  c.filters.push((m) => m.type === MessageType.Append && m.to === 3);
  c.propose(1, 'b');
  c.heal();
  c.clearSent();
  c.propose(1, 'c');
  assert.ok(c.countSent(MessageType.AppendResponse, (m) => m.from === 3 && m.reject) >= 1);
  assert.deepEqual(c.data(3), ['a', 'b', 'c']);
  assert.deepEqual(c.logTerms(3), c.logTerms(1));
});

test('the leader never overwrites committed entries of a follower (stale Appends are answered with the commit)', () => {
  const c = leaderOf3();
  c.propose(1, 'a');
  c.propose(1, 'b');
  // Replay an old Append (before 'b') to node 2: it must not truncate anything.
  const old = c.sent.find((m) => m.type === MessageType.Append && m.to === 2 && m.entries.some((e) => new TextDecoder().decode(e.data) === 'a'))!;
  const before = c.logTerms(2);
  c.clearSent();
  c.get(2).node.step({ ...old, entries: old.entries.map((e) => ({ ...e })) });
  c.stabilize();
  assert.deepEqual(c.logTerms(2), before);
  assert.deepEqual(c.data(2), ['a', 'b']);
  const resp = c.sent.filter((m) => m.type === MessageType.AppendResponse && m.from === 2);
  assert.equal(resp.length, 1);
  assert.equal(resp[0]!.reject, false);
  assert.equal(resp[0]!.index, c.committed(2));
});

test('proposals on a stepped-down leader fail and do not enter the log', () => {
  const c = leaderOf3();
  c.isolate(1);
  c.tick(1, 25);
  assert.equal(c.get(1).node.role, Role.Follower);
  const last = c.lastIndex(1);
  assert.throws(() => c.get(1).node.propose(enc('x')), RaftError);
  assert.equal(c.lastIndex(1), last);
});
