import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EntryType } from '../../src/core/types.js';
import { groupCrc, rowCrc } from '../../src/storage/checksum.js';
import { CorruptLogError, StorageError } from '../../src/storage/errors.js';
import { snapText } from '../../src/storage/records.js';
import type { GroupWrite, StorageWarning } from '../../src/storage/log-store.js';
import { SqliteLogStore, type SqliteLogStoreOptions } from '../../src/storage/sqlite-log-store.js';
import { byName, conformance, ents, snap } from './conformance.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'raftkit-storage-'));
const quiet = { onWarning: () => undefined };

conformance('SqliteLogStore', async () => {
  const dir = await tempDir();
  return {
    store: () => new SqliteLogStore(dir, { ...quiet, maintenanceIdleMs: 50 }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeAndClose(dir: string, batches: GroupWrite[][], opts: SqliteLogStoreOptions = {}): Promise<void> {
  const s = new SqliteLogStore(dir, { ...quiet, ...opts });
  await s.open();
  for (const b of batches) await s.write(b);
  await s.close();
}

/** Runs SQL on the closed store's file directly, bypassing every checksum. */
function raw(dir: string, fn: (db: Database.Database, gid: (name: string) => number) => void): void {
  const db = new Database(join(dir, 'raft.db'));
  try {
    fn(db, (name) => db.prepare('SELECT gid FROM groups WHERE name = ?').pluck().get(name) as number);
  } finally {
    db.close();
  }
}

async function openWith(dir: string, opts: SqliteLogStoreOptions = {}) {
  const warnings: StorageWarning[] = [];
  const s = new SqliteLogStore(dir, { onWarning: (w) => warnings.push(w), ...opts });
  const groups = await s.open();
  return { s, groups, warnings };
}

const corruptAt = (group: string, index: number) => (e: unknown) => {
  assert.ok(e instanceof CorruptLogError, `expected CorruptLogError, got ${String(e)}`);
  assert.equal(e.group, group);
  assert.equal(e.index, index);
  assert.match(e.message, new RegExp(`group "${group}", index ${index}`));
  assert.match(e.file, /raft\.db$/);
  return true;
};

// Two write batches: batch 1 = a:1..10 (commit 5), b:1..3; batch 2 (the last) = a:11..20 (commit 12), b:4..5.
const tornSetup: GroupWrite[][] = [
  [
    { group: 'a', entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 5 } },
    { group: 'b', entries: ents(1, 3, 1) },
  ],
  [
    { group: 'a', entries: ents(11, 20, 2), hardState: { term: 2, vote: 1, commit: 12 } },
    { group: 'b', entries: ents(4, 5, 1) },
  ],
];

test('SqliteLogStore: restart recovers many writes across groups', async () => {
  await withDir(async (dir) => {
    const s = new SqliteLogStore(dir, quiet);
    await s.open();
    for (let round = 0; round < 50; round++) {
      const batch: GroupWrite[] = [];
      for (let g = 0; g < 5; g++)
        batch.push({
          group: `g${g}`,
          entries: ents(round * 4 + 1, round * 4 + 4, 1 + (round >> 4), `r${round}`),
          hardState: { term: 1 + (round >> 4), vote: 1, commit: round * 4 },
        });
      await s.write(batch);
    }
    await s.close();
    const { s: s2, groups } = await openWith(dir);
    assert.equal(groups.length, 5);
    for (const g of groups) {
      assert.equal(g.entries.length, 200);
      assert.equal(g.entries[199]!.index, 200);
      assert.equal(g.hardState.commit, 196);
      assert.equal(new TextDecoder().decode(g.entries[100]!.data), 'r25:101:2');
    }
    assert.equal(s2.openInfo!.entries, 1000);
    assert.notEqual(s2.openInfo!.quickCheckMs, null, 'quick_check runs on a small file');
    await s2.close();
  });
});

test('SqliteLogStore: a raw UPDATE of an entry (bypassing the checksum) makes open() refuse, naming group and index', async () => {
  await withDir(async (dir) => {
    await writeAndClose(dir, tornSetup);
    raw(dir, (db, gid) => db.prepare("UPDATE entries SET data = CAST('tampered' AS BLOB) WHERE gid = ? AND idx = 7").run(gid('a')));
    await assert.rejects(openWith(dir), corruptAt('a', 7));
    // Repair does not help: entry 7 was not written by the last batch.
    await assert.rejects(openWith(dir, { repairTornTail: true }), (e: unknown) => corruptAt('a', 7)(e) && /not a torn tail/.test((e as Error).message));
  });
});

test("SqliteLogStore: a snapshot record's history checksums are covered by its checksum; a database from before the column gains it", async () => {
  const history = { from: 1, termChecksum: 7, dataChecksum: 8 };
  const withHistory: GroupWrite[][] = [
    [{ group: 'a', snapshot: snap(0, 0), entries: ents(1, 10, 1), hardState: { term: 1, vote: 1, commit: 9 } }],
    [{ group: 'a', entries: [], compact: { snapshot: { ...snap(6, 1), history }, compactTo: 6 } }],
  ];
  await withDir(async (dir) => {
    await writeAndClose(dir, withHistory);
    raw(dir, (db, gid) => db.prepare("UPDATE snapshot_meta SET history = '1,7,9' WHERE gid = ?").run(gid('a')));
    await assert.rejects(openWith(dir), corruptAt('a', 6));
  });
  await withDir(async (dir) => {
    await writeAndClose(dir, withHistory);
    // A record whose checksum was computed over an invalid history is refused by its content.
    raw(dir, (db) => {
      const row = db.prepare('SELECT gid, conf_state FROM snapshot_meta').get() as { gid: number; conf_state: string };
      db.prepare('UPDATE snapshot_meta SET history = ?, crc = ? WHERE gid = ?').run('7,7,8', rowCrc(groupCrc('a'), snapText(6, 1, row.conf_state, '7,7,8')), row.gid);
    });
    await assert.rejects(openWith(dir), (e: unknown) => corruptAt('a', 6)(e) && /history checksums/.test((e as Error).message));
  });
  await withDir(async (dir) => {
    await writeAndClose(dir, [withHistory[0]!, [{ group: 'a', entries: [], compact: { snapshot: snap(6, 1), compactTo: 6 } }]]);
    // The file as the builds before the column wrote it.
    raw(dir, (db) => db.exec('ALTER TABLE snapshot_meta DROP COLUMN history'));
    const { s, groups } = await openWith(dir);
    try {
      assert.deepEqual(byName(groups, 'a').snapshot, snap(6, 1));
      await s.write([{ group: 'a', entries: [], compact: { snapshot: { ...snap(8, 1), history }, compactTo: 8 } }]);
    } finally {
      await s.close();
    }
    const again = await openWith(dir);
    await again.s.close();
    assert.deepEqual(byName(again.groups, 'a').snapshot, { ...snap(8, 1), history });
  });
});

test('SqliteLogStore: a flipped byte inside the database file is caught by the entry checksum', async () => {
  await withDir(async (dir) => {
    const marker = 'MARKER-' + 'x'.repeat(40) + '-END';
    await writeAndClose(dir, [
      [{ group: 'files', entries: [...ents(1, 2, 1), { index: 3, term: 1, type: EntryType.Normal, data: new TextEncoder().encode(marker) }, ...ents(4, 5, 1)] }],
    ]);
    const file = join(dir, 'raft.db');
    const bytes = await readFile(file);
    const at = bytes.indexOf(Buffer.from(marker));
    assert.ok(at > 0 && bytes.indexOf(Buffer.from(marker), at + 1) === -1, 'the payload is in the file once');
    bytes[at + 20] ^= 0x20;
    await writeFile(file, bytes);
    await assert.rejects(openWith(dir), corruptAt('files', 3));
  });
});

test('SqliteLogStore: long logs load in pages, in both page layouts, and damage deep inside is found', async () => {
  await withDir(async (dir) => {
    const batches: GroupWrite[][] = [];
    for (let i = 1; i <= 6000; i += 1000) {
      batches.push([
        { group: 'one-term', entries: ents(i, i + 999, 1) },
        // Terms change every 1,500 entries and a ConfChange sits at 2,500: some pages take the full layout.
        { group: 'mixed', entries: ents(i, i + 999, 1 + Math.floor(i / 1500)).map((e) => (e.index === 2500 ? { ...e, type: EntryType.ConfChange } : e)) },
      ]);
    }
    await writeAndClose(dir, batches);
    const { s, groups } = await openWith(dir);
    for (const name of ['one-term', 'mixed']) {
      const g = byName(groups, name);
      assert.deepEqual(
        g.entries.map((e) => e.index),
        Array.from({ length: 6000 }, (_, i) => i + 1),
        name,
      );
      assert.equal(new TextDecoder().decode(g.entries[4321]!.data), `e:4322:${name === 'mixed' ? 3 : 1}`);
    }
    assert.equal(byName(groups, 'mixed').entries[2499]!.type, EntryType.ConfChange);
    await s.close();
    raw(dir, (db, gid) => db.prepare("UPDATE entries SET data = CAST('x' AS BLOB) WHERE gid = ? AND idx = 4000").run(gid('one-term')));
    await assert.rejects(openWith(dir), corruptAt('one-term', 4000));
    raw(dir, (db, gid) => {
      db.prepare("UPDATE entries SET data = CAST('e:4000:1' AS BLOB) WHERE gid = ? AND idx = 4000").run(gid('one-term'));
      db.prepare('DELETE FROM entries WHERE gid = ? AND idx = 5000').run(gid('one-term'));
    });
    await assert.rejects(openWith(dir), (e: unknown) => corruptAt('one-term', 5000)(e) && /entry 5000 is missing/.test((e as Error).message));
    raw(dir, (db, gid) => db.prepare('DELETE FROM entries WHERE gid = ? AND idx > 4999').run(gid('one-term')));
    raw(dir, (db, gid) => db.prepare('UPDATE entries SET term = 9 WHERE gid = ? AND idx = 1234').run(gid('mixed')));
    await assert.rejects(openWith(dir), corruptAt('mixed', 1234));
  });
});

test('SqliteLogStore: a file that is not a database is a CorruptLogError', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'raft.db'), Buffer.alloc(8192, 0x5a));
    await assert.rejects(openWith(dir), (e: unknown) => e instanceof CorruptLogError && /raft\.db/.test(e.message));
  });
});

