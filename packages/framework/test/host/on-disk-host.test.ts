// NodeHost with an on-disk state machine (test/rsm/fake-disk-machine.ts) over the memory
// transport: the machine is opened in machineDir(group) (wiped when the group is created),
// closed on stop, its folder deleted with the group; a restart re-applies nothing its state
// holds; a follower behind the compacted log installs the machine's file from a snapshot.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStateMachineManager } from '../../src/fsm/index.js';
import { HostError } from '../../src/host/errors.js';
import { NodeHost, type NodeHostOptions } from '../../src/host/node-host.js';
import { MemorySnapshotFiles, type SnapshotFiles } from '../../src/host/snapshot-files.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { Role, type NodeId } from '../../src/core/types.js';
import { DuplicateCommand, unwrapCommandResult, type StateMachineManager } from '../../src/rsm/index.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import { MemoryHub, MemoryTransport, memoryAddress } from '../../src/transport/memory-transport.js';
import { FakeDiskMachine, STATE_FILE } from '../rsm/fake-disk-machine.js';
import { waitFor } from './fixtures.js';

interface Node {
  id: NodeId;
  host: NodeHost;
  store: MemoryLogStore;
  snapshots: SnapshotFiles;
  root: string;
  machines: Map<string, FakeDiskMachine>;
  managers: Map<string, StateMachineManager>;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-disk-host-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts (or restarts, with the log store, snapshot files and folder given) host `id`. */
async function startHost(
  hub: MemoryHub,
  ids: NodeId[],
  id: NodeId,
  root: string,
  keep: { store?: MemoryLogStore; snapshots?: SnapshotFiles } = {},
  extra: Partial<NodeHostOptions> = {},
): Promise<Node> {
  const transport = new MemoryTransport(hub, { selfId: id });
  for (const peer of ids) if (peer !== id) transport.setPeer(peer, memoryAddress(peer));
  const machines = new Map<string, FakeDiskMachine>();
  const managers = new Map<string, StateMachineManager>();
  const store = keep.store ?? new MemoryLogStore();
  const snapshots = keep.snapshots ?? new MemorySnapshotFiles();
  const host = new NodeHost({
    id,
    logStore: store,
    snapshots,
    transport,
    stateMachines: (group) => {
      const fake = new FakeDiskMachine();
      const m = createStateMachineManager(fake);
      machines.set(group, fake);
      managers.set(group, m);
      return m;
    },
    machineDir: (group) => join(root, group),
    tickMs: 5,
    electionTick: 10,
    heartbeatTick: 1,
    requestTimeoutMs: 3000,
    ...extra,
  });
  await host.start();
  return { id, host, store, snapshots, root, machines, managers };
}

async function set(n: Node, group: string, key: string, value: string): Promise<{ index: number; result: unknown }> {
  const r = await n.host.propose(group, n.managers.get(group)!.prepareCommand('set', { key, value }));
  const result = r.result instanceof DuplicateCommand ? r.result.result : r.result;
  return { index: r.index, result: unwrapCommandResult(result) };
}

async function waitLeader(nodes: Node[], group: string): Promise<Node> {
  await waitFor(() => nodes.some((n) => n.host.groupStatus(group).role === Role.Leader), 5000, `a leader of ${group}`);
  return nodes.find((n) => n.host.groupStatus(group).role === Role.Leader)!;
}

const missing = (path: string) =>
  stat(path).then(
    () => false,
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT',
  );

test('a disk machine is opened in machineDir(group), wiped at creation; stop closes it; removing the group deletes its folder', async (t) => {
  const root = await tempDir(t);
  await mkdir(join(root, 'd'), { recursive: true });
  await writeFile(join(root, 'd', 'left-by-an-earlier-group'), 'x');
  const hub = new MemoryHub();
  const n = await startHost(hub, [1], 1, root);
  let stopped = false;
  t.after(() => (stopped ? undefined : n.host.stop()));
  await n.host.createGroup('d', { type: 'fake-disk', voters: [1] });
  await n.host.createGroup('e', { type: 'fake-disk', voters: [1] });
  const d = n.machines.get('d')!;
  assert.equal(d.events[0], `open ${join(root, 'd')}`);
  assert.ok(await missing(join(root, 'd', 'left-by-an-earlier-group')), 'the folder was emptied before open');
  await waitLeader([n], 'd');
  const a = await set(n, 'd', 'a', '1');
  assert.deepEqual(a.result, { at: a.index });
  assert.deepEqual(d.calls, [a.index]);
  assert.deepEqual(await readdir(join(root, 'd')), [STATE_FILE]);

  await n.host.removeGroup('d');
  assert.equal(d.events.at(-1), 'close');
  assert.ok(await missing(join(root, 'd')), 'the group folder is deleted');
  assert.ok(!(await missing(join(root, 'e'))), 'another group keeps its folder');

  const e = n.machines.get('e')!;
  assert.ok(!e.events.includes('close'));
  stopped = true;
  await n.host.stop();
  assert.equal(e.events.at(-1), 'close');
  assert.ok(!(await missing(join(root, 'e'))), 'stop keeps the folder');
});

test('a host without machineDir refuses to create a disk machine group', async (t) => {
  const hub = new MemoryHub();
  const transport = new MemoryTransport(hub, { selfId: 1 });
  const host = new NodeHost({
    id: 1,
    logStore: new MemoryLogStore(),
    snapshots: new MemorySnapshotFiles(),
    transport,
    stateMachines: () => createStateMachineManager(new FakeDiskMachine()),
    tickMs: 5,
  });
  await host.start();
  t.after(() => host.stop());
  await assert.rejects(
    host.createGroup('d', { type: 'fake-disk', voters: [1] }),
    (e: unknown) => e instanceof HostError && e.code === 'bad_request' && /machineDir/.test(e.message),
  );
  assert.equal(host.hasGroup('d'), false);
});

test('a restarted host opens the machine again and re-applies none of the entries its state holds', async (t) => {
  const root = await tempDir(t);
  const hub = new MemoryHub();
  const first = await startHost(hub, [1], 1, root, { snapshots: new SnapshotStore(await tempDir(t)) }, { snapshotEntries: 1000 });
  await first.host.createGroup('g', { type: 'fake-disk', voters: [1] });
  await waitLeader([first], 'g');
  for (let i = 0; i < 5; i++) await set(first, 'g', `k${i}`, `v${i}`);
  await first.host.snapshotNow('g');
  let last = 0;
  for (let i = 5; i < 10; i++) last = (await set(first, 'g', `k${i}`, `v${i}`)).index;
  const before = first.machines.get('g')!;
  assert.equal(before.calls.length, 10);
  assert.equal(before.state.applied, last);
  await first.host.stop();

  const again = await startHost(hub, [1], 1, root, { store: first.store, snapshots: first.snapshots }, { snapshotEntries: 1000 });
  t.after(() => again.host.stop());
  const m = again.machines.get('g')!;
  assert.deepEqual(m.events, [`open ${join(root, 'g')}`], 'the disk state was kept: no recoverFromSnapshot');
  await waitFor(() => again.managers.get('g')!.appliedIndex >= last, 3000, 'the log tail to be gone over');
  assert.deepEqual(m.calls, [], 'nothing was applied again');
  assert.deepEqual(m.state, before.state);
  await waitLeader([again], 'g');
  const next = await set(again, 'g', 'k10', 'v10');
  assert.deepEqual(next.result, { at: next.index });
  assert.deepEqual(m.calls, [next.index]);
});

test('a follower behind the compacted log installs the leader machine file from a snapshot', async (t) => {
  const ids = [1, 2, 3];
  const hub = new MemoryHub();
  const nodes: Node[] = [];
  for (const id of ids) nodes.push(await startHost(hub, ids, id, await tempDir(t), {}, { snapshotEntries: 20, retainEntries: 5 }));
  t.after(async () => {
    for (const n of nodes) await n.host.stop();
  });
  for (const n of nodes) await n.host.createGroup('g', { type: 'fake-disk', voters: ids });
  const leader = await waitLeader(nodes, 'g');
  const lagging = nodes.find((n) => n !== leader)!;
  const others = ids.filter((id) => id !== lagging.id);
  hub.isolate(lagging.id, others);
  for (let i = 0; i < 60; i++) await set(leader, 'g', `k${i}`, `v${i}`);
  assert.ok(leader.host.groupStatus('g').firstIndex > 30, 'the leader compacted its log');
  hub.isolate(lagging.id, others, false);
  const want = leader.machines.get('g')!;
  const got = lagging.machines.get('g')!;
  await waitFor(() => got.state.values['k59'] === 'v59', 5000, 'the lagging follower to catch up');
  assert.ok(got.events.includes('recoverFromSnapshot'), 'it took a snapshot file');
  assert.ok(got.calls.length < 60, `it applied ${got.calls.length} entries itself, not all 60`);
  assert.deepEqual(got.state.values, want.state.values);
  // The follower snapshots on its own too (every 20 entries): a temp file of a snapshot it is
  // writing right now may be there for a moment, but none may stay.
  let files = await readdir(join(lagging.root, 'g'));
  for (const deadline = Date.now() + 5000; files.length > 1 && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 50));
    files = await readdir(join(lagging.root, 'g'));
  }
  assert.deepEqual(files, [STATE_FILE], 'no temp file is left in its folder');
});

test('snapshot files older than the log base are deleted, and a removed group leaves none', async (t) => {
  const root = await tempDir(t);
  const store = new SnapshotStore(await tempDir(t));
  const n = await startHost(new MemoryHub(), [1], 1, root, { snapshots: store }, { snapshotEntries: 1000 });
  t.after(() => n.host.stop());
  await n.host.createGroup('g', { type: 'fake-disk', voters: [1] });
  await waitLeader([n], 'g');
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 3; i++) await set(n, 'g', `k${round}-${i}`, 'v');
    await n.host.snapshotNow('g');
  }
  // Deleted beside the next rounds, once the newer base is durable.
  const deadline = Date.now() + 5000;
  while ((await store.list('g')).length > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok((await store.list('g')).length <= 2, `${(await store.list('g')).length} snapshot files kept`);
  await n.host.removeGroup('g');
  assert.deepEqual(await store.list('g'), []);
});
