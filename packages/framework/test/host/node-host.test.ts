import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatedLogStore, HostCluster, RecordingLogStore, SlowLogStore, clusterWithStores, enc, lagOneFollowerBehindASnapshot, waitFor } from './fixtures.js';
import { HostError } from '../../src/host/errors.js';
import { MessageType, Role } from '../../src/core/types.js';
import type { Envelope } from '../../src/transport/transport.js';
import { QUIET_BEAT_ELECTIONS } from '../../src/host/raft-group.js';
import { ConfChangeTransition, ConfChangeType } from '../../src/core/confchange/types.js';

test('three hosts elect a leader, replicate proposals and answer with the result and index', async () => {
  const c = new HostCluster([1, 2, 3]);
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const results = await Promise.all(['a', 'b', 'c'].map((s) => leader.host.propose('g', enc(s))));
    assert.deepEqual(results.map((r) => r.result).sort(), [1, 2, 3]);
    assert.ok(results.every((r) => r.index > 1));
    await waitFor(() => [1, 2, 3].every((id) => c.get(id).machines.get('g')!.items.length === 3), 3000, 'replication');
    const lists = [1, 2, 3].map((id) => c.get(id).machines.get('g')!.items.join());
    assert.equal(new Set(lists).size, 1);
    const text = await leader.host.metrics.registry.metrics();
    assert.match(text, /raftkit_proposals_total\{group="g"\} 3/);
    assert.match(text, /raftkit_peer_bytes_sent_total [1-9]/);
    assert.match(text, /raftkit_log_write_seconds_count [1-9]/);
  } finally {
    await c.stopAll();
  }
});

test('a follower refuses a proposal with the leader hint, and serves a linearizable read', async () => {
  const c = new HostCluster([1, 2, 3]);
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const follower = c.get([1, 2, 3].find((id) => id !== leader.id)!);
    await waitFor(() => follower.host.leaderOf('g') === leader.id, 3000, 'the follower to learn the leader');
    await assert.rejects(follower.host.propose('g', enc('x')), (e: unknown) => e instanceof HostError && e.code === 'not_leader' && e.leader === leader.id);
    const w = await leader.host.propose('g', enc('w'));
    const readIndex = await follower.host.linearizableRead('g');
    assert.ok(readIndex >= w.index);
    assert.deepEqual(follower.machines.get('g')!.items, ['w']);
  } finally {
    await c.stopAll();
  }
});

test('unknown groups and bad group names are clear errors', async () => {
  const c = new HostCluster([1]);
  await c.startAll();
  try {
    await assert.rejects(
      async () => c.get(1).host.propose('nope', enc('x')),
      (e: unknown) => e instanceof HostError && e.code === 'unknown_group',
    );
    await assert.rejects(c.get(1).host.createGroup('bad name', { type: 'list', voters: [1] }), (e: unknown) => e instanceof HostError && e.code === 'bad_request');
    await c.createGroup('g');
    await assert.rejects(c.get(1).host.createGroup('g', { type: 'list', voters: [1] }), (e: unknown) => e instanceof HostError && e.code === 'group_exists');
  } finally {
    await c.stopAll();
  }
});

test('a graceful stop hands leadership over; a restarted host recovers its log and state', async () => {
  const c = new HostCluster([1, 2, 3]);
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    for (let i = 0; i < 20; i++) await leader.host.propose('g', enc(`v${i}`));
    await leader.host.stop();
    const next = await c.waitLeader('g', 2000);
    assert.notEqual(next.id, leader.id);
    await next.host.propose('g', enc('after'));
    const restarted = await c.start(leader.id);
    await waitFor(() => restarted.machines.get('g')?.items.length === 21, 3000, 'the restarted host to catch up');
    assert.equal(restarted.machines.get('g')!.items[20], 'after');
  } finally {
    await c.stopAll();
  }
});

test('a follower that missed compacted entries is caught up by a snapshot', async () => {
  const c = new HostCluster([1, 2, 3], { snapshotEntries: 20, retainEntries: 5 });
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const lagging = await lagOneFollowerBehindASnapshot(c, 'g', leader, 100);
    await waitFor(() => c.get(lagging).machines.get('g')!.items.length === 100, 5000, 'the lagging follower to catch up');
    assert.deepEqual(c.get(lagging).machines.get('g')!.items, leader.machines.get('g')!.items);
  } finally {
    await c.stopAll();
  }
});