test('SqliteLogStore: a torn tail of the last batch is refused, or repaired with repairTornTail', async () => {
  await withDir(async (dir) => {
    await writeAndClose(dir, tornSetup);
    raw(dir, (db, gid) => db.prepare("UPDATE entries SET data = X'00' WHERE gid = ? AND idx = 15").run(gid('a')));
    await assert.rejects(openWith(dir), corruptAt('a', 15));
    const { s, groups, warnings } = await openWith(dir, { repairTornTail: true });
    const a = byName(groups, 'a');
    assert.equal(a.entries.length, 14);
    assert.equal(a.hardState.commit, 12);
    assert.equal(byName(groups, 'b').entries.length, 5);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.group, w.index]),
      [['torn_tail_repaired', 'a', 15]],
    );
    // The log goes on from the repaired tail.
    await s.write([{ group: 'a', entries: ents(15, 16, 3) }]);
    await s.close();
    const again = await openWith(dir);
    assert.deepEqual(
      byName(again.groups, 'a')
        .entries.map((e) => e.term)
        .slice(-3),
      [2, 3, 3],
    );
    assert.deepEqual(again.warnings, []);
    await again.s.close();
  });
});

test('SqliteLogStore: repairing a torn tail below the commit index lowers it; a hole is a torn tail too', async () => {
  await withDir(async (dir) => {
    await writeAndClose(dir, tornSetup);
    raw(dir, (db, gid) => db.prepare("UPDATE entries SET crc = X'00000000' WHERE gid = ? AND idx = 11").run(gid('a')));
    await assert.rejects(openWith(dir), corruptAt('a', 11));
    const { s, groups, warnings } = await openWith(dir, { repairTornTail: true });
    const a = byName(groups, 'a');
    assert.equal(a.entries.length, 10);
    assert.equal(a.hardState.commit, 10);
    assert.deepEqual(
      warnings.map((w) => [w.code, w.index]),
      [
        ['torn_tail_repaired', 11],
        ['torn_tail_repaired', 11],
      ],
    );
    await s.close();
  });
  await withDir(async (dir) => {
    await writeAndClose(dir, tornSetup);
    raw(dir, (db, gid) => db.prepare('DELETE FROM entries WHERE gid = ? AND idx = 18').run(gid('a')));
    await assert.rejects(openWith(dir), (e: unknown) => corruptAt('a', 18)(e) && /entry 18 is missing/.test((e as Error).message));
    const { s, groups } = await openWith(dir, { repairTornTail: true });
    assert.equal(byName(groups, 'a').entries.length, 17);
    await s.close();
  });
});

