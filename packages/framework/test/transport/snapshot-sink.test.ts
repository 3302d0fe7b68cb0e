// Snapshots streamed file to file: the sender reads from an envelope's snapshotSource one chunk
// ahead of the socket, and a receiver with a snapshotSink (the node's SnapshotStore) writes the
// chunks to disk as they arrive and delivers the message as stored, with no data in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageType, type SnapshotMetadata } from '../../src/core/types.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import type { SnapshotSinkFactory, SnapshotSource } from '../../src/transport/transport.js';
import type { WsTransportOptions } from '../../src/transport/ws-transport.js';
import { deadPort, msg, startNode, waitFor, type TestNode } from './helpers.js';

const EMPTY = new Uint8Array(0);
const confState = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false };
const meta = (index: number, term = 2): SnapshotMetadata => ({ index, term, confState });

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'raftkit-sink-'));
}

/** Node 1 sends to node 2, whose options (a sink) are given. */
async function pair(optsA: Partial<WsTransportOptions>, optsB: Partial<WsTransportOptions>): Promise<[TestNode, TestNode]> {
  const a = await startNode(1, optsA);
  const b = await startNode(2, optsB);
  a.transport.setPeer(2, b.address);
  b.transport.setPeer(1, a.address);
  return [a, b];
}

/** A Snapshot message for `group` whose data comes from `source`. */
function sourced(group: string, m: SnapshotMetadata, source: SnapshotSource, to = 2) {
  return { group, message: msg({ type: MessageType.Snapshot, to, term: 5, snapshot: { metadata: m, data: EMPTY } }), snapshotSource: source };
}

/** Stores `data` as snapshot `m` of `group` in `store`, streamed. */
async function stored(store: SnapshotStore, group: string, m: SnapshotMetadata, data: Uint8Array): Promise<void> {
  async function* one() {
    yield data;
  }
  await store.saveStream(group, m, one());
}

test('a snapshot streams from a stored file into the receiver store: delivered as stored, byte-identical', async () => {
  const srcDir = await tempDir();
  const dstDir = await tempDir();
  const source = new SnapshotStore(srcDir);
  const sink = new SnapshotStore(dstDir);
  // The receiver's in-memory limit does not apply to a stream into the sink.
  const [a, b] = await pair({ snapshotChunkBytes: 64 << 10 }, { snapshotSink: sink, maxSnapshotBytes: 4096 });
  try {
    const data = new Uint8Array((5 << 20) + 4321);
    randomFillSync(data);
    await stored(source, 'big', meta(1000, 4), data);
    const reader = await source.open('big', 1000, 4);
    let reads = 0;
    let closed = 0;
    const counted: SnapshotSource = {
      length: reader.length,
      read: (o, n) => (reads++, reader.read(o, n)),
      close: () => (closed++, reader.close()),
    };
    a.transport.send([sourced('big', meta(1000, 4), counted)]);
    await waitFor(() => a.events.statuses.length === 1, 20_000, 'the stream to settle');
    assert.deepEqual(a.events.statuses, [{ group: 'big', to: 2, ok: true }]);
    const got = b.events.received.filter((x) => x.env.group === 'big');
    assert.equal(got.length, 1);
    const m = got[0]!.env.message;
    assert.equal(m.type, MessageType.Snapshot);
    assert.equal(m.term, 5);
    assert.equal(m.snapshot!.stored, true);
    assert.equal(m.snapshot!.data.length, 0, 'no data in memory');
    assert.deepEqual(m.snapshot!.metadata, meta(1000, 4));
    // The store has it under its index and term, whole and checksummed.
    const copy = await sink.load('big', 1000, 4);
    assert.ok(Buffer.from(copy).equals(Buffer.from(data)));
    assert.deepEqual(await readdir(sink.dirOf('big')), ['1000-4.snap']);
    const chunks = Math.ceil(data.length / (64 << 10));
    assert.equal(b.transport.stats().snapshotChunksReceived, chunks);
    assert.equal(reads, chunks, 'each chunk read once, from the source');
    await waitFor(() => closed === 1, 2000, 'the source to be closed');
  } finally {
    await a.close();
    await b.close();
    await rm(srcDir, { recursive: true, force: true });
    await rm(dstDir, { recursive: true, force: true });
  }
});