test('by size: a snapshot once the applied entries hold --snapshot-bytes, at most retainBytes of log kept behind it, and a lagging follower still caught up', async () => {
  const c = new HostCluster([1, 2, 3], { snapshotEntries: 1_000_000, retainEntries: 1_000_000, snapshotBytes: 4096, retainBytes: 2048 });
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const lagging = [1, 2, 3].find((id) => id !== leader.id)!;
    const others = [1, 2, 3].filter((id) => id !== lagging);
    c.hub.isolate(lagging, others);
    const value = 'x'.repeat(200);
    for (let i = 0; i < 100; i++) await leader.host.propose('g', enc(`${i}:${value}`));
    const s = leader.host.groupStatus('g');
    // ~20 KB applied: snapshots by size although the count interval is never reached.
    assert.ok(s.firstIndex > 50, `the leader compacted its log by size (firstIndex ${s.firstIndex})`);
    assert.ok(s.lastIndex - s.firstIndex + 1 < 40, `no more than the retained bytes plus one interval are kept (${s.lastIndex - s.firstIndex + 1} entries)`);
    c.hub.isolate(lagging, others, false);
    await waitFor(() => c.get(lagging).machines.get('g')!.items.length === 100, 5000, 'the lagging follower to catch up');
    assert.deepEqual(c.get(lagging).machines.get('g')!.items, leader.machines.get('g')!.items);
  } finally {
    await c.stopAll();
  }
});

test('idle groups quiesce and wake on a proposal', async () => {
  const c = new HostCluster([1, 2, 3], { quiesceTicks: 20 });
  await c.startAll();
  try {
    const names = Array.from({ length: 20 }, (_, i) => `q${i}`);
    for (const n of names) await c.createGroup(n);
    for (const n of names) await c.waitLeader(n);
    await waitFor(
      () =>
        [1, 2, 3].every((id) =>
          c
            .get(id)
            .host.status()
            .groups.every((g) => g.quiesced),
        ),
      5000,
      'every group to quiesce',
    );
    const leader = c.leaderOf('q7')!;
    const r = await leader.host.propose('q7', enc('wake'));
    assert.equal(r.result, 1);
    assert.equal(leader.host.groupStatus('q7').role, Role.Leader);
    // Still one leader per group, unchanged by quiescing.
    for (const n of names) assert.ok(c.leaderOf(n));
  } finally {
    await c.stopAll();
  }
});

test('a quiesced group keeps a live leader without waking, and notices a dead one in bounded time', async () => {
  const c = new HostCluster([1, 2, 3], { quiesceTicks: 20 });
  await c.startAll();
  try {
    await c.createGroup('q');
    const leader = await c.waitLeader('q');
    await leader.host.propose('q', enc('x'));
    const all = () => [1, 2, 3].map((id) => c.get(id).host.groupStatus('q'));
    await waitFor(() => all().every((g) => g.quiesced), 5000, 'the group to quiesce');
    const term = leader.host.groupStatus('q').term;
    // Quiet beats from a live leader (every QUIET_BEAT_ELECTIONS election timeouts) keep the
    // followers asleep: nobody wakes or campaigns over many beat intervals.
    await new Promise((r) => setTimeout(r, 12 * QUIET_BEAT_ELECTIONS * 10 * 5));
    assert.ok(
      all().every((g) => g.quiesced && g.term === term && g.leader === leader.id),
      JSON.stringify(all()),
    );

    // The leader dies (cut off from everyone) while the group is quiet; no request reaches it.
    const others = c.ids.filter((id) => id !== leader.id);
    c.hub.isolate(leader.id, others);
    const t0 = Date.now();
    await waitFor(() => others.every((id) => c.get(id).host.groupStatus('q').leader !== leader.id), 5000, 'the followers to stop reporting the dead leader');
    const noticedMs = Date.now() - t0;
    await waitFor(() => others.some((id) => c.get(id).host.groupStatus('q').role === Role.Leader), 5000, 'a new leader among the survivors');
    // The bound: (QUIET_BEAT_ELECTIONS + 2) election timeouts of silence, then an election
    // (50 ms election timeouts here); generous for a busy machine.
    assert.ok(noticedMs < 20 * (QUIET_BEAT_ELECTIONS + 4) * 10 * 5, `noticed after ${noticedMs} ms`);
  } finally {
    await c.stopAll();
  }
});

test('linearizable reads from every member at once all complete (read contexts never collide at the leader)', async () => {
  const c = new HostCluster([1, 2, 3], { requestTimeoutMs: 2000 });
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    await leader.host.propose('g', enc('w'));
    for (const id of [1, 2, 3]) await waitFor(() => c.get(id).host.leaderOf('g') === leader.id, 3000, 'every member to know the leader');
    // Each member numbers its reads 1, 2, 3...: without the node id in the context, the leader
    // would take the second "read 1" for the first and never answer it.
    const reads = [1, 2, 3].flatMap((id) => Array.from({ length: 10 }, () => c.get(id).host.linearizableRead('g')));
    const indexes = await Promise.all(reads);
    assert.equal(indexes.length, 30);
    assert.ok(indexes.every((i) => i >= 2));
  } finally {
    await c.stopAll();
  }
});