test('SqliteLogStore: a commit index beyond the log is refused', async () => {
  await withDir(async (dir) => {
    await writeAndClose(dir, tornSetup);
    raw(dir, (db, gid) => db.prepare('DELETE FROM entries WHERE gid = ? AND idx > 4').run(gid('a')));
    // Entries 5..10 came from batch 1, so this is not a torn tail of the last batch.
    await assert.rejects(
      openWith(dir, { repairTornTail: true }),
      (e: unknown) => e instanceof CorruptLogError && e.group === 'a' && /commit index 12 is beyond the last index 4/.test(e.message),
    );
  });
});

test('SqliteLogStore: concurrent writes are coalesced into few transactions', async () => {
  await withDir(async (dir) => {
    const s = new SqliteLogStore(dir, quiet);
    await s.open();
    const n = 256;
    const data = new Uint8Array(256).fill(7);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        s.write([{ group: `w${i}`, entries: [{ index: 1, term: 1, type: EntryType.Normal, data }], hardState: { term: 1, vote: 1, commit: 1 } }]),
      ),
    );
    const st = s.stats();
    assert.equal(st.writes, n);
    assert.equal(st.entries, n);
    assert.ok(st.transactions <= n / 8, `${st.transactions} transactions for ${n} writes`);
    assert.ok(st.maxCoalesced >= n / 2, `max coalesced ${st.maxCoalesced}`);
    await s.close();
    const { s: s2, groups } = await openWith(dir);
    assert.equal(groups.length, n);
    await s2.close();
  });
});

