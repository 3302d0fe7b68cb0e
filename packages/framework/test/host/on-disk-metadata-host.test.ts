// NodeHost with an on-disk machine that has sync() (test/rsm/fake-disk-machine.ts, { sync: true })
// over the memory transport: its log snapshots hold no state (sync() before the base moves, no
// saveSnapshot), a lagging follower gets a full snapshot made for it at the leader's applied
// index (shared by two followers, deleted after a while), and a restart from a metadata-only
// base runs only the entries after the machine's own index, or refuses a machine older than it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStateMachineManager } from '../../src/fsm/index.js';
import { NodeHost, type NodeHostOptions } from '../../src/host/node-host.js';
import { Role, type NodeId } from '../../src/core/types.js';
import { DISK_METADATA_MAGIC, DISK_SNAPSHOT_MAGIC } from '../../src/rsm/disk-snapshot.js';
import { DuplicateCommand, unwrapCommandResult, type StateMachineManager } from '../../src/rsm/index.js';
import type { GroupWrite } from '../../src/storage/log-store.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { MemoryHub, MemoryTransport, memoryAddress } from '../../src/transport/memory-transport.js';
import { FakeDiskMachine, writeDiskState, type DiskState } from '../rsm/fake-disk-machine.js';
import { waitFor } from './fixtures.js';

