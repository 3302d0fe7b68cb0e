// SnapshotStore written and read in pieces (storage/snapshot-file-io.ts): a streamed save and a
// snapshot received from a peer reserve the header and write it last, and a reader checks the
// data's CRC as it reads it in order; what the whole-file readers (read, load, latest) see of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptLogError, StorageError } from '../../src/storage/errors.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { cs, snap } from './conformance.js';

async function withStore(fn: (s: SnapshotStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-snapstream-'));
  try {
    await fn(new SnapshotStore(dir), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const bytes = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed + (i >> 9)) & 0xff);

/** The data in pieces of `size` bytes (the last one shorter), yielded one after the other. */
async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) {
    await new Promise<void>((r) => setImmediate(r));
    yield data.subarray(off, Math.min(data.length, off + size));
  }
}

/** Reads a reader's data in order, `size` bytes at a time. */
async function readInOrder(r: { length: number; read(o: number, n: number): Promise<Uint8Array> }, size: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (let off = 0; off < r.length; off += size) parts.push(await r.read(off, size));
  return Buffer.concat(parts);
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

test('saveStream writes a snapshot from pieces; open() reads it back in pieces, byte for byte', async () => {
  await withStore(async (s) => {
    const data = bytes(3 * (1 << 20) + 12345);
    const meta = snap(40, 3, cs([1, 2, 3], [4]));
    assert.equal(await s.saveStream('g', meta, pieces(data, 100_000)), data.length);
    assert.deepEqual(await readdir(s.dirOf('g')), ['40-3.snap'], 'no temp file is left');
    const r = await s.open('g', 40, 3);
    try {
      assert.equal(r.length, data.length);
      assert.ok((await readInOrder(r, 70_001)).equals(data));
      // A read past the end is short, a read at the end empty.
      assert.equal((await r.read(data.length - 10, 100)).length, 10);
      assert.equal((await r.read(data.length, 100)).length, 0);
      // Out of order reads are plain reads.
      assert.ok(Buffer.from(await r.read(5, 20)).equals(Buffer.from(data.subarray(5, 25))));
    } finally {
      await r.close();
    }
  });
});

test('a streamed snapshot of 0 bytes is stored, opened, read and copied', async () => {
  await withStore(async (s, dir) => {
    assert.equal(await s.saveStream('g', snap(7, 2), pieces(new Uint8Array(0), 10)), 0);
    const r = await s.open('g', 7, 2);
    try {
      assert.equal(r.length, 0);
      assert.equal((await r.read(0, 100)).length, 0);
      const out = join(dir, 'copy');
      await r.copyTo(out, 0);
      assert.equal((await readFile(out)).length, 0);
    } finally {
      await r.close();
    }
    assert.equal((await s.load('g', 7, 2)).length, 0);
  });
});

test('read(), load() and latest() read a streamed file (its header is padded) like a saved one', async () => {
  await withStore(async (s) => {
    const data = bytes(300_000, 5);
    const meta = snap(12, 4, cs([1, 2]));
    await s.saveStream('g', meta, pieces(data, 64 << 10));
    await s.save('g', snap(9, 4, cs([1, 2])), bytes(10));
    const full = await s.read('g', 12, 4);
    assert.deepEqual(full.metadata, meta);
    assert.ok(Buffer.from(full.data).equals(Buffer.from(data)));
    assert.ok(Buffer.from(await s.load('g', 12, 4)).equals(Buffer.from(data)));
    assert.deepEqual(await s.latest('g'), meta);
    // The header was reserved for the widest numbers and written last, padded with spaces.
    const streamed = await readFile(s.fileOf('g', 12, 4));
    assert.match(streamed.subarray(16, streamed.length - data.length).toString('utf8'), /"dataLength":300000,"dataCrc":\d+\} +$/);
  });
});

test('a flipped data byte: the in-order read that reaches the end throws, copyTo throws and leaves no file', async () => {
  await withStore(async (s, dir) => {
    const data = bytes(2 * (1 << 20) + 777, 9);
    await s.saveStream('g', snap(10, 2), pieces(data, 1 << 18));
    const file = s.fileOf('g', 10, 2);
    const bad = await readFile(file);
    bad[bad.length - data.length + 1000] ^= 0x10;
    await writeFile(file, bad);
    const corrupt = (e: unknown) => e instanceof CorruptLogError && e.group === 'g' && e.index === 10 && /checksum/.test(e.message);

    const r = await s.open('g', 10, 2);
    try {
      const piece = 1 << 19;
      let off = 0;
      for (; off + piece < r.length; off += piece) await r.read(off, piece); // no verdict before the end
      await assert.rejects(r.read(off, piece), corrupt);
    } finally {
      await r.close();
    }
    for (const from of [0, 12345]) {
      const c = await s.open('g', 10, 2);
      const out = join(dir, `copy-${from}`);
      try {
        await assert.rejects(c.copyTo(out, from), corrupt);
      } finally {
        await c.close();
      }
      assert.equal(await exists(out), false, `no partial copy from ${from}`);
    }
    await assert.rejects(s.load('g', 10, 2), corrupt);
  });
});

