// The LogStore contract, run against every implementation (MemoryLogStore, SqliteLogStore): the
// same writes must recover the same groups after a restart, and bad writes must be refused the
// same way, changing nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, type ConfState, type Entry, type SnapshotMetadata } from '../../src/core/types.js';
import { StorageError } from '../../src/storage/errors.js';
import type { LogStore, RecoveredGroup } from '../../src/storage/log-store.js';

export interface StoreHarness {
  /** A store over the same data each time (a restart). */
  store(): LogStore;
  cleanup(): Promise<void>;
}

export const cs = (voters: number[], learners: number[] = []): ConfState => ({ ...emptyConfState(), voters, learners });
export const snap = (index: number, term: number, c: ConfState = cs([1, 2, 3])): SnapshotMetadata => ({ index, term, confState: c });

/** Entries lo..hi (inclusive) of `term`, with data derived from tag, index and term. */
export function ents(lo: number, hi: number, term: number, tag = 'e', type: EntryType = EntryType.Normal): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push({ index: i, term, type, data: new TextEncoder().encode(`${tag}:${i}:${term}`) });
  return out;
}

/** A comparable view of recovered groups: sorted by name, data as text. */
export function view(groups: RecoveredGroup[]) {
  return [...groups]
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
    .map((g) => ({
      ...g,
      entries: g.entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('latin1') })),
    }));
}

export function byName(groups: RecoveredGroup[], name: string): RecoveredGroup {
  const g = groups.find((x) => x.group === name);
  assert.ok(g, `group ${name} recovered`);
  return g;
}

const indexes = (g: RecoveredGroup) => g.entries.map((e) => e.index);
const terms = (g: RecoveredGroup) => g.entries.map((e) => e.term);

async function withStore<T>(h: StoreHarness, fn: (s: LogStore, groups: RecoveredGroup[]) => Promise<T>): Promise<T> {
  const s = h.store();
  const groups = await s.open();
  try {
    return await fn(s, groups);
  } finally {
    await s.close();
  }
}

const isInvalid = (e: unknown) => e instanceof StorageError && e.code === 'invalid_write';

