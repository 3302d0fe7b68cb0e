// Snapshots and compaction: the leader sends a Snapshot when a follower needs compacted
// entries, the follower restores from it (state and configuration), and restarts keep it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, addLearner, autoChange } from './harness.js';
import { makeMessage } from '../../src/core/raft.js';
import { RaftError } from '../../src/core/errors.js';
import { MessageType, ProgressState, type Message, type Snapshot } from '../../src/core/types.js';

/** Node 3 misses c, d, e behind a partition; the leader (and node 2) compact past them. */
function lagBehindCompaction(): Cluster {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  c.propose(1, 'b');
  c.isolate(3);
  for (const v of ['c', 'd', 'e']) c.propose(1, v);
  c.snapshotAndCompact(1);
  c.snapshotAndCompact(2);
  c.heal();
  return c;
}

test('a follower that needs compacted entries gets a Snapshot and restores from it', () => {
  const c = lagBehindCompaction();
  const snapIndex = c.get(1).storage.snapshot().metadata.index;
  assert.equal(c.get(1).storage.firstIndex(), snapIndex + 1);
  const received: Snapshot[] = [];
  c.onReady = (n, rd) => {
    if (n.id === 3 && rd.snapshot) received.push(rd.snapshot);
  };
  c.clearSent();
  c.propose(1, 'f'); // the Append is rejected; the leader finds the entries compacted
  assert.equal(
    c.countSent(MessageType.Snapshot, (m) => m.from === 1 && m.to === 3),
    1,
  );
  assert.equal(received.length, 1);
  assert.equal(received[0]!.metadata.index, snapIndex);
  assert.equal(c.get(3).storage.snapshot().metadata.index, snapIndex);
  assert.equal(c.get(3).storage.firstIndex(), snapIndex + 1);
  assert.deepEqual(c.data(3), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.equal(c.committed(3), c.committed(1));
  assert.equal(c.status(1).progress.find((p) => p.id === 3)!.state, ProgressState.Replicate);
  // Followers that were not behind never get a snapshot.
  assert.equal(
    c.countSent(MessageType.Snapshot, (m) => m.to === 2),
    0,
  );
});

test('the snapshot carries the configuration to the follower', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.isolate(3);
  c.proposeConfChange(1, autoChange(addLearner(4)));
  c.propose(1, 'x');
  c.snapshotAndCompact(1);
  c.heal();
  c.propose(1, 'y');
  assert.deepEqual(c.get(3).node.confState().learners, [4]);
  assert.deepEqual(c.get(3).storage.snapshot().metadata.confState.learners, [4]);
});

test('a follower restored from a snapshot keeps it across a restart', () => {
  const c = lagBehindCompaction();
  c.propose(1, 'f');
  const before = c.logTerms(3);
  const hs = c.status(3).hardState;
  c.crash(3);
  c.restart(3);
  assert.deepEqual(c.status(3).hardState, hs);
  assert.deepEqual(c.logTerms(3), before);
  c.tick(1, 2);
  assert.deepEqual(c.data(3), ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('a leader that compacted still replicates from its log to followers that are not behind', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  c.snapshotAndCompact(1);
  c.clearSent();
  c.propose(1, 'b');
  assert.equal(c.countSent(MessageType.Snapshot), 0);
  assert.deepEqual(c.data(2), ['a', 'b']);
});

test('compaction: entries at or below the snapshot are gone from storage and from the core', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  const [ia, ib, ic] = ['a', 'b', 'c'].map((v) => c.propose(1, v)) as [number, number, number];
  const idx = c.snapshotAndCompact(1, ib);
  assert.equal(idx, ic, 'the snapshot is taken at the applied index');
  const s = c.get(1).storage;
  assert.equal(s.snapshot().metadata.index, ic);
  assert.equal(s.firstIndex(), ib + 1);
  assert.throws(
    () => s.term(ia),
    (e: unknown) => e instanceof RaftError && e.code === 'compacted',
  );
  assert.throws(
    () => s.entries(ib, ic + 1, Infinity),
    (e: unknown) => e instanceof RaftError && e.code === 'compacted',
  );
  assert.equal(s.term(ib), c.get(1).node.term); // the compaction point keeps its term
  assert.equal(s.entries(ic, ic + 1, Infinity).length, 1, 'entries above the compaction point stay readable');
  assert.equal(c.get(1).node.inspectLog().firstIndex, ib + 1);
  assert.equal(c.get(1).node.inspectLog().term(ia), 0);
});

test('a snapshot that is not newer than the commit index is ignored', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  for (const v of ['a', 'b', 'c']) c.propose(1, v);
  const term = c.get(2).node.term;
  const stale: Snapshot = { metadata: { index: 2, term, confState: c.get(1).node.confState() }, data: new Uint8Array(0) };
  let gotSnapshot = false;
  c.onReady = (n, rd) => {
    if (n.id === 2 && rd.snapshot) gotSnapshot = true;
  };
  c.clearSent();
  c.get(2).node.step(makeMessage({ type: MessageType.Snapshot, from: 1, to: 2, term, snapshot: stale }));
  c.stabilize();
  assert.equal(gotSnapshot, false);
  const resp = c.sent.filter((m) => m.type === MessageType.AppendResponse && m.from === 2);
  assert.equal(resp.length, 1);
  assert.equal(resp[0]!.index, c.committed(2));
  assert.deepEqual(c.data(2), ['a', 'b', 'c']);
});