test('copyTo copies the data from an offset into a new file', async () => {
  await withStore(async (s, dir) => {
    const data = bytes((1 << 20) * 2 + 5, 3);
    await s.saveStream('g', snap(10, 2), pieces(data, 1 << 20));
    const r = await s.open('g', 10, 2);
    try {
      const out = join(dir, 'tail');
      await r.copyTo(out, 1000);
      assert.ok((await readFile(out)).equals(Buffer.from(data.subarray(1000))));
    } finally {
      await r.close();
    }
  });
});

test('copyTo refuses to overwrite an existing file and leaves it alone', async () => {
  await withStore(async (s, dir) => {
    await s.saveStream('g', snap(10, 2), pieces(bytes(5000), 1000));
    const out = join(dir, 'taken');
    await writeFile(out, 'not yours');
    const r = await s.open('g', 10, 2);
    try {
      await assert.rejects(r.copyTo(out, 0), /EEXIST/);
    } finally {
      await r.close();
    }
    assert.equal(await readFile(out, 'utf8'), 'not yours');
  });
});

test('copyTo after earlier reads of the same reader still verifies the checksum', async () => {
  await withStore(async (s, dir) => {
    const data = bytes(200_000, 4);
    await s.saveStream('g', snap(10, 2), pieces(data, 50_000));
    const file = s.fileOf('g', 10, 2);
    const bad = await readFile(file);
    bad[bad.length - 10] ^= 0x01;
    await writeFile(file, bad);
    const r = await s.open('g', 10, 2);
    const out = join(dir, 'copy');
    try {
      await r.read(0, 12); // what the restore path reads first (the on-disk snapshot's head)
      await assert.rejects(r.copyTo(out, 12), CorruptLogError);
    } finally {
      await r.close();
    }
    assert.equal(await exists(out), false);
  });
});

test('saveStream: a failing source leaves no file', async () => {
  await withStore(async (s) => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield bytes(1000);
      throw new Error('source broke');
    }
    await assert.rejects(s.saveStream('g', snap(10, 2), failing()), /source broke/);
    assert.deepEqual(await readdir(s.dirOf('g')), []);
    await assert.rejects(s.open('g', 10, 2), (e: unknown) => (e as { code?: string }).code === 'snapshot_not_found');
  });
});

test('receive(): the sink commits exactly the announced length; otherwise no final file', async () => {
  await withStore(async (s) => {
    const data = bytes(50_000, 2);
    const ok = await s.receive('g', snap(10, 2), data.length);
    for await (const p of pieces(data, 7_000)) await ok.write(p);
    assert.equal(await s.latest('g'), undefined, 'nothing visible before commit');
    await ok.commit();
    assert.ok(Buffer.from(await s.load('g', 10, 2)).equals(Buffer.from(data)));
    await assert.rejects(ok.write(bytes(1)), StorageError);
    await assert.rejects(ok.commit(), StorageError);

    // Fewer bytes than announced.
    const short = await s.receive('g', snap(20, 3), 1000);
    await short.write(bytes(999));
    await assert.rejects(short.commit(), (e: unknown) => e instanceof StorageError && /999 bytes, 1000 were announced/.test(e.message));
    assert.equal(await exists(s.fileOf('g', 20, 3)), false);
    await short.abort();

    // More bytes than announced.
    const long = await s.receive('g', snap(30, 3), 1000);
    await long.write(bytes(600));
    await assert.rejects(long.write(bytes(401)), (e: unknown) => e instanceof StorageError && /overruns the announced 1000 bytes/.test(e.message));
    await long.abort();
    assert.equal(await exists(s.fileOf('g', 30, 3)), false);

    assert.deepEqual(await readdir(s.dirOf('g')), ['10-2.snap'], 'no temp file is left');
    assert.throws(() => s.receive('g', snap(40, 3), -1), StorageError);
  });
});

test('receive(): abort leaves nothing, and the sink takes no more writes', async () => {
  await withStore(async (s) => {
    const sink = await s.receive('g', snap(10, 2), 10_000);
    await sink.write(bytes(5000));
    assert.equal((await readdir(s.dirOf('g'))).length, 1, 'the temp file');
    await sink.abort();
    assert.deepEqual(await readdir(s.dirOf('g')), []);
    await sink.abort(); // twice is harmless
    await assert.rejects(sink.write(bytes(10)), StorageError);
    assert.deepEqual(await s.list('g'), []);
  });
});

test('prune() during a receive keeps its temp file (and drops an abandoned one); the receive then commits', async () => {
  await withStore(async (s) => {
    await s.save('g', snap(5, 1), bytes(100));
    const sink = await s.receive('g', snap(10, 2), 20_000);
    await sink.write(bytes(10_000));
    const [mine] = (await readdir(s.dirOf('g'))).filter((n) => n.startsWith('.tmp-'));
    assert.ok(mine, 'the receive has a temp file');
    await writeFile(join(s.dirOf('g'), '.tmp-99-9-1-abandoned.snap'), 'left by a crash');
    assert.equal(await s.prune('g', 0), 1, 'only the abandoned temp file goes');
    assert.deepEqual((await readdir(s.dirOf('g'))).sort(), [mine, '5-1.snap'].sort());
    await sink.write(bytes(10_000, 2));
    await sink.commit();
    assert.equal((await s.load('g', 10, 2)).length, 20_000);
    // Once settled, its temp name is not protected any more (and is gone anyway).
    assert.equal(await s.prune('g', 10), 1, 'the older snapshot goes');
    assert.deepEqual(await readdir(s.dirOf('g')), ['10-2.snap']);
  });
});