export function conformance(name: string, make: () => Promise<StoreHarness>): void {
  const run = (title: string, fn: (h: StoreHarness) => Promise<void>): void =>
    void test(`${name}: ${title}`, async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    });

  run('an empty store recovers no groups', async (h) => {
    await withStore(h, async (_s, groups) => assert.deepEqual(groups, []));
  });

  run('round trip of several groups with every kind of record', async (h) => {
    const unicode = 'grp/ü ✓ "quoted"';
    await withStore(h, async (s) => {
      await s.write([
        { group: 'a', type: 'kv', snapshot: snap(0, 0), entries: [] },
        { group: 'b', type: 'sql', snapshot: snap(0, 0, cs([4, 5, 6])), entries: [] },
        { group: unicode, entries: [] },
      ]);
      await s.write([
        { group: 'a', entries: ents(1, 5, 1, 'a'), hardState: { term: 1, vote: 1, commit: 3 } },
        { group: 'b', entries: ents(1, 2, 2, 'b', EntryType.ConfChange), hardState: { term: 2, vote: 4, commit: 0 } },
        { group: unicode, entries: [{ index: 1, term: 7, type: EntryType.Normal, data: new Uint8Array(0) }] },
      ]);
      await s.write([
        { group: 'a', entries: ents(6, 6, 1, 'a', EntryType.Metadata), membership: { confState: cs([1, 2, 3], [9]), appliedIndex: 3 } },
        { group: 'b', entries: [], hardState: { term: 3, vote: 0, commit: 2 } },
      ]);
    });
    await withStore(h, async (_s, groups) => {
      assert.equal(groups.length, 3);
      const a = byName(groups, 'a');
      assert.equal(a.type, 'kv');
      assert.deepEqual(a.hardState, { term: 1, vote: 1, commit: 3 });
      assert.deepEqual(a.snapshot, snap(0, 0));
      assert.deepEqual(a.confState, cs([1, 2, 3], [9]));
      assert.equal(a.membershipIndex, 3);
      assert.deepEqual(indexes(a), [1, 2, 3, 4, 5, 6]);
      assert.equal(a.entries[5]!.type, EntryType.Metadata);
      assert.equal(new TextDecoder().decode(a.entries[2]!.data), 'a:3:1');
      const b = byName(groups, 'b');
      assert.equal(b.type, 'sql');
      assert.deepEqual(b.hardState, { term: 3, vote: 0, commit: 2 });
      assert.deepEqual(b.confState, cs([4, 5, 6]));
      assert.equal(b.membershipIndex, 0);
      assert.deepEqual(
        b.entries.map((e) => e.type),
        [EntryType.ConfChange, EntryType.ConfChange],
      );
      const u = byName(groups, unicode);
      assert.equal(u.type, '');
      assert.deepEqual(u.hardState, { term: 0, vote: 0, commit: 0 });
      assert.equal(u.entries.length, 1);
      assert.equal(u.entries[0]!.data.byteLength, 0);
      assert.equal(u.entries[0]!.term, 7);
    });
  });

  run('binary payloads of every byte value and of several sizes survive', async (h) => {
    const sizes = [0, 1, 255, 256, 511, 512, 513, 4096, 70_000, 1 << 20];
    const payload = (n: number, seed: number) => {
      const d = new Uint8Array(n);
      for (let i = 0; i < n; i++) d[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff;
      return d;
    };
    await withStore(h, async (s) => {
      await s.write([{ group: 'bin', entries: sizes.map((n, i) => ({ index: i + 1, term: 1, type: EntryType.Normal, data: payload(n, i) })) }]);
    });
    await withStore(h, async (_s, groups) => {
      const g = byName(groups, 'bin');
      assert.equal(g.entries.length, sizes.length);
      g.entries.forEach((e, i) => assert.deepEqual(Buffer.from(e.data), Buffer.from(payload(sizes[i]!, i)), `entry ${i + 1}`));
    });
  });

  run('an append truncates the conflicting tail', async (h) => {
    await withStore(h, async (s) => {
      await s.write([{ group: 'g', entries: ents(1, 6, 1), hardState: { term: 1, vote: 1, commit: 2 } }]);
      await s.write([{ group: 'g', entries: ents(4, 5, 2, 'new'), hardState: { term: 2, vote: 2, commit: 2 } }]);
      await s.write([{ group: 'g', entries: ents(6, 7, 3, 'newer') }]);
      await s.write([{ group: 'g', entries: ents(7, 7, 4, 'newest') }]);
    });
    await withStore(h, async (_s, groups) => {
      const g = byName(groups, 'g');
      assert.deepEqual(indexes(g), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(terms(g), [1, 1, 1, 2, 2, 3, 4]);
      assert.equal(new TextDecoder().decode(g.entries[4]!.data), 'new:5:2');
      assert.equal(new TextDecoder().decode(g.entries[6]!.data), 'newest:7:4');
    });
  });

  run('several writes to one group in one batch apply in order', async (h) => {
    await withStore(h, async (s) => {
      await s.write([
        { group: 'g', entries: ents(1, 4, 1) },
        { group: 'g', entries: ents(3, 5, 2) },
        { group: 'g', entries: [], hardState: { term: 2, vote: 1, commit: 5 } },
      ]);
    });
    await withStore(h, async (_s, groups) => {
      const g = byName(groups, 'g');
      assert.deepEqual(terms(g), [1, 1, 2, 2, 2]);
      assert.equal(g.hardState.commit, 5);
    });
  });

  run('an installed snapshot replaces the log; the log goes on after it', async (h) => {
    await withStore(h, async (s) => {
      await s.write([{ group: 'g', entries: ents(1, 5, 1), hardState: { term: 1, vote: 1, commit: 2 } }]);
      await s.write([{ group: 'g', snapshot: snap(20, 3, cs([1, 2])), entries: [], hardState: { term: 3, vote: 0, commit: 20 } }]);
      await s.write([{ group: 'g', entries: ents(21, 23, 3) }]);
    });
    await withStore(h, async (_s, groups) => {
      const g = byName(groups, 'g');
      assert.deepEqual(g.snapshot, snap(20, 3, cs([1, 2])));
      assert.deepEqual(g.confState, cs([1, 2]));
      assert.equal(g.membershipIndex, 20);
      assert.deepEqual(indexes(g), [21, 22, 23]);
      assert.equal(g.hardState.commit, 20);
    });
  });

  run('compaction drops the prefix and records the snapshot; membership follows the newer record', async (h) => {
    await withStore(h, async (s) => {
      await s.write([{ group: 'g', snapshot: snap(0, 0), entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 9 } }]);
      await s.write([{ group: 'g', entries: [], membership: { confState: cs([1, 2, 3, 4]), appliedIndex: 5 } }]);
      // The snapshot at 6 keeps entries 5..6 around (compactTo 4): they are not part of the log any more.
      await s.write([{ group: 'g', entries: [], compact: { snapshot: snap(6, 1, cs([1, 2, 3, 4])), compactTo: 4 } }]);
    });
    await withStore(h, async (s, groups) => {
      const g = byName(groups, 'g');
      assert.deepEqual(g.snapshot, snap(6, 1, cs([1, 2, 3, 4])));
      assert.deepEqual(indexes(g), [7, 8, 9, 10]);
      assert.equal(g.membershipIndex, 6, 'the snapshot is newer than the membership record');
      assert.deepEqual(g.confState, cs([1, 2, 3, 4]));
      await s.write([{ group: 'g', entries: [], membership: { confState: cs([1, 2, 3, 4, 5]), appliedIndex: 8 } }]);
      await s.write([{ group: 'g', entries: [], compact: { snapshot: snap(9, 1, cs([1, 2, 3])), compactTo: 9 } }]);
    });
    await withStore(h, async (_s, groups) => {
      const g = byName(groups, 'g');
      assert.deepEqual(indexes(g), [10]);
      assert.equal(g.snapshot.index, 9);
      assert.equal(g.membershipIndex, 9);
      assert.deepEqual(g.confState, cs([1, 2, 3]));
    });
  });

  run("a snapshot's history checksums are kept through a restart, replaced by the next snapshot's, absent when it has none", async (h) => {
    const history = { from: 1, termChecksum: 0xffffffff, dataChecksum: 12345 };
    await withStore(h, async (s) => {
      await s.write([{ group: 'g', snapshot: snap(0, 0), entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 9 } }]);
      await s.write([{ group: 'g', entries: [], compact: { snapshot: { ...snap(6, 1), history }, compactTo: 4 } }]);
    });
    await withStore(h, async (s, groups) => {
      assert.deepEqual(byName(groups, 'g').snapshot, { ...snap(6, 1), history });
      await s.write([{ group: 'g', entries: [], compact: { snapshot: snap(8, 1), compactTo: 8 } }]);
      await s.write([{ group: 'h', snapshot: { ...snap(3, 2), history: { ...history, from: 3 } }, entries: [] }]);
    });
    await withStore(h, async (s, groups) => {
      assert.deepEqual(byName(groups, 'g').snapshot, snap(8, 1));
      assert.ok(!('history' in byName(groups, 'g').snapshot));
      assert.deepEqual(byName(groups, 'h').snapshot.history, { ...history, from: 3 });
      for (const bad of [
        { ...history, from: 10 },
        { ...history, termChecksum: 2 ** 32 },
        { ...history, dataChecksum: -1 },
        { ...history, from: 1.5 },
      ]) {
        await assert.rejects(s.write([{ group: 'g', entries: [], compact: { snapshot: { ...snap(9, 1), history: bad }, compactTo: 9 } }]), isInvalid, JSON.stringify(bad));
      }
    });
    await withStore(h, async (_s, groups) => assert.deepEqual(byName(groups, 'g').snapshot, snap(8, 1), 'the refused writes changed nothing'));
  });

  run('a membership record newer than the snapshot wins', async (h) => {
    await withStore(h, async (s) => {
      await s.write([{ group: 'g', snapshot: snap(0, 0), entries: ents(1, 4, 1), hardState: { term: 1, vote: 1, commit: 4 } }]);
      await s.write([{ group: 'g', entries: [], compact: { snapshot: snap(2, 1), compactTo: 2 } }]);
      await s.write([{ group: 'g', entries: [], membership: { confState: cs([1, 2, 3], [7]), appliedIndex: 3 } }]);
    });
    await withStore(h, async (_s, groups) => {
      const g = byName(groups, 'g');
      assert.equal(g.membershipIndex, 3);
      assert.deepEqual(g.confState, cs([1, 2, 3], [7]));
    });
  });

  run('remove deletes a group; the name can be used again', async (h) => {
    await withStore(h, async (s) => {
      await s.write([
        { group: 'keep', entries: ents(1, 3, 1) },
        { group: 'drop', type: 't', entries: ents(1, 3, 1), hardState: { term: 1, vote: 1, commit: 3 }, membership: { confState: cs([1]), appliedIndex: 1 } },
      ]);
      await s.write([{ group: 'drop', entries: [], remove: true }]);
      await s.write([{ group: 'never-existed', entries: [], remove: true }]);
    });
    await withStore(h, async (s, groups) => {
      assert.deepEqual(
        groups.map((g) => g.group),
        ['keep'],
      );
      await s.write([{ group: 'drop', type: 'u', entries: ents(1, 1, 5) }]);
      // Removed and re-created in one batch: the new incarnation starts from nothing.
      await s.write([
        { group: 'keep', entries: [], remove: true },
        { group: 'keep', entries: ents(1, 1, 9, 'reborn') },
      ]);
    });
    await withStore(h, async (_s, groups) => {
      const d = byName(groups, 'drop');
      assert.equal(d.type, 'u');
      assert.deepEqual(terms(d), [5]);
      assert.deepEqual(d.hardState, { term: 0, vote: 0, commit: 0 });
      assert.equal(d.membershipIndex, 0);
      const k = byName(groups, 'keep');
      assert.deepEqual(terms(k), [9]);
    });
  });

  run('bad writes are refused with invalid_write and change nothing', async (h) => {
    await withStore(h, async (s) => {
      await s.write([{ group: 'g', snapshot: snap(0, 0), entries: ents(1, 5, 2), hardState: { term: 2, vote: 1, commit: 3 } }]);
      const bad: [string, Parameters<LogStore['write']>[0]][] = [
        ['gap after the last index', [{ group: 'g', entries: ents(7, 8, 2) }]],
        ['gap inside the batch', [{ group: 'g', entries: [...ents(6, 6, 2), ...ents(8, 8, 2)] }]],
        ['decreasing terms', [{ group: 'g', entries: [...ents(6, 6, 3), ...ents(7, 7, 2)] }]],
        ['overwrite of committed entries', [{ group: 'g', entries: ents(3, 4, 3) }]],
        ['commit beyond the last index', [{ group: 'g', entries: [], hardState: { term: 2, vote: 1, commit: 6 } }]],
        ['new group starting past index 1', [{ group: 'new', entries: ents(2, 3, 1) }]],
        ['unknown entry type', [{ group: 'g', entries: [{ index: 6, term: 2, type: 9 as EntryType, data: new Uint8Array(1) }] }]],
        ['data not bytes', [{ group: 'g', entries: [{ index: 6, term: 2, type: EntryType.Normal, data: 'x' as unknown as Uint8Array }] }]],
        ['term 0', [{ group: 'g', entries: ents(6, 6, 0) }]],
        ['empty group name', [{ group: '', entries: [] }]],
        ['compaction beyond the log', [{ group: 'g', entries: [], compact: { snapshot: snap(9, 2), compactTo: 9 } }]],
        ['compactTo beyond the snapshot', [{ group: 'g', entries: [], compact: { snapshot: snap(2, 2), compactTo: 3 } }]],
        ['bad membership', [{ group: 'g', entries: [], membership: { confState: { voters: [0] } as ConfState, appliedIndex: 1 } }]],
        // The whole batch is refused, including the valid part before the bad one.
        [
          'a good write followed by a bad one',
          [
            { group: 'other', entries: ents(1, 1, 1) },
            { group: 'g', entries: ents(9, 9, 2) },
          ],
        ],
      ];
      for (const [what, batch] of bad) await assert.rejects(s.write(batch), isInvalid, what);
      await s.write([{ group: 'g', entries: [], compact: { snapshot: snap(3, 2), compactTo: 3 } }]);
      await assert.rejects(s.write([{ group: 'g', entries: ents(3, 3, 2) }]), isInvalid, 'entry at the snapshot index');
      await assert.rejects(s.write([{ group: 'g', snapshot: snap(2, 2), entries: [] }]), isInvalid, 'older snapshot');
      // And the store still works.
      await s.write([{ group: 'g', entries: ents(6, 6, 2) }]);
    });
    await withStore(h, async (_s, groups) => {
      assert.deepEqual(
        groups.map((g) => g.group),
        ['g'],
      );
      const g = byName(groups, 'g');
      assert.deepEqual(indexes(g), [4, 5, 6]);
      assert.deepEqual(g.hardState, { term: 2, vote: 1, commit: 3 });
    });
  });

  run('concurrent writes resolve in order and all persist', async (h) => {
    await withStore(h, async (s) => {
      const order: number[] = [];
      const ps: Promise<void>[] = [];
      for (let i = 1; i <= 100; i++)
        ps.push(s.write([{ group: `g${i % 7}`, entries: ents(Math.floor((i - 1) / 7) + 1, Math.floor((i - 1) / 7) + 1, 1) }]).then(() => void order.push(i)));
      await Promise.all(ps);
      assert.deepEqual(
        order,
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    });
    await withStore(h, async (_s, groups) => {
      assert.equal(groups.length, 7);
      assert.equal(
        groups.reduce((n, g) => n + g.entries.length, 0),
        100,
      );
    });
  });

  run('writes after close are refused with storage_closed', async (h) => {
    const s = h.store();
    await assert.rejects(s.write([]), (e: unknown) => e instanceof StorageError && e.code === 'storage_closed', 'before open');
    await s.open();
    await s.write([{ group: 'g', entries: ents(1, 1, 1) }]);
    await s.close();
    await assert.rejects(s.write([{ group: 'g', entries: ents(2, 2, 1) }]), (e: unknown) => e instanceof StorageError && e.code === 'storage_closed');
    await s.close(); // idempotent
  });

  run('the caller may reuse its arrays once the write resolved', async (h) => {
    await withStore(h, async (s) => {
      const data = new TextEncoder().encode('original');
      const p = s.write([{ group: 'g', entries: [{ index: 1, term: 1, type: EntryType.Normal, data }] }]);
      await p;
      data.fill(0);
    });
    await withStore(h, async (_s, groups) => assert.equal(new TextDecoder().decode(byName(groups, 'g').entries[0]!.data), 'original'));
  });
}