test('SqliteLogStore: after compaction the file shrinks (incremental vacuum + WAL checkpoint, in the background)', async () => {
  await withDir(async (dir) => {
    const s = new SqliteLogStore(dir, { ...quiet, maintenanceIdleMs: 20 });
    await s.open();
    const data = new Uint8Array(4000).fill(1);
    const total = 4096; // ~16 MiB
    for (let i = 1; i <= total; i += 512) {
      await s.write([
        {
          group: 'big',
          entries: Array.from({ length: 512 }, (_, k) => ({ index: i + k, term: 1, type: EntryType.Normal, data })),
          hardState: { term: 1, vote: 1, commit: i + 511 },
        },
      ]);
    }
    const written = await s.sizeOnDisk();
    assert.ok(written > 16_000_000, `wrote ${written} bytes`);
    await s.write([{ group: 'big', entries: [], compact: { snapshot: snap(total, 1), compactTo: total } }]);
    const deadline = Date.now() + 8000;
    let size = await s.sizeOnDisk();
    while (size > written / 5 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      size = await s.sizeOnDisk();
    }
    assert.ok(size < written / 5, `size on disk went from ${written} to ${size} bytes`);
    // The explicit form has nothing left to do.
    const m = await s.maintain();
    assert.equal(m.vacuumedPages, 0);
    await s.close();
    const { s: s2, groups } = await openWith(dir);
    assert.equal(byName(groups, 'big').snapshot.index, total);
    assert.equal(byName(groups, 'big').entries.length, 0);
    await s2.close();
  });
});

test('SqliteLogStore: a compacted prefix is deleted a slice per transaction; rows left by a stop are dead and trimmed later', async () => {
  await withDir(async (dir) => {
    const rows = (min: number, max: number) => {
      let n = 0;
      raw(dir, (db, gid) => {
        n = db.prepare('SELECT count(*) FROM entries WHERE gid = ? AND idx BETWEEN ? AND ?').pluck().get(gid('g'), min, max) as number;
      });
      return n;
    };
    // Writes keep coming (no idle maintenance): each transaction deletes only a slice.
    await writeAndClose(
      dir,
      [
        [{ group: 'g', entries: ents(1, 4000, 1), hardState: { term: 1, vote: 1, commit: 4000 } }],
        [{ group: 'g', entries: [], compact: { snapshot: snap(3900, 1), compactTo: 3800 } }],
        [{ group: 'g', entries: ents(4001, 4001, 1) }],
      ],
      { maintenanceIdleMs: 60_000 },
    );
    const left = rows(1, 3800);
    assert.ok(left > 3000 && left < 3800, `${left} compacted rows left after two transactions`);
    assert.equal(rows(3801, 4001), 201);
    // Reopened, the log starts after the snapshot whatever rows are still there.
    const { s, groups } = await openWith(dir, { maintenanceIdleMs: 60_000 });
    const g = byName(groups, 'g');
    assert.equal(g.snapshot.index, 3900);
    assert.deepEqual([g.entries[0]!.index, g.entries.at(-1)!.index], [3901, 4001]);
    await s.maintain();
    await s.close();
    assert.equal(rows(1, 3900), 0, 'maintenance deletes every row at or below the snapshot left from before the restart');
    assert.equal(rows(3901, 4001), 101);
  });
});

