// StateMachineManager with an on-disk machine that has sync(): the snapshots taken to compact the
// log hold no state (sync first, then the envelope only), a full one is made on request, and a
// restart from a metadata-only snapshot keeps the machine's own state, or refuses to start when
// that state is older than the snapshot.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStateMachineManager } from '../../src/fsm/index.js';
import { memoryReader } from '../../src/host/snapshot-files.js';
import { DISK_METADATA_MAGIC, DISK_SNAPSHOT_MAGIC } from '../../src/rsm/disk-snapshot.js';
import { DuplicateCommand, RsmError, type StateMachineManager } from '../../src/rsm/index.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { snap } from '../storage/conformance.js';
import { FakeDiskMachine, STATE_FILE, writeDiskState, type DiskState } from './fake-disk-machine.js';
import { applyAll, entry } from './helpers.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-disk-meta-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A manager around a new FakeDiskMachine with sync(), opened in `dir` (holding `state` if given). */
async function opened(dir: string, state?: DiskState): Promise<{ fake: FakeDiskMachine; m: StateMachineManager }> {
  if (state) writeDiskState(dir, state);
  const fake = new FakeDiskMachine({ sync: true });
  const m = createStateMachineManager(fake);
  await m.open(dir);
  return { fake, m };
}

const set = (index: number, key: string, value: string, sequence?: number) => entry(index, 'set', { key, value }, sequence === undefined ? {} : { clientId: 'c', sequence });

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const startsWith = (data: Uint8Array, magic: Buffer) => Buffer.from(data.subarray(0, magic.length)).equals(magic);
const rsmError =
  (code: string, ...patterns: RegExp[]) =>
  (e: unknown) =>
    e instanceof RsmError && e.code === code && patterns.every((p) => p.test(e.message));

/**
 * A machine that applied k2 (seq 1), k3 (seq 2), then a retry of seq 2 at 4 (a duplicate: it
 * changes nothing) and a failing command at 5 (it throws: nothing written); its metadata-only
 * snapshot at 5, whose state index is 3, and the state then.
 */
async function metadataSnapshotAt5(t: TestContext): Promise<{ data: Buffer; state: DiskState }> {
  const { fake, m } = await opened(await tempDir(t));
  const results = await applyAll(m, [set(2, 'k2', 'v2', 1), set(3, 'k3', 'v3', 2), set(4, 'k3', 'v3', 2), entry(5, 'fail', { key: 'x' })]);
  assert.ok(results[2] instanceof DuplicateCommand);
  assert.equal(fake.state.applied, 3);
  const cap = m.captureSnapshot();
  assert.equal(cap.full, false);
  assert.equal(cap.index, 5);
  return { data: await collect(cap.chunks()), state: structuredClone(fake.state) };
}

test('with sync(), a snapshot holds no state: sync() runs before any piece, nothing is pinned or saved; { full: true } gives the full one', async (t) => {
  const dir = await tempDir(t);
  const { fake, m } = await opened(dir);
  assert.equal(m.metadataSnapshots, true);
  assert.equal(createStateMachineManager(new FakeDiskMachine()).metadataSnapshots, false, 'without sync(): full snapshots');
  await applyAll(m, [set(2, 'a', 'AAAA', 1), set(3, 'b', 'BBBB', 2)]);
  fake.events.length = 0;

  const cap = m.captureSnapshot();
  assert.deepEqual([cap.index, cap.full], [3, false]);
  assert.deepEqual(fake.events, [], 'nothing is pinned at capture');
  const pieces = cap.chunks()[Symbol.asyncIterator]();
  const first = await pieces.next();
  assert.deepEqual(fake.events, ['sync'], 'the state is made durable before the snapshot is written');
  assert.equal(fake.synced, 3);
  assert.ok(!first.done && startsWith(first.value, DISK_METADATA_MAGIC));
  const rest: Uint8Array[] = [first.value];
  for (let r = await pieces.next(); !r.done; r = await pieces.next()) rest.push(r.value);
  const data = Buffer.concat(rest);
  assert.ok(!data.includes('AAAA'), 'the state is not in it');
  assert.ok(data.length < 1024, `${data.length} bytes`);
  assert.deepEqual(fake.events, ['sync']);

  // The host's path: through the snapshot store.
  const store = new SnapshotStore(await tempDir(t));
  await store.saveStream('g', snap(3, 1), m.captureSnapshot().chunks());
  assert.ok(startsWith(await store.load('g', 3, 1), DISK_METADATA_MAGIC));

  // For a follower: the full snapshot, pinned and saved as without sync().
  fake.events.length = 0;
  const full = m.captureSnapshot({ full: true });
  assert.equal(full.full, true);
  const bytes = await collect(full.chunks());
  assert.deepEqual(fake.events, ['prepareSnapshot', 'saveSnapshot']);
  assert.ok(startsWith(bytes, DISK_SNAPSHOT_MAGIC) && bytes.includes('AAAA'));
  const other = await opened(await tempDir(t));
  await other.m.restoreFrom(memoryReader(bytes));
  assert.deepEqual(other.fake.state, fake.state);
  assert.equal(other.m.appliedIndex, 3);
  assert.deepEqual(await readdir(dir), [STATE_FILE], 'no temp file is left');
});