test('committed entries already durable are applied while a later write is in flight; none is applied before its own write is durable', async () => {
  const { c, stores } = clusterWithStores([1, 2, 3], () => new SlowLogStore(3));
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const store = stores.get(leader.id)!;
    // The state machine notes when each index is applied.
    const applied = new Map<number, number>();
    const machine = leader.machines.get('g')!;
    const apply = machine.apply.bind(machine);
    machine.apply = (entries) => {
      for (const e of entries) applied.set(e.index, performance.now());
      return apply(entries);
    };
    // Proposals arriving on their own schedule (not only when earlier ones are answered) keep
    // a write in flight when commits come in.
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 160; i++) {
      pending.push(leader.host.propose('g', enc(`p${i}`)));
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    const durableAt = (index: number) => store.events.find((e) => e.kind === 'durable' && e.lastIndex >= index)?.at ?? Infinity;
    let overlapped = 0;
    for (const [index, at] of applied) {
      assert.ok(durableAt(index) <= at, `index ${index} was applied before the leader's write of it was durable`);
      // Applied while some later write (issued before, durable after) was in flight.
      const inFlight = store.events.some((e) => e.kind === 'issued' && e.at < at && e.lastIndex > index && durableAt(e.lastIndex) > at);
      if (inFlight) overlapped++;
    }
    assert.ok(applied.size >= 160, `applied ${applied.size}`);
    assert.ok(overlapped > 0, 'some entries were applied while a later write was still in flight');
  } finally {
    await c.stopAll();
  }
});

test('a single-member group applies nothing before its write is durable', async () => {
  const store = new SlowLogStore(20);
  const c = new HostCluster([1], {}, () => store);
  await c.startAll();
  try {
    await c.createGroup('g');
    await c.waitLeader('g');
    const machine = c.get(1).machines.get('g')!;
    const p = c.get(1).host.propose('g', enc('x'));
    const issuedAt = performance.now();
    await waitFor(() => store.events.some((e) => e.kind === 'issued' && e.lastIndex >= 2 && e.at >= issuedAt - 1), 2000, 'the write of the entry');
    assert.deepEqual(machine.items, [], 'not applied while its write is in flight');
    const r = await p;
    assert.deepEqual(machine.items, ['x']);
    assert.ok(store.events.some((e) => e.kind === 'durable' && e.lastIndex >= r.index));
  } finally {
    await c.stopAll();
  }
});

test('a leader applies an entry a follower commits while its own later write is still in flight', async () => {
  const { c, stores } = clusterWithStores([1, 2, 3], () => new GatedLogStore());
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const [f1, f2] = [1, 2, 3].filter((id) => id !== leader.id).map((id) => stores.get(id)!);
    await leader.host.propose('g', enc('a'));
    // 'b' becomes durable on the leader only: the followers' writes are held.
    f1!.hold();
    f2!.hold();
    let bDone = false;
    const b = leader.host.propose('g', enc('b')).then((r) => ((bDone = true), r));
    await new Promise((r) => setTimeout(r, 30));
    // The leader's next write ('c') is held too; then one follower's write of 'b' completes.
    stores.get(leader.id)!.hold();
    let cDone = false;
    const cp = leader.host.propose('g', enc('c')).then((r) => ((cDone = true), r));
    await new Promise((r) => setTimeout(r, 30));
    f1!.release();
    await waitFor(() => bDone, 2000, "'b' to be answered while the leader's write of 'c' is held");
    assert.deepEqual(leader.machines.get('g')!.items, ['a', 'b']);
    assert.equal(cDone, false, "'c' waits for the leader's own write");
    stores.get(leader.id)!.release();
    f2!.release();
    assert.equal((await cp).result, 3);
    assert.equal((await b).result, 2);
  } finally {
    for (const s of stores.values()) s.release();
    await c.stopAll();
  }
});

