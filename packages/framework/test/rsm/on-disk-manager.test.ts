// StateMachineManager with an on-disk state machine (@StateMachine(type, { storage: 'disk' })):
// opening it, skipping the entries its own state already holds, snapshots of its files (pinned
// at capture, streamed in pieces) and restoring them, at start and from a leader.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStateMachineManager } from '../../src/fsm/index.js';
import { memoryReader } from '../../src/host/snapshot-files.js';
import { restoreStored, saveSnapshotOf } from '../../src/host/snapshot-io.js';
import { DISK_SNAPSHOT_MAGIC } from '../../src/rsm/disk-snapshot.js';
import { RaftkitError } from '../../src/common/errors.js';
import { CommandErrorResult, DuplicateCommand, RsmError, unwrapCommandResult, type StateMachineManager } from '../../src/rsm/index.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { KvMachine } from '../fsm/machines.js';
import { snap } from '../storage/conformance.js';
import { FakeDiskMachine, STATE_FILE, writeDiskState, type DiskState } from './fake-disk-machine.js';
import { applyAll, entry } from './helpers.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-disk-rsm-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A manager around a new FakeDiskMachine, opened in `dir` (holding `state` if given). */
async function opened(dir: string, state?: DiskState): Promise<{ fake: FakeDiskMachine; m: StateMachineManager }> {
  if (state) writeDiskState(dir, state);
  const fake = new FakeDiskMachine();
  const m = createStateMachineManager(fake);
  await m.open(dir);
  return { fake, m };
}

const set = (index: number, key: string, value: string, sequence?: number, clientId = 'c') =>
  entry(index, 'set', { key, value }, sequence === undefined ? {} : { clientId, sequence });

const codeOf = (r: unknown): string => {
  const inner = r instanceof DuplicateCommand ? r.result : r;
  assert.ok(inner instanceof CommandErrorResult, `expected an error result, got ${JSON.stringify(inner)}`);
  return inner.error.code;
};

const rsmError = (code: string, pattern?: RegExp) => (e: unknown) => e instanceof RsmError && e.code === code && (!pattern || pattern.test(e.message));

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Files in `dir` other than the machine's state file (the framework's temp files, if left). */
async function strays(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n !== STATE_FILE);
}

/**
 * A snapshot at index 5 of a machine that applied k2..k5 = v2..v5 with client "c" (sequences
 * 1..4), as bytes, with the state it holds.
 */
async function snapshotAt5(t: TestContext): Promise<{ data: Buffer; state: DiskState }> {
  const { fake, m } = await opened(await tempDir(t));
  await applyAll(m, [set(2, 'k2', 'v2', 1), set(3, 'k3', 'v3', 2), set(4, 'k4', 'v4', 3), set(5, 'k5', 'v5', 4)]);
  return { data: await collect(m.captureSnapshot().chunks()), state: structuredClone(fake.state) };
}

