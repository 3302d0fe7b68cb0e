// Lease reads: the leader serves a read without a heartbeat round while a quorum acknowledged a
// heartbeat sent less than leaseTicks ago; never during a leadership transfer; and it falls back
// to ReadIndex once the lease has expired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from './harness.js';
import { makeMessage } from '../../src/core/raft.js';
import { MessageType, ReadOnlyOption, Role, type Message, type RaftConfig } from '../../src/core/index.js';

/**
 * A lease-read cluster where node 1 times out first (random 0 -> 10 ticks) and the others late
 * (random 0.999 -> 19 ticks). Nodes hold a boot lease for one election timeout, so the election
 * needs ticks; afterwards one heartbeat round gives node 1 its lease.
 */
function leaseCluster(config: Partial<RaftConfig> = {}, nodeConfig: Record<number, Partial<RaftConfig>> = {}): Cluster {
  const c = new Cluster({
    voters: [1, 2, 3],
    config: { readOnlyOption: ReadOnlyOption.LeaseBased, random: () => 0.999, ...config },
    nodeConfig: { 1: { random: () => 0 }, ...nodeConfig },
  });
  c.tickUntil(() => c.get(1).node.role === Role.Leader, 50);
  c.propose(1, 'a');
  c.tick(1); // a heartbeat round: the lease starts
  return c;
}

const heartbeats = (msgs: Message[]) => msgs.filter((m) => m.type === MessageType.Heartbeat).length;

test('boot lease: a fresh cluster elects at once (nobody can have promised a leader anything)', () => {
  const c = new Cluster({ voters: [1, 2, 3], config: { readOnlyOption: ReadOnlyOption.LeaseBased } });
  c.campaign(1);
  assert.equal(c.get(1).node.role, Role.Leader);
});

test('boot lease: a node restarted after following a leader refuses votes for one election timeout, whatever its read mode', () => {
  const c = new Cluster({ voters: [1, 2, 3], nodeConfig: { 3: { readOnlyOption: ReadOnlyOption.Safe } }, config: { readOnlyOption: ReadOnlyOption.LeaseBased } });
  c.campaign(1);
  c.propose(1, 'a');
  c.crash(3);
  c.restart(3);
  // Node 2 campaigns at once; restarted node 3 must not help it win.
  c.isolate(1);
  c.campaign(2);
  assert.notEqual(c.get(2).node.role, Role.Leader);
  c.tickUntil(() => c.get(2).node.role === Role.Leader || c.get(3).node.role === Role.Leader, 60);
});

test('with a valid lease the leader answers at once, without a heartbeat round', () => {
  const c = leaseCluster();
  c.clearSent();
  c.readIndex(1, 'l');
  assert.deepEqual(c.reads(1), [{ index: c.committed(1), ctx: 'l' }]);
  assert.equal(heartbeats(c.sent), 0);
});

test('a follower lease read is answered by the leader without a heartbeat round', () => {
  const c = leaseCluster();
  c.clearSent();
  c.readIndex(3, 'f');
  assert.deepEqual(c.reads(3), [{ index: c.committed(1), ctx: 'f' }]);
  assert.equal(heartbeats(c.sent), 0);
});

test('an expired lease falls back to ReadIndex: a heartbeat round, answered only with a quorum', () => {
  const c = leaseCluster();
  const out: Message[] = [];
  c.filters.push((m) => {
    if (m.from === 1) out.push(m);
    return m.from === 1 || m.to === 1;
  });
  c.tick(1, 8); // leaseTicks defaults to electionTick - 2 = 8
  assert.equal(c.get(1).node.role, Role.Leader);
  out.length = 0;
  c.readIndex(1, 'late');
  assert.deepEqual(c.reads(1), [], 'no answer without a quorum once the lease expired');
  assert.ok(
    out.some((m) => m.type === MessageType.Heartbeat && m.context !== undefined),
    'a ReadIndex heartbeat was sent',
  );
  c.heal();
  c.tick(1);
  assert.deepEqual(
    c.reads(1).map((r) => r.ctx),
    ['late'],
  );
});

test('the lease is still valid one tick before it expires', () => {
  const c = leaseCluster();
  c.isolate(1);
  c.tick(1, 7);
  c.readIndex(1, 'edge');
  assert.deepEqual(
    c.reads(1).map((r) => r.ctx),
    ['edge'],
  );
});

test('no lease reads during a leadership transfer', () => {
  const c = leaseCluster();
  c.crash(3); // the transfer to node 3 cannot finish
  c.get(1).node.transferLeader(3);
  c.stabilize();
  assert.equal(c.status(1).leadTransferee, 3);
  c.clearSent();
  c.readIndex(1, 't');
  assert.ok(heartbeats(c.sent) > 0, 'the read went through a heartbeat round');
  assert.deepEqual(
    c.reads(1).map((r) => r.ctx),
    ['t'],
    'node 2 acknowledged: answered through ReadIndex',
  );
});