test('a source whose read fails aborts the stream: the sender reports failure, the receiver stores nothing', async () => {
  const dstDir = await tempDir();
  const sink = new SnapshotStore(dstDir);
  const [a, b] = await pair({ snapshotChunkBytes: 16 << 10 }, { snapshotSink: sink });
  try {
    const total = 1 << 20;
    let closed = 0;
    const failing: SnapshotSource = {
      length: total,
      read: async (o, n) => {
        if (o >= 256 << 10) {
          // Fails once the receiver has its temp file, so that dropping it is what is seen.
          await waitForEntries(sink.dirOf('s'));
          throw new Error('disk on fire');
        }
        return new Uint8Array(n).fill(7);
      },
      close: async () => void closed++,
    };
    a.transport.send([sourced('s', meta(10), failing)]);
    await waitFor(() => a.events.statuses.length === 1, 5000, 'status');
    assert.deepEqual(a.events.statuses, [{ group: 's', to: 2, ok: false }]);
    assert.ok(a.logs.some((l) => l.msg.includes('aborted') && /disk on fire/.test(JSON.stringify(l.obj))));
    // The receiver dropped its temp file; nothing was delivered.
    await waitFor(() => b.logs.some((l) => l.msg.includes('sender aborted')), 5000, 'the receiver to see the abort');
    await waitForEmpty(sink.dirOf('s'));
    assert.deepEqual(await sink.list('s'), []);
    assert.equal(b.events.received.filter((x) => x.env.group === 's').length, 0);
    assert.equal(closed, 1);
    // The connection carries on: a good stream afterwards goes through.
    const good = new Uint8Array(100_000).fill(3);
    a.transport.send([sourced('s', meta(20), { length: good.length, read: async (o, n) => good.subarray(o, o + n), close: async () => undefined })]);
    await waitFor(() => a.events.statuses.length === 2, 5000, 'second status');
    assert.equal(a.events.statuses[1]!.ok, true);
    assert.equal((await sink.load('s', 20, 2)).length, 100_000);
  } finally {
    await a.close();
    await b.close();
    await rm(dstDir, { recursive: true, force: true });
  }
});