test('open reports the disk applied index: entries up to it are not executed (their sessions answer result_unavailable), later ones are', async (t) => {
  const dir = await tempDir(t);
  const { fake, m } = await opened(dir, { applied: 5, values: { a: 'old' } });
  assert.deepEqual(fake.events, [`open ${dir}`]);
  const seen: number[] = [];
  m.onApplied((e) => seen.push(e.index));
  // Client "c" last wrote at 4 (skipped), client "d" at 6 (applied).
  const results = await applyAll(m, [set(2, 'k2', 'v2'), set(3, 'k3', 'v3'), set(4, 'k4', 'v4', 1, 'c'), set(5, 'k5', 'v5'), set(6, 'k6', 'v6', 1, 'd'), set(7, 'k7', 'v7')]);
  assert.deepEqual(fake.calls, [6, 7], 'only the entries after the disk index ran');
  assert.deepEqual(results.slice(0, 4).map(codeOf), ['result_unavailable', 'result_unavailable', 'result_unavailable', 'result_unavailable']);
  assert.deepEqual(results.slice(4), [{ at: 6 }, { at: 7 }]);
  assert.equal(m.appliedIndex, 7);
  assert.equal(m.sessionCount, 2, "the skipped entry's session was recorded");
  assert.deepEqual(JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')), { applied: 7, values: { a: 'old', k6: 'v6', k7: 'v7' } });
  // Watches see only what ran here, and start after the skipped entries.
  assert.deepEqual(seen, [6, 7]);
  assert.equal(m.recentFrom, 6);
  assert.deepEqual(
    m.recent(6)!.map((e) => e.index),
    [6, 7],
  );
  assert.equal(m.recent(5), undefined);
  // A retry of a skipped entry is a duplicate whose result was not kept; of an applied one, its result.
  const [retrySkipped, retryApplied] = await applyAll(m, [set(8, 'k4', 'v4', 1, 'c'), set(9, 'k6', 'v6', 1, 'd')]);
  assert.ok(retrySkipped instanceof DuplicateCommand);
  assert.equal(retrySkipped.index, 4);
  assert.equal(codeOf(retrySkipped), 'result_unavailable');
  assert.throws(
    () => unwrapCommandResult(retrySkipped.result),
    (e: unknown) => e instanceof RaftkitError && e.details.reason === 'result_unavailable',
    'the proposer is answered an error whose reason says so',
  );
  assert.ok(retryApplied instanceof DuplicateCommand);
  assert.deepEqual([retryApplied.index, retryApplied.result], [6, { at: 6 }]);
  assert.deepEqual(fake.calls, [6, 7], 'retries run nothing');
});

test('open: a failing open or an impossible applied index is open_failed; an in-memory machine has nothing to open', async (t) => {
  const dir = await tempDir(t);
  for (const [answer, pattern] of [
    [-1, /reported -1 as its applied index/],
    [1.5, /reported 1.5/],
    [undefined, /reported undefined/],
  ] as const) {
    const fake = new FakeDiskMachine();
    fake.open = () => answer as number;
    await assert.rejects(createStateMachineManager(fake).open(dir), rsmError('open_failed', pattern));
  }
  const broken = new FakeDiskMachine();
  broken.open = () => {
    throw new Error('database is locked');
  };
  await assert.rejects(createStateMachineManager(broken).open(join(dir, 'x')), rsmError('open_failed', /could not open .*x: database is locked/));
  // The folder is made if missing.
  const { fake } = await opened(join(dir, 'a', 'b'));
  assert.deepEqual(fake.events, [`open ${join(dir, 'a', 'b')}`]);
  const kv = createStateMachineManager(new KvMachine());
  assert.equal(kv.keepsFiles, false);
  await kv.open(join(dir, 'kv'));
  await assert.rejects(stat(join(dir, 'kv')), /ENOENT/);
  assert.equal(createStateMachineManager(new FakeDiskMachine()).keepsFiles, true);
});

test('a snapshot is the envelope and the machine file, in pieces; restored into another folder it gives the same state and sessions', async (t) => {
  const dir1 = await tempDir(t);
  const store = new SnapshotStore(await tempDir(t));
  const { fake: fake1, m: m1 } = await opened(dir1);
  await applyAll(m1, [set(2, 'k2', 'v2', 1), set(3, 'k3', 'v3', 2), set(4, 'k2', 'w2', 3), set(5, 'k5', 'v5')]);
  const cap = m1.captureSnapshot();
  assert.deepEqual([cap.index, cap.term], [5, 1]);
  // The host's path: written to the store in pieces, then read back from it.
  const bytes = await store.saveStream('g', snap(5, 1), cap.chunks());
  assert.deepEqual(fake1.events.slice(1), ['prepareSnapshot', 'saveSnapshot']);
  assert.deepEqual(await strays(dir1), [], 'the machine file written for the snapshot is gone');
  const data = await store.load('g', 5, 1);
  assert.equal(data.length, bytes);
  assert.ok(Buffer.from(data.subarray(0, DISK_SNAPSHOT_MAGIC.length)).equals(DISK_SNAPSHOT_MAGIC));
  assert.ok(Buffer.from(data).includes(Buffer.from(JSON.stringify(fake1.state))), 'the machine file follows the envelope byte for byte');

  const dir2 = await tempDir(t);
  const { fake: fake2, m: m2 } = await opened(dir2);
  const reader = await store.open('g', 5, 1);
  try {
    await m2.restoreFrom(reader);
  } finally {
    await reader.close();
  }
  assert.deepEqual(fake2.events.slice(1), ['recoverFromSnapshot']);
  assert.deepEqual(fake2.state, fake1.state);
  assert.deepEqual(JSON.parse(await readFile(join(dir2, STATE_FILE), 'utf8')), fake1.state);
  assert.deepEqual(await strays(dir2), [], 'no restore temp file is left');
  assert.equal(m2.appliedIndex, 5);
  assert.equal(m2.entryClock, m1.entryClock);
  assert.equal(m2.sessionCount, 1);
  assert.equal(await m2.query('get', { key: 'k2' }), 'w2');
  // The session came along: a retry is answered from it and runs nothing.
  const [retry, next] = await applyAll(m2, [set(6, 'k2', 'w2', 3), set(7, 'k7', 'v7', 4)]);
  assert.ok(retry instanceof DuplicateCommand);
  assert.deepEqual([retry.index, retry.result], [4, { at: 4 }]);
  assert.deepEqual(next, { at: 7 });
  assert.deepEqual(fake2.calls, [7]);
});

test('restoreFrom at start keeps a disk state at or past the snapshot (no recoverFromSnapshot) and skips what it holds', async (t) => {
  const { data } = await snapshotAt5(t);
  // At the snapshot's index exactly.
  const same = await opened(await tempDir(t), { applied: 5, values: { mine: 'x' } });
  await same.m.restoreFrom(memoryReader(data), { atStart: true });
  assert.deepEqual(same.fake.events.slice(1), []);
  assert.deepEqual(same.fake.state.values, { mine: 'x' });

  // Ahead of it: the sessions come from the snapshot, the entries up to the disk index are skipped.
  const dir = await tempDir(t);
  const { fake, m } = await opened(dir, { applied: 8, values: { mine: 'y' } });
  await m.restoreFrom(memoryReader(data), { atStart: true });
  assert.deepEqual(fake.events, [`open ${dir}`], 'the disk state was kept');
  assert.equal(m.appliedIndex, 5);
  assert.equal(m.sessionCount, 1);
  assert.equal(m.recentFrom, 9, 'watches start after what the disk holds');
  const results = await applyAll(m, [set(6, 'k5', 'v5', 4), set(7, 'k7', 'v7', 5), set(8, 'k8', 'v8'), set(9, 'k9', 'v9', 6)]);
  assert.ok(results[0] instanceof DuplicateCommand, 'a retry answered from the restored session');
  assert.deepEqual([results[0].index, results[0].result], [5, { at: 5 }]);
  assert.deepEqual(results.slice(1, 3).map(codeOf), ['result_unavailable', 'result_unavailable']);
  assert.deepEqual(results[3], { at: 9 });
  assert.deepEqual(fake.calls, [9]);
  assert.deepEqual(fake.state.values, { mine: 'y', k9: 'v9' });
});

test('restoreFrom installs the snapshot file when the disk is behind it (at start) and always when not at start', async (t) => {
  const { data, state } = await snapshotAt5(t);
  const behind = await opened(await tempDir(t), { applied: 3, values: { old: 'z' } });
  await behind.m.restoreFrom(memoryReader(data), { atStart: true });
  assert.deepEqual(behind.fake.events.slice(1), ['recoverFromSnapshot']);
  assert.deepEqual(behind.fake.state, state);
  // Entries after the snapshot run again (the disk index is now the snapshot's).
  assert.deepEqual(await applyAll(behind.m, [set(6, 'k6', 'v6')]), [{ at: 6 }]);
  assert.deepEqual(behind.fake.calls, [6]);

  // A snapshot from the leader (not at start) replaces the disk state whatever its index.
  const ahead = await opened(await tempDir(t), { applied: 9, values: { old: 'z' } });
  await ahead.m.restoreFrom(memoryReader(data));
  assert.deepEqual(ahead.fake.events.slice(1), ['recoverFromSnapshot']);
  assert.deepEqual(ahead.fake.state, state);
  assert.deepEqual(await applyAll(ahead.m, [set(6, 'k6', 'v6')]), [{ at: 6 }], 'entry 6 runs: the disk holds only up to 5 now');
});

test('captureSnapshot is busy while the manager is still going over entries the disk holds', async (t) => {
  const { fake, m } = await opened(await tempDir(t), { applied: 5, values: {} });
  assert.throws(() => m.captureSnapshot(), rsmError('busy', /on-disk state holds \(up to 5\)/));
  await applyAll(m, [set(2, 'a', '1'), set(3, 'a', '2'), set(4, 'a', '3')]);
  assert.throws(() => m.captureSnapshot(), rsmError('busy'));
  assert.ok(!fake.events.includes('prepareSnapshot'), 'nothing was pinned');
  await applyAll(m, [set(5, 'a', '4')]);
  const cap = m.captureSnapshot();
  assert.equal(cap.index, 5);
  assert.ok((await collect(cap.chunks())).length > 0);
});

test('snapshots do not cross storage kinds: bad_snapshot, nothing changed', async (t) => {
  const { data } = await snapshotAt5(t);
  const kv = createStateMachineManager(new KvMachine());
  await applyAll(kv, [entry(2, 'put', { key: 'a', value: '1' })]);
  await assert.rejects(kv.restore(data), rsmError('bad_snapshot', /on-disk state machine cannot restore "kv", which is in memory/));
  assert.equal(kv.appliedIndex, 2);
  assert.deepEqual(await kv.query('get', { key: 'a' }), { value: '1', revision: 1 });

  const { fake, m } = await opened(await tempDir(t));
  await applyAll(m, [set(2, 'a', '1')]);
  await assert.rejects(m.restoreFrom(memoryReader(await kv.snapshot())), rsmError('bad_snapshot', /in-memory state machine cannot restore "fake-disk", which is on disk/));
  assert.deepEqual(fake.events.slice(1), []);
  assert.equal(m.appliedIndex, 2);
});

test('a machine that fails to take the snapshot file is bad_snapshot and keeps its sessions and index', async (t) => {
  const { data } = await snapshotAt5(t);
  const dir = await tempDir(t);
  const { fake, m } = await opened(dir);
  await applyAll(m, [set(2, 'a', '1', 1)]);
  fake.recoverFromSnapshot = async () => {
    throw new Error('cannot swap the database');
  };
  await assert.rejects(m.restoreFrom(memoryReader(data)), rsmError('bad_snapshot', /cannot swap the database/));
  assert.equal(m.appliedIndex, 2);
  assert.equal(m.sessionCount, 1);
  assert.deepEqual(await strays(dir), [], 'the copied-out file is removed');
  // Entry 3 still runs (the disk index did not move to the snapshot's).
  assert.deepEqual(await applyAll(m, [set(3, 'b', '2')]), [{ at: 3 }]);
});

test('prepareSnapshot pins the state at capture: a command applied before the chunks are read is not in the snapshot', async (t) => {
  const { fake, m } = await opened(await tempDir(t));
  await applyAll(m, [set(2, 'a', 'before', 1)]);
  const cap = m.captureSnapshot();
  assert.deepEqual(fake.events.slice(1), ['prepareSnapshot'], 'pinned at once, not when the chunks are read');
  await applyAll(m, [set(3, 'a', 'after', 2)]);
  const data = await collect(cap.chunks());
  const other = await opened(await tempDir(t));
  await other.m.restoreFrom(memoryReader(data));
  assert.equal(other.m.appliedIndex, 2);
  assert.deepEqual(other.fake.state, { applied: 2, values: { a: 'before' } });
  // The sessions are those of index 2 as well: sequence 2 is new there.
  assert.deepEqual(await applyAll(other.m, [set(3, 'a', 'after', 2)]), [{ at: 3 }]);
});

test('releaseSnapshot: called when the chunks are abandoned before saveSnapshot, not after (saveSnapshot releases)', async (t) => {
  const dir = await tempDir(t);
  const { fake, m } = await opened(dir);
  await applyAll(m, [set(2, 'a', '1')]);
  const pinned = JSON.stringify(fake.state);

  const abandoned = m.captureSnapshot();
  for await (const head of abandoned.chunks()) {
    assert.ok(Buffer.from(head.subarray(0, DISK_SNAPSHOT_MAGIC.length)).equals(DISK_SNAPSHOT_MAGIC));
    break; // the store failed after the first piece
  }
  assert.deepEqual(fake.events.slice(1), ['prepareSnapshot', 'releaseSnapshot']);
  assert.deepEqual(fake.released, [pinned]);

  // Abandoned halfway through the machine's file: saveSnapshot had it, nothing more to release.
  fake.events.length = 0;
  let n = 0;
  for await (const _ of m.captureSnapshot().chunks()) if (++n === 3) break;
  assert.deepEqual(fake.events, ['prepareSnapshot', 'saveSnapshot']);
  assert.deepEqual(await strays(dir), [], 'the snapshot file is deleted');

  // saveSnapshot fails: snapshot_failed, its partial file deleted.
  fake.events.length = 0;
  fake.saveSnapshot = async (_p, file) => {
    fake.events.push('saveSnapshot');
    await writeFile(file, 'half');
    throw new Error('disk full');
  };
  await assert.rejects(collect(m.captureSnapshot().chunks()), rsmError('snapshot_failed', /could not save its snapshot: disk full/));
  assert.deepEqual(fake.events, ['prepareSnapshot', 'saveSnapshot']);
  assert.deepEqual(await strays(dir), []);
  assert.equal(fake.released.length, 1);
});

test('releaseSnapshot: called when the snapshot store fails before it reads the first piece', async (t) => {
  const { fake, m } = await opened(await tempDir(t));
  await applyAll(m, [set(2, 'a', '1')]);
  const store = new SnapshotStore(await tempDir(t));
  // The group's snapshot folder cannot be made: a file is in its place.
  await writeFile(store.root, 'not a folder');
  await assert.rejects(saveSnapshotOf(m, store, 'g', snap(2, 1)));
  assert.deepEqual(fake.events.slice(1), ['prepareSnapshot', 'releaseSnapshot']);
});

test('a stored on-disk snapshot whose machine file fails its checksum is refused before recoverFromSnapshot', async (t) => {
  const { fake: src, m: m1 } = await opened(await tempDir(t));
  await applyAll(m1, [set(2, 'a', 'AAAA')]);
  const store = new SnapshotStore(await tempDir(t));
  await store.saveStream('g', snap(2, 1), m1.captureSnapshot().chunks());
  const file = store.fileOf('g', 2, 1);
  const bad = await readFile(file);
  const at = bad.lastIndexOf('AAAA');
  bad[at + 3] ^= 0x02; // still valid JSON: "AAAC"
  await writeFile(file, bad);
  const { fake, m } = await opened(await tempDir(t));
  const reader = await store.open('g', 2, 1);
  try {
    await assert.rejects(m.restoreFrom(reader));
  } finally {
    await reader.close();
  }
  assert.ok(!fake.events.includes('recoverFromSnapshot'), `recovered ${JSON.stringify(fake.state)} from ${JSON.stringify(src.state)}`);
});

test('a stored snapshot of an in-memory machine that fails its checksum is refused on restore', async (t) => {
  const kv = createStateMachineManager(new KvMachine());
  await applyAll(kv, [entry(2, 'put', { key: 'a', value: 'AAAA' })]);
  const store = new SnapshotStore(await tempDir(t));
  await store.save('g', snap(2, 1), await kv.snapshot());
  const file = store.fileOf('g', 2, 1);
  const bad = await readFile(file);
  bad[bad.lastIndexOf('AAAA') + 3] ^= 0x02;
  await writeFile(file, bad);
  await assert.rejects(store.load('g', 2, 1), /checksum/, 'the whole-file read catches it');
  const other = createStateMachineManager(new KvMachine());
  await assert.rejects(restoreStored(other, store, 'g', snap(2, 1), { atStart: true }));
  assert.deepEqual(await other.query('get', { key: 'a' }), { value: null, revision: 0 });
});
