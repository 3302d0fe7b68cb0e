// Issue 16, defects 4 and 5: forged and relayed messages driven into the deterministic simulator.
// Each claim a peer makes is checked against what the receiver knows (core/message-check.ts);
// a bad message is dropped whole and counted, and the cluster keeps committing and serving,
// while the checker still judges every step (safety and liveness).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeMessage } from '../../src/core/raft.js';
import { MessageType, Role, type Message, type NodeId, type SnapshotMetadata } from '../../src/core/types.js';
import type { Simulation } from '../../src/sim/simulation.js';
import { awaitLeader, scripted } from './scripted.js';

const ELECTION = 10;

function setup(seed: number): { sim: Simulation; leader: NodeId; follower: NodeId; other: NodeId } {
  const sim = scripted('forged messages', { voters: 3 }, seed);
  const leader = awaitLeader(sim);
  sim.runTicks(2 * ELECTION);
  const [follower, other] = [1, 2, 3].filter((id) => id !== leader) as [NodeId, NodeId];
  return { sim, leader, follower, other };
}

const raftOf = (sim: Simulation, id: NodeId) => sim.node(id)!.raft!;

/** Injects `m`, runs a while, and checks it was dropped by its receiver, with the leader unchanged and writes still acknowledged. */
function expectDropped(sim: Simulation, m: Message, leader: NodeId): void {
  const receiver = raftOf(sim, m.to);
  const dropped = receiver.droppedMessages;
  const acked = sim.workload.stats.writesAcked;
  const term = raftOf(sim, leader).term;
  sim.inject(m);
  sim.runTicks(1);
  assert.equal(receiver.droppedMessages, dropped + 1, `n${m.to} dropped the forged ${MessageType[m.type]}`);
  sim.runTicks(6 * ELECTION);
  assert.equal(raftOf(sim, leader).role, Role.Leader, 'the leader keeps its role');
  assert.equal(raftOf(sim, leader).term, term, 'no election was needed');
  assert.ok(sim.workload.stats.writesAcked > acked, 'writes are still acknowledged');
}