test('restart from a metadata-only snapshot: the machine keeps its state, entries up to its index are not run again, the sessions come from the snapshot', async (t) => {
  const { data, state } = await metadataSnapshotAt5(t);
  // The machine went on to 7 before the restart.
  const ahead = await opened(await tempDir(t), { applied: 7, values: { ...state.values, k6: 'v6', k7: 'v7' } });
  await ahead.m.restoreFrom(memoryReader(data), { atStart: true });
  assert.deepEqual(ahead.fake.events.slice(1), [], 'no recoverFromSnapshot');
  assert.equal(ahead.m.appliedIndex, 5);
  const results = await applyAll(ahead.m, [set(6, 'k6', 'v6'), set(7, 'k7', 'v7'), set(8, 'k3', 'v3', 2), set(9, 'k9', 'v9', 3)]);
  assert.ok(results[2] instanceof DuplicateCommand, 'the restored session answers a retry');
  assert.deepEqual(results[3], { at: 9 });
  assert.deepEqual(ahead.fake.calls, [9], 'only the entries after the machine index ran');

  // Its state index (3), not the snapshot's index (5): entries 4 and 5 changed nothing.
  const exact = await opened(await tempDir(t), state);
  assert.equal(exact.fake.state.applied, 3);
  await exact.m.restoreFrom(memoryReader(data), { atStart: true });
  assert.deepEqual(exact.fake.events.slice(1), []);
  assert.deepEqual(await applyAll(exact.m, [set(6, 'k6', 'v6')]), [{ at: 6 }]);
  assert.deepEqual(exact.fake.calls, [6]);
  // Its own next snapshot records the state index it reached.
  const again = await collect(exact.m.captureSnapshot().chunks());
  const reopened = await opened(await tempDir(t), exact.fake.state);
  await reopened.m.restoreFrom(memoryReader(again), { atStart: true });
  assert.equal(reopened.m.appliedIndex, 6);
});

test('a metadata-only snapshot with a machine older than it: state_behind naming both indexes, nothing changed; not at start: bad_snapshot', async (t) => {
  const { data } = await metadataSnapshotAt5(t);
  const behind = await opened(await tempDir(t), { applied: 2, values: { k2: 'v2' } });
  await assert.rejects(
    behind.m.restoreFrom(memoryReader(data), { atStart: true }),
    rsmError('state_behind', /"fake-disk" holds entries up to index 2/, /snapshot at index 5/, /state at index 3 or later/, /lost or are older/),
  );
  assert.deepEqual(behind.fake.events.slice(1), []);
  assert.equal(behind.m.appliedIndex, 0);
  assert.equal(behind.m.sessionCount, 0);

  const empty = await opened(await tempDir(t));
  await assert.rejects(empty.m.restoreFrom(memoryReader(data), { atStart: true }), rsmError('state_behind', /up to index 0/));

  // From a leader, a snapshot must hold the state.
  const follower = await opened(await tempDir(t), { applied: 9, values: {} });
  await assert.rejects(follower.m.restoreFrom(memoryReader(data)), rsmError('bad_snapshot', /holds no state/));
  assert.deepEqual(follower.fake.events.slice(1), []);

  // Bytes after the envelope of a metadata-only snapshot are refused.
  const padded = Buffer.concat([data, Buffer.from('x')]);
  await assert.rejects(
    opened(await tempDir(t), { applied: 9, values: {} }).then(({ m }) => m.restoreFrom(memoryReader(padded), { atStart: true })),
    rsmError('bad_snapshot', /1 bytes after/),
  );
});

test('a sync() that fails is snapshot_failed and nothing is stored', async (t) => {
  const { fake, m } = await opened(await tempDir(t));
  await applyAll(m, [set(2, 'a', '1')]);
  fake.sync = () => {
    throw new Error('fsync: I/O error');
  };
  const store = new SnapshotStore(await tempDir(t));
  await assert.rejects(
    store.saveStream('g', snap(2, 1), m.captureSnapshot().chunks()),
    rsmError('snapshot_failed', /could not make its state durable \(sync\): fsync: I\/O error/),
  );
  assert.deepEqual(await store.list('g'), []);
});