test('a new lease-read leader answers only after its no-op commits', () => {
  const c = new Cluster({
    voters: [1, 2, 3],
    config: { readOnlyOption: ReadOnlyOption.LeaseBased, random: () => 0.999 },
    nodeConfig: { 1: { random: () => 0 } },
  });
  const base = c.committed(1);
  c.holdFilter = (m) => m.type === MessageType.AppendResponse && m.to === 1;
  c.tickUntil(() => c.get(1).node.role === Role.Leader, 50);
  c.tick(1, 2); // heartbeats are acknowledged: a lease, but no commit in this term yet
  c.readIndex(1, 'early');
  assert.deepEqual(c.reads(1), []);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  assert.deepEqual(c.reads(1), [{ index: base + 1, ctx: 'early' }]);
});

test('a lease read is never served while another leader exists', () => {
  // Node 2 times out fast (10 ticks) and leaseTicks is as long as allowed (9): the tightest case.
  const c = leaseCluster({ leaseTicks: 9 }, { 2: { random: () => 0 } });
  c.isolate(1);
  let served = 0;
  let newLeaderAt = -1;
  for (let t = 1; t <= 40; t++) {
    c.tickAll(1);
    const before = c.reads(1).length;
    c.readIndex(1, `r${t}`);
    const servedNow = c.reads(1).length > before;
    const other = [2, 3].some((id) => c.get(id).node.role === Role.Leader);
    if (other && newLeaderAt < 0) newLeaderAt = t;
    if (servedNow) {
      served++;
      assert.ok(!other, `lease read served at tick ${t} while another leader exists`);
    }
  }
  assert.ok(served > 0, 'the lease served some reads after the partition');
  assert.ok(newLeaderAt > 0, 'the majority elected a new leader');
});

test('a TimeoutNow still in flight after an abandoned transfer must not allow a stale lease read', () => {
  // Node 1 starts a transfer to 3; the TimeoutNow is delayed past the transfer's timeout, so
  // node 1 abandons the transfer and trusts its lease again. The late TimeoutNow then makes
  // node 3 campaign with the transfer flag, which bypasses the other followers' promise not to
  // vote; node 3 wins and commits a write while node 1 still serves reads from its lease.
  const c = leaseCluster();
  c.holdFilter = (m) => m.type === MessageType.TimeoutNow;
  c.get(1).node.transferLeader(3);
  c.stabilize();
  assert.equal(c.held.length, 1);
  c.tickAll(10); // the transfer times out; heartbeats keep being acknowledged
  assert.equal(c.status(1).leadTransferee, 0);
  assert.equal(c.get(1).node.role, Role.Leader);
  c.holdFilter = undefined;
  c.isolate(1);
  c.release();
  c.stabilize();
  assert.equal(c.get(3).node.role, Role.Leader, 'the late TimeoutNow elected node 3');
  const w = c.propose(3, 'w');
  assert.ok(c.committed(3) >= w);
  c.readIndex(1, 'stale?');
  const r = c.reads(1);
  assert.ok(r.length === 0, `node 1 answered a read at index ${r[0]?.index} after 'w' committed at ${w} on node 3`);
});

test('config: lease reads require check-quorum and 0 < leaseTicks < electionTick', () => {
  assert.throws(() => new Cluster({ voters: [1], config: { readOnlyOption: ReadOnlyOption.LeaseBased, checkQuorum: false } }), /checkQuorum/);
  assert.throws(() => new Cluster({ voters: [1], config: { readOnlyOption: ReadOnlyOption.LeaseBased, leaseTicks: 10 } }), /leaseTicks/);
  assert.throws(() => new Cluster({ voters: [1], config: { readOnlyOption: ReadOnlyOption.LeaseBased, leaseTicks: 0 } }), /leaseTicks/);
});

test('a restarted lease-read node keeps the promise it may have made: no vote for an election timeout', () => {
  const c = leaseCluster();
  c.crash(3);
  const n3 = c.restart(3).node;
  const term = n3.term;
  const voteReq = () => makeMessage({ type: MessageType.Vote, from: 2, to: 3, term: term + 1, index: 1000, logTerm: term });
  c.clearSent();
  c.isolate(1); // node 3 hears nothing from the leader after its restart
  n3.step(voteReq());
  c.stabilize();
  assert.equal(
    c.countSent(MessageType.VoteResponse, (m) => m.from === 3),
    0,
    'ignored right after the restart',
  );
  assert.equal(n3.term, term);
  c.tick(3, 10);
  n3.step(voteReq());
  c.stabilize();
  assert.equal(
    c.countSent(MessageType.VoteResponse, (m) => m.from === 3 && !m.reject),
    1,
    'granted after an election timeout',
  );
});