test('SqliteLogStore: a write that runs long is reported (slow_write) while it runs, and still completes', async () => {
  await withDir(async (dir) => {
    const warnings: StorageWarning[] = [];
    const s = new SqliteLogStore(dir, { onWarning: (w) => warnings.push(w), slowWriteMs: 2 });
    await s.open();
    const data = new Uint8Array(1024).fill(3);
    const n = 30_000;
    await s.write([{ group: 'g', entries: Array.from({ length: n }, (_, i) => ({ index: i + 1, term: 1, type: EntryType.Normal, data })) }]);
    const slow = warnings.filter((w) => w.code === 'slow_write');
    assert.ok(slow.length >= 1, `warnings: ${JSON.stringify(warnings)}`);
    assert.match(slow[0]!.message, new RegExp(`log write of ${n} entries has been running for \\d+ ms`));
    // Nothing more is reported once it has completed.
    const count = slow.length;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(warnings.filter((w) => w.code === 'slow_write').length, count);
    await s.close();
    const { s: s2, groups } = await openWith(dir);
    assert.equal(byName(groups, 'g').entries.length, n);
    await s2.close();
  });
});

test('SqliteLogStore: a crashed worker rejects every pending and later write, never hangs', async () => {
  await withDir(async (dir) => {
    const s = new SqliteLogStore(dir, quiet);
    await s.open();
    await s.write([{ group: 'g', entries: ents(1, 1, 1) }]);
    const pending = Array.from({ length: 20 }, (_, i) => s.write([{ group: 'g', entries: ents(i + 2, i + 2, 1) }]));
    await s.crashWorkerForTesting();
    const results = await Promise.allSettled(pending);
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(r.reason instanceof StorageError && r.reason.code === 'storage_failed', String(r.reason));
    }
    assert.ok(results.some((r) => r.status === 'rejected'));
    await assert.rejects(s.write([{ group: 'g', entries: ents(99, 99, 1) }]), (e: unknown) => e instanceof StorageError && e.code === 'storage_failed');
    await assert.rejects(s.maintain(), StorageError);
    await s.close();
    // The database is intact and can be opened again in this process.
    const { s: s2, groups } = await openWith(dir);
    const g = byName(groups, 'g');
    assert.ok(g.entries.length >= 1);
    assert.deepEqual(
      g.entries.map((e) => e.index),
      Array.from({ length: g.entries.length }, (_, i) => i + 1),
    );
    await s2.close();
  });
});

test('SqliteLogStore: one store per data dir', async () => {
  await withDir(async (dir) => {
    const a = new SqliteLogStore(dir, quiet);
    await a.open();
    const b = new SqliteLogStore(dir, quiet);
    await assert.rejects(b.open(), (e: unknown) => e instanceof StorageError && /in use/.test(e.message));
    await b.close();
    await a.write([{ group: 'g', entries: ents(1, 1, 1) }]);
    await a.close();
    await assert.rejects(a.open(), StorageError, 'a store opens once');
  });
});

test('SqliteLogStore: quick_check is skipped (with a warning) above quickCheckMaxBytes', async () => {
  await withDir(async (dir) => {
    await writeAndClose(dir, tornSetup);
    const { s, warnings } = await openWith(dir, { quickCheckMaxBytes: 0 });
    assert.equal(s.openInfo!.quickCheckMs, null);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['integrity_check_skipped'],
    );
    await s.close();
  });
});
