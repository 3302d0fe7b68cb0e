import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptLogError, StorageError } from '../../src/storage/errors.js';
import { SnapshotNotFoundError, SnapshotStore, encodeGroupName } from '../../src/storage/snapshot-store.js';
import { cs, snap } from './conformance.js';

async function withStore(fn: (s: SnapshotStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-snap-'));
  try {
    await fn(new SnapshotStore(dir), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const bytes = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 29 + seed) & 0xff);

test('SnapshotStore: save, load, latest, list, prune, remove', async () => {
  await withStore(async (s, dir) => {
    assert.equal(await s.latest('g'), undefined);
    assert.deepEqual(await s.list('g'), []);
    await s.save('g', snap(10, 2, cs([1, 2, 3])), bytes(1000));
    await s.save('g', snap(20, 3, cs([1, 2])), bytes(9 << 20, 2)); // larger than one checksum slice
    await s.save('g', snap(5, 1), new Uint8Array(0));
    await s.save('other', snap(7, 1), bytes(10));
    assert.deepEqual(Buffer.from(await s.load('g', 10, 2)), Buffer.from(bytes(1000)));
    assert.deepEqual(Buffer.from(await s.load('g', 20, 3)), Buffer.from(bytes(9 << 20, 2)));
    assert.equal((await s.load('g', 5, 1)).byteLength, 0);
    const full = await s.read('g', 10, 2);
    assert.deepEqual(full.metadata, snap(10, 2, cs([1, 2, 3])));
    assert.deepEqual(await s.latest('g'), snap(20, 3, cs([1, 2])));
    assert.deepEqual(await s.list('g'), [
      { index: 5, term: 1 },
      { index: 10, term: 2 },
      { index: 20, term: 3 },
    ]);
    await assert.rejects(s.load('g', 10, 3), SnapshotNotFoundError);
    assert.equal(await s.prune('g', 20), 2);
    assert.deepEqual(await s.list('g'), [{ index: 20, term: 3 }]);
    assert.deepEqual(await s.list('other'), [{ index: 7, term: 1 }]);
    await s.remove('g');
    assert.deepEqual(await s.list('g'), []);
    assert.deepEqual(await readdir(join(dir, 'snapshots')), [encodeGroupName('other')]);
  });
});

test('SnapshotStore: saves are atomic: no temp file is left, a crashed save is invisible and pruned', async () => {
  await withStore(async (s) => {
    await s.save('g', snap(10, 2), bytes(5000));
    const dir = s.dirOf('g');
    assert.deepEqual(await readdir(dir), ['10-2.snap']);
    // A save that crashed halfway: its temp file holds a partial snapshot 30-4.
    const good = await readFile(s.fileOf('g', 10, 2));
    await writeFile(join(dir, '.tmp-30-4-999-deadbeef.snap'), good.subarray(0, 100));
    assert.deepEqual(await s.latest('g'), snap(10, 2));
    assert.deepEqual(await s.list('g'), [{ index: 10, term: 2 }]);
    // Saving the same snapshot again replaces it whole.
    await s.save('g', snap(10, 2), bytes(6000, 3));
    assert.equal((await s.load('g', 10, 2)).byteLength, 6000);
    assert.equal(await s.prune('g', 0), 1, 'the stale temp file goes');
    assert.deepEqual(await readdir(dir), ['10-2.snap']);
  });
});

test('SnapshotStore: a damaged file is a CorruptLogError naming file, group and index', async () => {
  await withStore(async (s) => {
    const file = s.fileOf('g', 10, 2);
    const check = (what: RegExp) => (e: unknown) => {
      assert.ok(e instanceof CorruptLogError, String(e));
      assert.equal(e.group, 'g');
      assert.equal(e.index, 10);
      assert.equal(e.file, file);
      assert.match(e.message, what);
      return true;
    };
    await s.save('g', snap(10, 2), bytes(5000));
    const good = await readFile(file);

    const flipped = Buffer.from(good);
    flipped[flipped.length - 100] ^= 1;
    await writeFile(file, flipped);
    await assert.rejects(s.load('g', 10, 2), check(/data failed its checksum/));

    const header = Buffer.from(good);
    header[20] ^= 1;
    await writeFile(file, header);
    await assert.rejects(s.load('g', 10, 2), check(/header/));
    await assert.rejects(s.latest('g'), check(/header/));

    await writeFile(file, good.subarray(0, good.length - 1));
    await assert.rejects(s.load('g', 10, 2), check(/4999 bytes/));

    await writeFile(file, Buffer.from('not a snapshot at all'));
    await assert.rejects(s.load('g', 10, 2), check(/bad magic/));

    // A file renamed to another snapshot's name is caught by the header.
    await writeFile(file, good);
    await writeFile(s.fileOf('g', 11, 2), good);
    await assert.rejects(s.load('g', 11, 2), (e: unknown) => e instanceof CorruptLogError && /holds 10-2/.test(e.message));
  });
});

test('SnapshotStore: group names are encoded into safe, distinct directory names', async () => {
  const names = ['g', 'G', 'a/b', 'a%2Fb', '..', '.', 'CON', 'con', 'ünï ✓', 'a.b', 'a_b', 'a-b', '~', 'x'.repeat(300), 'x'.repeat(301), '\u0000'];
  const encoded = names.map(encodeGroupName);
  const folded = new Set(encoded.map((e) => e.toLowerCase()));
  assert.equal(folded.size, names.length, 'distinct even case-insensitively');
  for (const e of encoded) {
    assert.match(e, /^g_[a-z0-9_%A-F~-]+$/);
    assert.ok(e.length <= 200, e);
  }
  assert.throws(() => encodeGroupName(''), StorageError);
  await withStore(async (s) => {
    for (const [i, n] of names.entries()) await s.save(n, snap(i + 1, 1), bytes(10, i));
    for (const [i, n] of names.entries()) {
      assert.deepEqual(Buffer.from(await s.load(n, i + 1, 1)), Buffer.from(bytes(10, i)));
      assert.equal((await s.latest(n))!.index, i + 1);
    }
  });
});

test('SnapshotStore: bad input is refused before touching the disk', async () => {
  await withStore(async (s, dir) => {
    await assert.rejects(s.save('g', snap(-1, 1), bytes(1)), StorageError);
    await assert.rejects(s.save('g', { index: 1, term: 1, confState: { voters: 'x' } } as never, bytes(1)), StorageError);
    await assert.rejects(s.save('g', snap(1, 1), 'data' as never), StorageError);
    await assert.rejects(s.save('', snap(1, 1), bytes(1)), StorageError);
    assert.deepEqual(await readdir(dir), []);
  });
});