test('a follower that already has the snapshot entry only advances its commit index', () => {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  // Node 2 gets the entries but not the commit.
  c.filters.push((m) => m.to === 2 && ((m.type === MessageType.Append && m.entries.length === 0) || m.type === MessageType.Heartbeat));
  for (const v of ['a', 'b']) c.propose(1, v);
  c.heal();
  const last = c.lastIndex(1);
  const first = c.get(2).storage.firstIndex();
  assert.equal(c.lastIndex(2), last);
  assert.ok(c.committed(2) < last);
  const term = c.get(2).node.term;
  let gotSnapshot = false;
  c.onReady = (n, rd) => {
    if (n.id === 2 && rd.snapshot) gotSnapshot = true;
  };
  const snap: Snapshot = { metadata: { index: last, term, confState: c.get(1).node.confState() }, data: new Uint8Array(0) };
  c.get(2).node.step(makeMessage({ type: MessageType.Snapshot, from: 1, to: 2, term, snapshot: snap }));
  c.stabilize();
  assert.equal(gotSnapshot, false);
  assert.equal(c.committed(2), last);
  assert.deepEqual(c.data(2), ['a', 'b']);
  assert.equal(c.get(2).storage.firstIndex(), first, 'the log was kept');
});

test('a failed snapshot send (reportSnapshot false) goes back to probe and is retried', () => {
  const c = lagBehindCompaction();
  c.holdFilter = (m) => m.type === MessageType.Snapshot;
  c.propose(1, 'f');
  assert.equal(c.held.length, 1);
  assert.equal(c.status(1).progress.find((p) => p.id === 3)!.state, ProgressState.Snapshot);
  c.held = []; // lost
  c.get(1).node.reportSnapshot(3, false);
  assert.equal(c.status(1).progress.find((p) => p.id === 3)!.state, ProgressState.Probe);
  c.holdFilter = undefined;
  c.tick(1, 2);
  assert.deepEqual(c.data(3), ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('a learner that needs compacted entries gets a snapshot too', () => {
  const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
  c.campaign(1);
  c.isolate(4);
  c.propose(1, 'a');
  c.propose(1, 'b');
  c.snapshotAndCompact(1);
  c.heal();
  c.clearSent();
  c.propose(1, 'c');
  assert.equal(
    c.countSent(MessageType.Snapshot, (m) => m.to === 4),
    1,
  );
  assert.deepEqual(c.data(4), ['a', 'b', 'c']);
});

test('a follower cut off while its in-flight window filled up and the leader compacted past it gets a snapshot', () => {
  // The classic reason for snapshots: a partition under load. Node 2's window (4 Appends of one
  // entry) fills with lost messages; the leader keeps committing with node 3 and compacts.
  const c = new Cluster({ voters: [1, 2, 3], config: { maxInflightMsgs: 4, maxSizePerMsg: 1 } });
  c.campaign(1);
  c.propose(1, 'a');
  c.isolate(2);
  const want = ['a'];
  for (let i = 0; i < 10; i++) {
    want.push(`p${i}`);
    c.propose(1, `p${i}`);
  }
  assert.equal(c.status(1).progress.find((p) => p.id === 2)!.inflight, 4);
  c.snapshotAndCompact(1);
  c.heal();
  c.tick(1, 3);
  want.push('after');
  c.propose(1, 'after');
  c.tick(1, 3);
  assert.deepEqual(c.data(2), want);
});

/**
 * Node 3 misses entries behind a partition; the leader compacts at a base, then applies more
 * (a learner is added after the base, so the configuration differs too) and the link heals. The
 * Snapshot the core sends (naming the base) is held.
 */
function heldSnapshotPastBase(): { c: Cluster; base: number; fresh: Snapshot; sent: Message } {
  const c = new Cluster({ voters: [1, 2, 3] });
  c.campaign(1);
  c.propose(1, 'a');
  c.isolate(3);
  for (const v of ['b', 'c']) c.propose(1, v);
  const base = c.snapshotAndCompact(1);
  c.proposeConfChange(1, autoChange(addLearner(4)));
  for (const v of ['d', 'e']) c.propose(1, v);
  // What a host whose log snapshots hold no state sends instead: the state as of its applied
  // index, with that index's term and configuration.
  const leader = c.get(1);
  const at = leader.node.inspectLog().applied;
  const fresh: Snapshot = {
    metadata: { index: at, term: leader.storage.term(at), confState: leader.node.confState() },
    data: new TextEncoder().encode(JSON.stringify(c.data(1))),
  };
  c.heal();
  c.holdFilter = (m) => m.type === MessageType.Snapshot;
  c.propose(1, 'f');
  assert.equal(c.held.length, 1);
  const sent = c.held[0]!;
  c.held = [];
  c.holdFilter = undefined;
  assert.equal(sent.snapshot!.metadata.index, base, 'the core asks for its log base');
  const pr = c.status(1).progress.find((p) => p.id === 3)!;
  assert.equal(pr.state, ProgressState.Snapshot);
  assert.ok(fresh.metadata.index > base);
  return { c, base, fresh, sent };
}

test('a snapshot sent at a later index than the base the core asked for is acknowledged at that index, and replication goes on after it', () => {
  const { c, fresh, sent } = heldSnapshotPastBase();
  c.held = [{ ...sent, snapshot: fresh }];
  c.clearSent();
  c.release();
  c.stabilize();
  assert.ok(
    c.sent.some((m) => m.type === MessageType.AppendResponse && m.from === 3 && !m.reject && m.index === fresh.metadata.index),
    'the follower acknowledges the index of the snapshot it installed',
  );
  assert.equal(c.get(3).storage.snapshot().metadata.index, fresh.metadata.index);
  assert.deepEqual(c.get(3).node.confState().learners, [4], "the configuration as of the snapshot's index");
  const pr = c.status(1).progress.find((p) => p.id === 3)!;
  assert.equal(pr.state, ProgressState.Replicate, 'an acknowledgement past the pending snapshot ends the snapshot state');
  assert.equal(pr.match, c.lastIndex(1));
  assert.deepEqual(c.data(3), c.data(1));
  assert.deepEqual(c.data(3), ['a', 'b', 'c', 'd', 'e', 'f']);
  c.get(1).node.reportSnapshot(3, true); // the transport's report, late: changes nothing
  c.propose(1, 'g');
  assert.deepEqual(c.data(3), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  assert.equal(c.status(1).progress.find((p) => p.id === 3)!.state, ProgressState.Replicate);
});

test('a later-index snapshot whose transport report arrives before the follower acknowledges it: probing from the base, then the acknowledgement wins', () => {
  const { c, base, fresh, sent } = heldSnapshotPastBase();
  // The follower installs it; its acknowledgement is held back.
  c.holdFilter = (m) => m.type === MessageType.AppendResponse && m.from === 3;
  c.get(3).node.step({ ...sent, snapshot: fresh });
  c.stabilize();
  assert.equal(c.held.length, 1);
  c.get(1).node.reportSnapshot(3, true);
  let pr = c.status(1).progress.find((p) => p.id === 3)!;
  assert.equal(pr.state, ProgressState.Probe);
  assert.equal(pr.next, base + 1, 'probes from the base the core knows of');
  // A probe from the base reaches the follower, which answers with its commit index.
  c.tick(1, 2);
  c.holdFilter = undefined;
  c.release();
  c.stabilize();
  c.tick(1, 2);
  pr = c.status(1).progress.find((p) => p.id === 3)!;
  assert.equal(pr.state, ProgressState.Replicate);
  assert.equal(pr.match, c.lastIndex(1));
  assert.equal(c.get(3).storage.snapshot().metadata.index, fresh.metadata.index);
  assert.equal(
    c.countSent(MessageType.Snapshot, (m) => m.to === 3),
    0,
    'no second snapshot was sent',
  );
  assert.deepEqual(c.data(3), ['a', 'b', 'c', 'd', 'e', 'f']);
});