test('a commit index alone is not written on its own: it goes with the next write, the idle flush or the graceful stop', async () => {
  const { c, stores } = clusterWithStores([1, 2, 3], () => new RecordingLogStore(), { quiesceTicks: 0 });
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const follower = [1, 2, 3].find((id) => id !== leader.id)!;
    const marks = [...stores.values()].map((s) => s.batches.length);
    let last = 0;
    for (let i = 0; i < 20; i++) last = (await leader.host.propose('g', enc(`v${i}`))).index;
    const commitOnly = (id: number, from: number) =>
      stores
        .get(id)!
        .batches.slice(from)
        .filter((b) => b.every((w) => w.entries.length === 0 && !w.snapshot && !w.compact && w.hardState)).length;
    // Each proposal moves the commit index on every member; none of that is a transaction of its own.
    for (const [i, id] of [...stores.keys()].entries()) assert.ok(commitOnly(id, marks[i]!) <= 3, `node ${id} wrote ${commitOnly(id, marks[i]!)} commit-only batches`);
    // The idle flush (every election timeout: 10 ticks of 5 ms here) saves the latest commit.
    const savedCommit = (id: number) =>
      Math.max(
        0,
        ...stores
          .get(id)!
          .batches.flat()
          .filter((w) => w.group === 'g' && w.hardState)
          .map((w) => w.hardState!.commit),
      );
    await waitFor(() => savedCommit(follower) >= last && savedCommit(leader.id) >= last, 2000, 'the deferred commit index to be saved');
    for (let i = 0; i < 3; i++) last = (await leader.host.propose('g', enc(`w${i}`))).index;
    await leader.host.stop();
    assert.ok(savedCommit(leader.id) >= last, `a graceful stop saves the commit index (${savedCommit(leader.id)} < ${last})`);
  } finally {
    await c.stopAll();
  }
});

test('once a membership change is answered, the next one is accepted (it is not answered before the core applies it)', async () => {
  const c = new HostCluster([1, 2, 3], {}, () => new SlowLogStore(15));
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    // Writes keep flowing, so membership changes commit while later writes are in flight.
    let stop = false;
    const load = (async () => {
      while (!stop) {
        await leader.host.propose('g', enc('x')).catch(() => undefined);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const change = (type: ConfChangeType, nodeId: number) => leader.host.proposeConfChange('g', { transition: ConfChangeTransition.Auto, changes: [{ type, nodeId }] });
    for (let i = 0; i < 5; i++) {
      await change(ConfChangeType.AddLearner, 4);
      await change(ConfChangeType.RemoveNode, 4);
    }
    stop = true;
    await load;
    assert.deepEqual(leader.host.groupStatus('g').members.learners, []);
  } finally {
    await c.stopAll();
  }
});

test('a group whose only voter is this node leads at once, at creation and after a restart (no election timeout)', async () => {
  // An election timeout of 20 ticks of 50 ms: at least a second.
  const c = new HostCluster([1], { tickMs: 50, electionTick: 20 });
  await c.startAll();
  try {
    let t0 = performance.now();
    await c.createGroup('solo');
    await c.waitLeader('solo', 5000);
    assert.ok(performance.now() - t0 < 500, `led after ${Math.round(performance.now() - t0)} ms`);
    await c.get(1).host.propose('solo', enc('a'));
    await c.get(1).host.stop();
    t0 = performance.now();
    const s = await c.start(1);
    await c.waitLeader('solo', 5000);
    assert.ok(performance.now() - t0 < 500, `led again after ${Math.round(performance.now() - t0)} ms`);
    assert.equal((await s.host.propose('solo', enc('b'))).result, 2);
  } finally {
    await c.stopAll();
  }
});

test('a round that writes nothing still sends its messages, whether it commits a few entries (after answering) or many', async () => {
  const c = new HostCluster([1, 2, 3]);
  await c.startAll();
  try {
    await c.createGroup('g');
    const leader = await c.waitLeader('g');
    const transport = (leader.host as unknown as { opts: { transport: { send(b: Envelope[]): void } } }).opts.transport;
    const sent: Envelope[] = [];
    const send = transport.send.bind(transport);
    transport.send = (batch) => {
      sent.push(...batch);
      send(batch);
    };
    const followers = [1, 2, 3].filter((id) => id !== leader.id);
    // The commit index each follower was told by an Append: the acknowledgement of a batch moves
    // the commit in a round with no write of its own, which must still tell the followers.
    const toldCommit = (id: number) => Math.max(0, ...sent.filter((e) => e.message.to === id && e.message.type === MessageType.Append).map((e) => e.message.commit));
    for (const size of [3, 100]) {
      const results = await Promise.all(Array.from({ length: size }, (_, i) => leader.host.propose('g', enc(`${size}-${i}`))));
      const last = Math.max(...results.map((r) => r.index));
      await waitFor(() => followers.every((id) => toldCommit(id) >= last), 3000, `the commit index of a batch of ${size} sent to the followers`);
    }
  } finally {
    await c.stopAll();
  }
});
