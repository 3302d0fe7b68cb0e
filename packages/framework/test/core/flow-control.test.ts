// Flow control: the number and bytes of Appends in flight per follower are bounded in the
// replicate state; a follower in probe state gets one Append per heartbeat until it answers;
// message size limits; the uncommitted-size limit on proposals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, enc } from './harness.js';
import { RaftError } from '../../src/core/errors.js';
import { MessageType, ProgressState, type Message, type RaftConfig } from '../../src/core/index.js';

const appendsTo = (msgs: Message[], to: number) => msgs.filter((m) => m.type === MessageType.Append && m.to === to);
const progressOf = (c: Cluster, id: number) => c.status(1).progress.find((p) => p.id === id)!;

function leaderOf3(config: Partial<RaftConfig> = {}): Cluster {
  const c = new Cluster({ voters: [1, 2, 3], config });
  c.campaign(1);
  c.propose(1, 'warm-up');
  return c;
}

test('replicate state: at most maxInflightMsgs Appends are outstanding to a follower', () => {
  const c = leaderOf3({ maxInflightMsgs: 3, maxSizePerMsg: 1 });
  c.holdFilter = (m) => m.type === MessageType.Append && m.to === 2;
  for (let i = 0; i < 10; i++) c.get(1).node.propose(enc(`e${i}`));
  c.stabilize();
  assert.equal(appendsTo(c.held, 2).length, 3);
  assert.equal(progressOf(c, 2).inflight, 3);
  assert.equal(progressOf(c, 2).state, ProgressState.Replicate);
  // Node 3 is not throttled by node 2's window: it has everything.
  assert.equal(c.data(3).length, 11);
  // Each acknowledgement opens the window again; never more than 3 outstanding.
  let rounds = 0;
  while (c.held.length > 0) {
    assert.ok(appendsTo(c.held, 2).length <= 3);
    rounds++;
    c.release();
    c.stabilize();
  }
  assert.ok(rounds >= 4, `10 entries through a window of 3 need at least 4 rounds, took ${rounds}`);
  assert.equal(c.data(2).length, 11);
});

test('replicate state: in-flight bytes are bounded by maxInflightBytes', () => {
  // Entries of 10 bytes weigh 26 (16 bytes of overhead); one entry per message.
  const c = leaderOf3({ maxSizePerMsg: 26, maxInflightBytes: 52 });
  c.holdFilter = (m) => m.type === MessageType.Append && m.to === 2;
  for (let i = 0; i < 6; i++) c.get(1).node.propose(enc(`0123456789`));
  c.stabilize();
  const held = appendsTo(c.held, 2);
  assert.equal(held.length, 2, 'the window is full once 52 bytes are outstanding');
  assert.ok(held.every((m) => m.entries.length === 1));
  assert.equal(progressOf(c, 2).inflight, 2);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.equal(c.data(2).length, 7);
});

test('probe state: one Append per heartbeat interval until the follower answers', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.holdFilter = (m) => m.type === MessageType.Append && m.to === 2;
  c.campaign(1);
  assert.equal(progressOf(c, 2).state, ProgressState.Probe);
  assert.equal(appendsTo(c.held, 2).length, 1, 'the probe');
  for (let i = 0; i < 4; i++) c.propose(1, `p${i}`);
  assert.equal(appendsTo(c.held, 2).length, 1, 'no more Appends while the probe is unanswered');
  // Node 3 answered its probe and streams normally.
  assert.equal(progressOf(c, 3).state, ProgressState.Replicate);
  c.tick(1); // heartbeat; its response unpauses the probe
  assert.equal(appendsTo(c.held, 2).length, 2, 'one more probe per heartbeat interval');
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.equal(progressOf(c, 2).state, ProgressState.Replicate);
  assert.deepEqual(c.data(2), ['p0', 'p1', 'p2', 'p3']);
});

test('a new leader starts every follower in probe state and moves it to replicate on the first ack', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.get(1).node.campaign();
  // Process elections but hold the acknowledgements of the first Appends.
  c.holdFilter = (m) => m.type === MessageType.AppendResponse;
  c.stabilize();
  assert.equal(c.get(1).node.role, 'leader');
  for (const id of [2, 3]) assert.equal(progressOf(c, id).state, ProgressState.Probe);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  for (const id of [2, 3]) assert.equal(progressOf(c, id).state, ProgressState.Replicate);
});