for (const seed of [1, 2, 3]) {
  describe(`forged peer messages (seed ${seed})`, () => {
    test('an AppendResponse claiming index 2^40 does not reach the leader state; the follower keeps applying', () => {
      const { sim, leader, follower } = setup(seed);
      const term = raftOf(sim, leader).term;
      expectDropped(sim, makeMessage({ type: MessageType.AppendResponse, from: follower, to: leader, term, index: 2 ** 40 }), leader);
      const match = raftOf(sim, leader)
        .status()
        .progress.find((p) => p.id === follower)!.match;
      assert.ok(match <= raftOf(sim, leader).inspectLog().lastIndex);
      const f = raftOf(sim, follower).inspectLog();
      assert.ok(f.applied >= raftOf(sim, leader).inspectLog().committed - 5, 'the follower is caught up');
    });

    test('a ReadIndex without a read context is dropped by the leader (it threw inside the core; found by the fuzz suite)', () => {
      const { sim, leader, follower } = setup(seed);
      expectDropped(sim, makeMessage({ type: MessageType.ReadIndex, from: follower, to: leader, term: raftOf(sim, leader).term }), leader);
    });

    test('a campaign flagged as a leadership transfer from a non-member does not depose the leader (found by the fuzz suite)', () => {
      const { sim, leader } = setup(seed);
      const term = raftOf(sim, leader).term;
      expectDropped(sim, makeMessage({ type: MessageType.Vote, from: 99, to: leader, term: term + 5, index: 1 << 20, logTerm: term + 5, transfer: true }), leader);
    });

    test('ReadIndex and TransferLeader from a non-member are dropped by the follower, never relayed', () => {
      const { sim, leader, follower } = setup(seed);
      const leaderDropped = raftOf(sim, leader).droppedMessages;
      expectDropped(sim, makeMessage({ type: MessageType.ReadIndex, from: 99, to: follower, context: new Uint8Array([1, 2, 3]) }), leader);
      expectDropped(sim, makeMessage({ type: MessageType.TransferLeader, from: 99, to: follower }), leader);
      // A member's request to a follower is not relayed either: the relay would carry its identity.
      const other = [1, 2, 3].find((id) => id !== leader && id !== follower)!;
      expectDropped(sim, makeMessage({ type: MessageType.TransferLeader, from: other, to: follower }), leader);
      assert.equal(raftOf(sim, leader).droppedMessages, leaderDropped, 'nothing reached the leader to be dropped there');
    });

    test('a Heartbeat or Append of the current term from a member that does not lead it is dropped', () => {
      const { sim, leader, follower, other } = setup(seed);
      const term = raftOf(sim, leader).term;
      expectDropped(sim, makeMessage({ type: MessageType.Heartbeat, from: other, to: follower, term, commit: 0 }), leader);
      const last = raftOf(sim, follower).inspectLog().lastIndex;
      expectDropped(
        sim,
        makeMessage({
          type: MessageType.Append,
          from: other,
          to: follower,
          term,
          index: last,
          logTerm: term,
          entries: [{ index: last + 1, term, type: 0, data: new Uint8Array() }],
        }),
        leader,
      );
      assert.equal(raftOf(sim, follower).lead, leader);
    });

    test('a heartbeat commit beyond the follower log, and a lease tick from the future, are dropped', () => {
      const { sim, leader, follower } = setup(seed);
      const term = raftOf(sim, leader).term;
      const last = raftOf(sim, follower).inspectLog().lastIndex;
      expectDropped(sim, makeMessage({ type: MessageType.Heartbeat, from: leader, to: follower, term, commit: last + 1000 }), leader);
      expectDropped(sim, makeMessage({ type: MessageType.HeartbeatResponse, from: follower, to: leader, term, leaseTick: 2 ** 40 }), leader);
    });

    test('a snapshot whose metadata is impossible is dropped', () => {
      const { sim, leader, follower } = setup(seed);
      const term = raftOf(sim, leader).term;
      const confState = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false };
      const snapshotWith = (metadata: SnapshotMetadata) =>
        makeMessage({ type: MessageType.Snapshot, from: leader, to: follower, term, snapshot: { metadata, data: new Uint8Array() } });
      expectDropped(sim, snapshotWith({ index: 10 ** 6, term: term + 5, confState }), leader);
      expectDropped(sim, snapshotWith({ index: 10 ** 6, term, confState: { ...confState, voters: [] } }), leader);
      const badHistory = { from: 10 ** 6 + 1, termChecksum: 1, dataChecksum: 2 ** 32 };
      expectDropped(sim, snapshotWith({ index: 10 ** 6, term, confState, history: badHistory }), leader);
    });

    test('an Append whose entries do not follow each other, or claims a later term than its own, is dropped', () => {
      const { sim, leader, follower } = setup(seed);
      const term = raftOf(sim, leader).term;
      const last = raftOf(sim, follower).inspectLog().lastIndex;
      const entry = (index: number, t: number) => ({ index, term: t, type: 0, data: new Uint8Array() });
      expectDropped(sim, makeMessage({ type: MessageType.Append, from: leader, to: follower, term, index: last, logTerm: term, entries: [entry(last + 5, term)] }), leader);
      expectDropped(sim, makeMessage({ type: MessageType.Append, from: leader, to: follower, term, index: last, logTerm: term, entries: [entry(last + 1, term + 3)] }), leader);
    });

    test('replies, reads and timeouts from a non-member are dropped; TimeoutNow from a member that does not lead is too', () => {
      const { sim, leader, follower, other } = setup(seed);
      const term = raftOf(sim, leader).term;
      expectDropped(sim, makeMessage({ type: MessageType.AppendResponse, from: 99, to: leader, term, index: 1 }), leader);
      expectDropped(sim, makeMessage({ type: MessageType.ReadIndex, from: 99, to: leader, context: new Uint8Array([9]) }), leader);
      expectDropped(sim, makeMessage({ type: MessageType.TimeoutNow, from: other, to: follower, term }), leader);
    });
  });
}
