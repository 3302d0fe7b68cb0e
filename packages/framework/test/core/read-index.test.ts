// ReadIndex (safe) linearizable reads: the leader records its commit index, confirms its
// leadership with a heartbeat quorum, then answers; a new leader first commits its no-op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { MessageType, Role } from '../../src/core/types.js';

function leaderOf3(): Cluster {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  return c;
}

const heartbeatsWithContext = (c: Cluster) => c.countSent(MessageType.Heartbeat, (m) => m.context !== undefined);

test('the leader answers a read at its commit index after a heartbeat quorum', () => {
  const c = leaderOf3();
  const b = c.propose(1, 'b');
  c.clearSent();
  c.readIndex(1, 'r1');
  assert.deepEqual(c.reads(1), [{ index: c.committed(1), ctx: 'r1' }]);
  assert.equal(c.committed(1), b);
  assert.equal(heartbeatsWithContext(c), 2, 'one heartbeat round carrying the read context');
});

test('no answer without a heartbeat quorum; the read is answered once the quorum is back', () => {
  const c = leaderOf3();
  c.isolate(1);
  c.readIndex(1, 'r');
  c.tick(1, 3);
  assert.equal(c.get(1).node.role, Role.Leader);
  assert.deepEqual(c.reads(1), []);
  c.heal();
  c.tick(1);
  assert.deepEqual(c.reads(1), [{ index: c.committed(1), ctx: 'r' }]);
  assert.equal(c.committed(1), c.lastIndex(1));
});

test('one acknowledging follower plus the leader is a quorum of three', () => {
  const c = leaderOf3();
  c.crash(3);
  c.readIndex(1, 'r');
  assert.deepEqual(c.reads(1), [{ index: c.lastIndex(1), ctx: 'r' }]);
});

test('a new leader answers only after the no-op of its term has committed', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  const base = c.committed(1); // the founding snapshot
  c.holdFilter = (m) => m.type === MessageType.AppendResponse && m.to === 1;
  c.campaign(1);
  assert.equal(c.get(1).node.role, Role.Leader);
  assert.equal(c.committed(1), base);
  c.readIndex(1, 'early');
  c.tick(1, 3); // heartbeats are acknowledged, but the commit index is still unknown
  assert.deepEqual(c.reads(1), []);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.equal(c.committed(1), base + 1);
  assert.deepEqual(c.reads(1), [{ index: base + 1, ctx: 'early' }]);
});

test('a new leader whose commit index lags answers only at an index covering the earlier commits', () => {
  // Node 1 commits 'x' with node 2, but node 2 never learns that 'x' committed; node 3 lacks it.
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.filters.push((m) => m.type === MessageType.Append && m.to === 3);
  c.filters.push((m) => m.to === 2 && ((m.type === MessageType.Append && m.entries.length === 0) || m.type === MessageType.Heartbeat));
  const x = c.propose(1, 'x');
  assert.equal(c.committed(1), x);
  assert.ok(c.committed(2) < x);
  c.crash(1);
  c.heal();
  c.tickUntil(() => c.leader() !== undefined, 200);
  const lead = c.leader()!;
  assert.equal(lead.id, 2, 'only node 2 has an up-to-date log');
  c.readIndex(2, 'r');
  const reads = c.reads(2);
  assert.equal(reads.length, 1);
  // 'x' was committed (and maybe read) before: the read index must cover it.
  assert.ok(reads[0]!.index >= x, `read index ${reads[0]!.index} < ${x}`);
  assert.equal(reads[0]!.index, c.committed(2));
  assert.deepEqual(c.data(2), ['x']);
});

test('a follower read is forwarded to the leader and answered at the leader commit index', () => {
  const c = leaderOf3();
  c.clearSent();
  c.readIndex(2, 'f');
  assert.deepEqual(c.reads(2), [{ index: c.committed(1), ctx: 'f' }]);
  assert.deepEqual(c.reads(1), []);
  assert.equal(
    c.countSent(MessageType.ReadIndex, (m) => m.from === 2 && m.to === 1),
    1,
  );
  assert.equal(
    c.countSent(MessageType.ReadIndexResponse, (m) => m.from === 1 && m.to === 2),
    1,
  );
});

test('a follower read includes every write committed before it', () => {
  const c = leaderOf3();
  // Node 3 does not hear about 'b' yet.
  c.filters.push((m) => m.to === 3 && m.type === MessageType.Append);
  const b = c.propose(1, 'b');
  c.heal();
  c.readIndex(3, 'r');
  const r = c.reads(3);
  assert.equal(r.length, 1);
  assert.ok(r[0]!.index >= b, 'the read must wait for the write');
});

test('a deposed leader cut off from the majority never answers a read', () => {
  const c = leaderOf3();
  c.isolate(1);
  c.tickUntil(() => c.get(2).node.role === Role.Leader || c.get(3).node.role === Role.Leader, 200, [2, 3]);
  const lead = c.leader()!;
  assert.notEqual(lead.id, 1);
  c.propose(lead.id, 'new');
  assert.equal(c.get(1).node.role, Role.Leader, 'node 1 still believes it leads (it was not ticked)');
  c.readIndex(1, 'stale');
  c.tick(1, 3);
  assert.deepEqual(c.reads(1), []);
  c.heal();
  c.tickAll(3);
  assert.deepEqual(c.reads(1), [], 'the pending read is dropped, never answered with a stale index');
  assert.equal(c.get(1).node.role, Role.Follower);
});

test('reads queued behind each other are all answered, in order, by one quorum round', () => {
  const c = leaderOf3();
  c.isolate(1);
  c.readIndex(1, 'r1');
  c.readIndex(1, 'r2');
  c.readIndex(1, 'r3');
  c.heal();
  c.tick(1);
  assert.deepEqual(
    c.reads(1).map((r) => r.ctx),
    ['r1', 'r2', 'r3'],
  );
});

test('a single-voter leader answers at once', () => {
  const c = new Cluster({ voters: [1] });
  c.campaign(1);
  const a = c.propose(1, 'a');
  c.clearSent();
  c.readIndex(1, 'r');
  assert.deepEqual(c.reads(1), [{ index: a, ctx: 'r' }]);
  assert.equal(c.sent.length, 0);
});

test('a read on a node that knows no leader is dropped', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.readIndex(2, 'r');
  c.campaign(1);
  c.tickAll(3);
  assert.deepEqual(c.reads(2), []);
  assert.deepEqual(c.reads(1), []);
});

test('a learner read is forwarded to the leader and answered', () => {
  const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
  c.campaign(1);
  const a = c.propose(1, 'a');
  c.readIndex(4, 'l');
  assert.deepEqual(c.reads(4), [{ index: a, ctx: 'l' }]);
});