interface Node {
  id: NodeId;
  host: NodeHost;
  store: MemoryLogStore;
  snapshots: SnapshotStore;
  root: string;
  machines: Map<string, FakeDiskMachine>;
  managers: Map<string, StateMachineManager>;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-disk-meta-host-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts (or restarts, with the log store and snapshot store given) host `id`, its machines with sync(). */
async function startHost(
  hub: MemoryHub,
  ids: NodeId[],
  id: NodeId,
  root: string,
  keep: { store?: MemoryLogStore; snapshots?: SnapshotStore },
  extra: Partial<NodeHostOptions> = {},
): Promise<Node> {
  const transport = new MemoryTransport(hub, { selfId: id });
  for (const peer of ids) if (peer !== id) transport.setPeer(peer, memoryAddress(peer));
  const machines = new Map<string, FakeDiskMachine>();
  const managers = new Map<string, StateMachineManager>();
  const store = keep.store ?? new MemoryLogStore();
  const snapshots = keep.snapshots ?? new SnapshotStore(join(root, 'data'));
  const host = new NodeHost({
    id,
    logStore: store,
    snapshots,
    transport,
    stateMachines: (group) => {
      const fake = new FakeDiskMachine({ sync: true });
      const m = createStateMachineManager(fake);
      machines.set(group, fake);
      managers.set(group, m);
      return m;
    },
    machineDir: (group) => join(root, 'machines', group),
    tickMs: 5,
    electionTick: 10,
    heartbeatTick: 1,
    requestTimeoutMs: 3000,
    ...extra,
  });
  await host.start();
  return { id, host, store, snapshots, root, machines, managers };
}

async function set(n: Node, key: string, value: string): Promise<number> {
  const r = await n.host.propose('g', n.managers.get('g')!.prepareCommand('set', { key, value }));
  unwrapCommandResult(r.result instanceof DuplicateCommand ? r.result.result : r.result);
  return r.index;
}

async function waitLeader(nodes: Node[]): Promise<Node> {
  await waitFor(() => nodes.some((n) => n.host.groupStatus('g').role === Role.Leader), 5000, 'a leader');
  return nodes.find((n) => n.host.groupStatus('g').role === Role.Leader)!;
}

/** Notes, for each compaction the host writes, the log base and the index the machine had synced then. */
class CompactionLog extends MemoryLogStore {
  readonly compactions: { base: number; synced: number }[] = [];
  machine: FakeDiskMachine | undefined;
  override write(batch: GroupWrite[]): Promise<void> {
    for (const w of batch) if (w.compact) this.compactions.push({ base: w.compact.snapshot.index, synced: this.machine?.synced ?? -1 });
    return super.write(batch);
  }
}

test('log snapshots of a machine with sync() hold no state: sync() before each base moves, no saveSnapshot, the log compacted', async (t) => {
  const root = await tempDir(t);
  const store = new CompactionLog();
  const n = await startHost(new MemoryHub(), [1], 1, root, { store }, { snapshotEntries: 10, retainEntries: 2 });
  t.after(() => n.host.stop());
  await n.host.createGroup('g', { type: 'fake-disk', voters: [1] });
  const fake = n.machines.get('g')!;
  store.machine = fake;
  await waitLeader([n]);
  let last = 0;
  for (let i = 0; i < 40; i++) last = await set(n, `k${i}`, `v${i}`);
  // A periodic snapshot may be under way: snapshotNow answers with it; the next one is at `last`.
  let at = await n.host.snapshotNow('g');
  if (at < last) at = await n.host.snapshotNow('g');
  assert.equal(at, last);
  assert.ok(store.compactions.length >= 2, `${store.compactions.length} compactions`);
  for (const c of store.compactions) assert.ok(c.synced >= c.base, `the base moved to ${c.base} with the machine synced at ${c.synced}`);
  assert.ok(!fake.events.includes('prepareSnapshot') && !fake.events.includes('saveSnapshot'), `events: ${fake.events.join(', ')}`);
  assert.ok(fake.events.includes('sync'));
  assert.equal(n.host.groupStatus('g').firstIndex, last - 2 + 1, 'the log was compacted behind the base');
  const files = await n.snapshots.list('g');
  const base = files.at(-1)!;
  assert.equal(base.index, last);
  const data = await n.snapshots.load('g', base.index, base.term);
  assert.ok(Buffer.from(data.subarray(0, DISK_METADATA_MAGIC.length)).equals(DISK_METADATA_MAGIC), 'the base holds no state');
  assert.ok(data.length < 4096, `the base is ${data.length} bytes`);
});

test('lagging followers get a full snapshot made for them at the leader applied index, past its base; both share it; it is deleted later', async (t) => {
  const ids = [1, 2, 3, 4, 5];
  const hub = new MemoryHub();
  const nodes: Node[] = [];
  for (const id of ids) nodes.push(await startHost(hub, ids, id, await tempDir(t), {}, { snapshotEntries: 1000, retainEntries: 5, followerSnapshotTtlMs: 1500 }));
  t.after(async () => {
    for (const n of nodes) await n.host.stop();
  });
  for (const n of nodes) await n.host.createGroup('g', { type: 'fake-disk', voters: ids });
  const leader = await waitLeader(nodes);
  const lagging = nodes.filter((n) => n !== leader).slice(0, 2);
  const others = ids.filter((id) => !lagging.some((l) => l.id === id));
  for (const l of lagging) hub.isolate(l.id, others);
  for (let i = 0; i < 30; i++) await set(leader, `k${i}`, `v${i}`);
  const base = await leader.host.snapshotNow('g');
  let applied = 0;
  for (let i = 30; i < 40; i++) applied = await set(leader, `k${i}`, `v${i}`);
  assert.ok(leader.host.groupStatus('g').firstIndex > 20, 'the leader compacted its log past the lagging followers');
  const want = leader.machines.get('g')!;
  assert.ok(!want.events.includes('saveSnapshot'), 'no full snapshot before a follower needs one');

  const restored = new Map<NodeId, number[]>();
  for (const l of lagging) l.managers.get('g')!.onRestored((index) => restored.set(l.id, [...(restored.get(l.id) ?? []), index]));
  for (const l of lagging) hub.isolate(l.id, others, false);
  // The machine holds the state before the restore is over (and its listeners told).
  for (const l of lagging) await waitFor(() => restored.has(l.id) && l.machines.get('g')!.state.values['k39'] === 'v39', 5000, `node ${l.id} to catch up`);

  for (const l of lagging) {
    const got = l.machines.get('g')!;
    assert.deepEqual(restored.get(l.id), [applied], `node ${l.id} installed the snapshot at the leader's applied index ${applied} (its base: ${base})`);
    assert.ok(applied > base);
    assert.deepEqual(
      got.events.filter((e) => e === 'recoverFromSnapshot'),
      ['recoverFromSnapshot'],
    );
    assert.deepEqual(got.calls, [], 'nothing left to apply after the snapshot');
    assert.deepEqual(got.state, want.state);
  }
  assert.deepEqual(
    want.events.filter((e) => e === 'saveSnapshot'),
    ['saveSnapshot'],
    'one full snapshot, shared by both followers',
  );
  const full = (await leader.snapshots.list('g')).find((s) => s.index === applied);
  assert.ok(full, 'the full snapshot is kept for a while');
  const data = await leader.snapshots.load('g', full.index, full.term);
  assert.ok(Buffer.from(data.subarray(0, DISK_SNAPSHOT_MAGIC.length)).equals(DISK_SNAPSHOT_MAGIC));
  const deadline = Date.now() + 5000;
  while ((await leader.snapshots.list('g')).some((s) => s.index === applied) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    (await leader.snapshots.list('g')).map((s) => s.index),
    [base],
    'the log base stays',
  );
  // And the followers go on by the log.
  const next = await set(leader, 'after', 'x');
  for (const l of lagging) await waitFor(() => l.machines.get('g')!.calls.includes(next), 3000, `node ${l.id} to apply ${next}`);
});

test('restart from a metadata-only base: runs only the entries after the machine index; refuses a machine older than the base', async (t) => {
  const root = await tempDir(t);
  const hub = new MemoryHub();
  const opts = { snapshotEntries: 1000 };
  const first = await startHost(hub, [1], 1, root, {}, opts);
  await first.host.createGroup('g', { type: 'fake-disk', voters: [1] });
  await waitLeader([first]);
  for (let i = 0; i < 5; i++) await set(first, `k${i}`, `v${i}`);
  const base = await first.host.snapshotNow('g');
  const atBase: DiskState = structuredClone(first.machines.get('g')!.state);
  assert.equal(atBase.applied, base);
  const later: number[] = [];
  for (let i = 5; i < 10; i++) later.push(await set(first, `k${i}`, `v${i}`));
  const final = structuredClone(first.machines.get('g')!.state);
  await first.host.stop();
  const keep = { store: first.store, snapshots: first.snapshots };
  const dir = join(root, 'machines', 'g');

  // The machine's files hold everything: nothing runs again.
  const same = await startHost(hub, [1], 1, root, keep, opts);
  await waitFor(() => same.managers.get('g')!.appliedIndex >= later.at(-1)!, 3000, 'the log tail to be gone over');
  assert.deepEqual(same.machines.get('g')!.events, [`open ${dir}`]);
  assert.deepEqual(same.machines.get('g')!.calls, []);
  await same.host.stop();

  // The machine lost what it applied after the base (it was not synced): those entries run again.
  writeDiskState(dir, atBase);
  const rolledBack = await startHost(hub, [1], 1, root, keep, opts);
  const m = rolledBack.machines.get('g')!;
  await waitFor(() => m.calls.length === later.length, 3000, 'the entries after the machine index to run');
  assert.deepEqual(m.calls, later);
  assert.deepEqual(m.state, final);
  assert.deepEqual(m.events, [`open ${dir}`], 'no recoverFromSnapshot: the base holds no state');
  await rolledBack.host.stop();

  // Older than the base: the entries in between are gone; start-up fails and says why.
  writeDiskState(dir, { applied: 3, values: {} });
  await assert.rejects(
    startHost(hub, [1], 1, root, keep, opts),
    (e: unknown) =>
      e instanceof Error &&
      (e as { code?: string }).code === 'state_behind' &&
      e.message.includes('group "g"') &&
      e.message.includes('up to index 3') &&
      e.message.includes(`snapshot at index ${base}`),
  );
});

test('stop closes the machine only after the full snapshot it is writing for a follower is written', async (t) => {
  const ids = [1, 2, 3];
  const hub = new MemoryHub();
  const nodes: Node[] = [];
  for (const id of ids) nodes.push(await startHost(hub, ids, id, await tempDir(t), {}, { snapshotEntries: 1000, retainEntries: 2 }));
  let release = (): void => undefined;
  t.after(async () => {
    release(); // a failing test must not leave stop() waiting for the gated save
    for (const n of nodes) await n.host.stop();
  });
  for (const n of nodes) await n.host.createGroup('g', { type: 'fake-disk', voters: ids });
  const leader = await waitLeader(nodes);
  const lagging = nodes.find((n) => n !== leader)!;
  const others = ids.filter((id) => id !== lagging.id);
  hub.isolate(lagging.id, others);
  for (let i = 0; i < 10; i++) await set(leader, `k${i}`, `v${i}`);
  await leader.host.snapshotNow('g');
  for (let i = 10; i < 13; i++) await set(leader, `k${i}`, `v${i}`);

  const fake = leader.machines.get('g')!;
  const save = fake.saveSnapshot.bind(fake);
  const gate = new Promise<void>((r) => (release = r));
  fake.saveSnapshot = async (pinned, file) => {
    fake.events.push('save started');
    await gate;
    await save(pinned, file);
    fake.events.push('save ended');
  };
  hub.isolate(lagging.id, others, false);
  await waitFor(() => fake.events.includes('save started'), 5000, 'a full snapshot to be started for the follower');
  const stopping = leader.host.stop();
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!fake.events.includes('close'), 'stop waits for the snapshot being written');
  release();
  await stopping;
  const tail = fake.events.filter((e) => e === 'save ended' || e === 'close');
  assert.deepEqual(tail, ['save ended', 'close']);
});