test('a rejected Append sends a replicating follower back to probe, then it recovers', () => {
  const c = leaderOf3();
  c.filters.push((m) => m.type === MessageType.Append && m.to === 2);
  c.propose(1, 'lost');
  c.heal();
  const states: ProgressState[] = [];
  c.onReady = (n) => {
    if (n.id === 1) states.push(progressOf(c, 2).state);
  };
  c.clearSent();
  c.propose(1, 'next');
  c.onReady = undefined;
  assert.equal(
    c.countSent(MessageType.AppendResponse, (m) => m.from === 2 && m.reject),
    1,
  );
  assert.ok(states.includes(ProgressState.Probe), `expected a probe phase, saw ${states.join(',')}`);
  assert.equal(progressOf(c, 2).state, ProgressState.Replicate);
  assert.deepEqual(c.data(2), ['warm-up', 'lost', 'next']);
});

test('reportUnreachable moves a replicating follower to probe', () => {
  const c = leaderOf3();
  c.get(1).node.reportUnreachable(2);
  assert.equal(progressOf(c, 2).state, ProgressState.Probe);
  c.propose(1, 'x');
  assert.equal(progressOf(c, 2).state, ProgressState.Replicate);
  assert.deepEqual(c.data(2), ['warm-up', 'x']);
});

test('maxSizePerMsg splits a backlog into several Appends (always at least one entry)', () => {
  // 10-byte entries weigh 26: three fit in 100 bytes.
  const c = leaderOf3({ maxSizePerMsg: 100 });
  c.clearSent();
  c.get(1).node.proposeBatch(Array.from({ length: 12 }, () => enc('0123456789')));
  c.stabilize();
  const sizes = appendsTo(c.sent, 2)
    .filter((m) => m.entries.length > 0)
    .map((m) => m.entries.length);
  assert.deepEqual(sizes, [3, 3, 3, 3]);
  // An entry larger than the limit still goes out, alone.
  c.clearSent();
  c.propose(1, 'x'.repeat(500));
  const big = appendsTo(c.sent, 2).filter((m) => m.entries.length > 0);
  assert.equal(big.length, 1);
  assert.equal(big[0]!.entries.length, 1);
  assert.equal(c.data(2).length, 14);
});

test('maxUncommittedEntriesSize drops proposals beyond the limit until entries are applied', () => {
  const c = leaderOf3({ maxUncommittedEntriesSize: 10 });
  c.holdFilter = (m) => m.type === MessageType.Append;
  const n = c.get(1).node;
  n.propose(enc('12345678')); // 8 bytes: accepted
  assert.throws(
    () => n.propose(enc('12345678')), // 16 > 10
    (e: unknown) => e instanceof RaftError && e.code === 'proposal_dropped',
  );
  n.propose(enc('12')); // 10 <= 10: accepted
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  // Applied: the budget is free again.
  n.propose(enc('12345678'));
  c.stabilize();
  assert.deepEqual(c.data(2), ['warm-up', '12345678', '12', '12345678']);
});

test('a single proposal larger than maxUncommittedEntriesSize is accepted when nothing is uncommitted', () => {
  const c = leaderOf3({ maxUncommittedEntriesSize: 4 });
  c.propose(1, 'much more than four bytes');
  assert.deepEqual(c.data(3), ['warm-up', 'much more than four bytes']);
});

test('a window full of lost Appends does not stall replication: the next heartbeat repairs it', () => {
  const c = leaderOf3({ maxInflightMsgs: 2, maxSizePerMsg: 1 });
  c.filters.push((m) => m.type === MessageType.Append && m.to === 2);
  for (let i = 0; i < 5; i++) c.get(1).node.propose(enc(`e${i}`));
  c.stabilize();
  assert.equal(progressOf(c, 2).inflight, 2, 'the window is full of messages that were all lost');
  c.heal();
  c.tick(1, 3); // no new proposals
  assert.deepEqual(c.data(2), ['warm-up', 'e0', 'e1', 'e2', 'e3', 'e4']);
  assert.equal(progressOf(c, 2).state, ProgressState.Replicate);
});