/** Waits until a directory has an entry. */
async function waitForEntries(dir: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await readdir(dir).catch(() => [] as string[])).length === 0) {
    if (Date.now() > deadline) assert.fail(`nothing appeared in ${dir}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until a directory is empty (or absent): aborts delete temp files asynchronously. */
async function waitForEmpty(dir: string): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.length === 0) return;
    if (Date.now() > deadline) assert.fail(`${dir} still holds ${names.join(', ')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a stored file that fails its checksum is not sent: the read reaching the end aborts the stream', async () => {
  const srcDir = await tempDir();
  const dstDir = await tempDir();
  const source = new SnapshotStore(srcDir);
  const sink = new SnapshotStore(dstDir);
  const [a, b] = await pair({ snapshotChunkBytes: 32 << 10 }, { snapshotSink: sink });
  try {
    const data = new Uint8Array(300_000).map((_, i) => i & 0xff);
    await stored(source, 'c', meta(30), data);
    const file = source.fileOf('c', 30, 2);
    const bad = await readFile(file);
    bad[bad.length - 5000] ^= 0x40;
    await writeFile(file, bad);
    a.transport.send([sourced('c', meta(30), await source.open('c', 30, 2))]);
    await waitFor(() => a.events.statuses.length === 1, 5000, 'status');
    assert.deepEqual(a.events.statuses, [{ group: 'c', to: 2, ok: false }]);
    assert.ok(a.logs.some((l) => /checksum/.test(JSON.stringify(l.obj))));
    await waitForEmpty(sink.dirOf('c'));
    assert.equal(b.events.received.length, 0);
  } finally {
    await a.close();
    await b.close();
    await rm(srcDir, { recursive: true, force: true });
    await rm(dstDir, { recursive: true, force: true });
  }
});

test('a stream larger than maxStoredSnapshotBytes is refused before anything is written', async () => {
  const dstDir = await tempDir();
  const sink = new SnapshotStore(dstDir);
  const [a, b] = await pair({}, { snapshotSink: sink, maxStoredSnapshotBytes: 10_000 });
  try {
    const data = new Uint8Array(10_001);
    a.transport.send([sourced('m', meta(40), { length: data.length, read: async (o, n) => data.subarray(o, o + n), close: async () => undefined })]);
    await waitFor(() => a.events.statuses.length === 1, 5000, 'status');
    assert.deepEqual(a.events.statuses, [{ group: 'm', to: 2, ok: false }]);
    assert.ok(b.logs.some((l) => l.msg.includes('refused a snapshot') && /exceeds the limit of 10000/.test(JSON.stringify(l.obj))));
    assert.deepEqual(await readdir(dstDir), [], 'not even the group folder was made');
    // At the limit it is taken (an in-memory message's data works as a source too).
    a.transport.send([{ group: 'm', message: msg({ type: MessageType.Snapshot, snapshot: { metadata: meta(41), data: data.subarray(1) } }) }]);
    await waitFor(() => a.events.statuses.length === 2, 5000, 'second status');
    assert.equal(a.events.statuses[1]!.ok, true);
    assert.equal(b.events.received[0]!.env.message.snapshot!.stored, true);
    assert.equal((await sink.load('m', 41, 2)).length, 10_000);
  } finally {
    await a.close();
    await b.close();
    await rm(dstDir, { recursive: true, force: true });
  }
});

test('a sink whose write fails mid-stream is aborted and the sender told', async () => {
  const events: string[] = [];
  const failingSink: SnapshotSinkFactory = {
    receive: async () => {
      let writes = 0;
      return {
        write: async () => {
          if (++writes === 3) throw new Error('ENOSPC: no space left on device');
        },
        commit: async () => void events.push('commit'),
        abort: async () => void events.push('abort'),
      };
    },
  };
  const [a, b] = await pair({ snapshotChunkBytes: 16 << 10 }, { snapshotSink: failingSink });
  try {
    const data = new Uint8Array(200_000);
    a.transport.send([sourced('w', meta(50), { length: data.length, read: async (o, n) => data.subarray(o, o + n), close: async () => undefined })]);
    await waitFor(() => a.events.statuses.length === 1, 5000, 'status');
    assert.deepEqual(a.events.statuses, [{ group: 'w', to: 2, ok: false }]);
    assert.equal(b.events.received.length, 0);
    await waitFor(() => events.length > 0, 2000, 'the sink to be aborted');
    assert.deepEqual(events, ['abort']);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a receiver whose disk is slower than the socket pauses it: memory stays bounded by a few MiB', async () => {
  const chunk = 256 << 10;
  let accepted = 0; // chunks the receiver took off the socket
  let written = 0; // chunks the sink finished writing
  let peak = 0;
  const slowSink: SnapshotSinkFactory = {
    receive: async () => ({
      write: async () => {
        await new Promise((r) => setTimeout(r, 3));
        written++;
      },
      commit: async () => undefined,
      abort: async () => undefined,
    }),
  };
  const [a, b] = await pair({ snapshotChunkBytes: chunk, snapshotHighWaterBytes: 8 << 20 }, { snapshotSink: slowSink });
  try {
    const data = new Uint8Array(48 << 20);
    const timer = setInterval(() => {
      accepted = b.transport.stats().snapshotChunksReceived;
      peak = Math.max(peak, (accepted - written) * chunk);
    }, 1);
    try {
      a.transport.send([sourced('p', meta(60), { length: data.length, read: async (o, n) => data.subarray(o, o + n), close: async () => undefined })]);
      await waitFor(() => a.events.statuses.length === 1, 30_000, 'status');
    } finally {
      clearInterval(timer);
    }
    assert.deepEqual(a.events.statuses, [{ group: 'p', to: 2, ok: true }]);
    assert.equal(written, data.length / chunk);
    // 8 MiB unwritten pauses the socket; what was already read from it still arrives.
    assert.ok(peak <= 16 << 20, `${peak >> 20} MiB waited for the disk`);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a snapshot source the transport refuses is closed too', async () => {
  const a = await startNode(1, { maxPendingSnapshots: 1 });
  try {
    a.transport.setPeer(2, `127.0.0.1:${await deadPort()}`);
    const closed: string[] = [];
    const source = (name: string): SnapshotSource => ({ length: 10, read: async () => new Uint8Array(10), close: async () => void closed.push(name) });
    a.transport.send([sourced('x', meta(70), source('queued')), sourced('y', meta(70), source('over the limit')), sourced('z', meta(70), source('unknown peer'), 9)]);
    await waitFor(() => a.events.statuses.length === 3, 5000, 'three statuses');
    assert.ok(a.events.statuses.every((st) => !st.ok));
    await waitFor(() => closed.length === 3, 2000, `every source to be closed (closed: ${closed.join(', ')})`);
  } finally {
    await a.close();
  }
});
