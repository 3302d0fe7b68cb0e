// Reading the log back at open (worker side). The worker only reads: it streams the metadata rows
// and every group's entries in pages to the caller's thread, which verifies them (LogLoader)
// while the next page is read, and sends back the repairs it allows. Verification stays on the
// caller's side so that the rules live in one place (loader.ts) and reading overlaps checking.
import { groupCrc, rowCrc } from './checksum.js';
import { StorageError } from './errors.js';
import type { RepairOp } from './loader.js';
import { CRC_BYTES, hsText, type EntryPage, type RawGroupRow, type RawHardStateRow, type RawMembershipRow, type RawMeta, type RawSnapshotRow } from './records.js';
import type { Maintenance } from './sqlite-maintenance.js';
import { isSqlite, type Db, type GroupRow, type Statements } from './sqlite-schema.js';
import type { WorkerReply } from './wire.js';

/** Sends a reply to the caller's thread, transferring the given buffers. */
export type Send = (msg: WorkerReply, transfer?: ArrayBuffer[]) => void;

/**
 * Streams the metadata rows, then every group's entries after its snapshot in pages (one SQL
 * aggregate per page, see records.ts). Fills `groups` with the group rows, and hands maintenance
 * the compacted rows a stop left behind. The caller's thread verifies the pages (LogLoader) and
 * builds the entries while the next page is read, then sends 'ready' with any repairs to run.
 */
export function loadLog(
  db: Db,
  st: Statements,
  repairTornTail: boolean,
  groups: Map<string, GroupRow>,
  maintenance: Maintenance,
  id: number,
  send: Send,
): { entries: number; bytes: number } {
  const meta: RawMeta = {
    groups: db.prepare('SELECT gid, name, type, crc, batch FROM groups ORDER BY gid').all() as RawGroupRow[],
    hardStates: db.prepare('SELECT gid, term, vote, commit_index, crc, batch FROM hard_state').all() as RawHardStateRow[],
    memberships: db.prepare('SELECT gid, conf_state, applied_index, crc, batch FROM membership').all() as RawMembershipRow[],
    snapshots: db.prepare('SELECT gid, idx, term, conf_state, crc, batch, history FROM snapshot_meta').all() as RawSnapshotRow[],
    orphanEntryGids: [],
  };
  const known = new Set(meta.groups.map((g) => g.gid));
  // A loose index scan (one seek per distinct gid) for entries that belong to no group.
  const nextGid = db.prepare('SELECT gid FROM entries WHERE gid > ? ORDER BY gid LIMIT 1').pluck();
  for (let gid = nextGid.get(-1) as number | undefined; gid !== undefined; gid = nextGid.get(gid) as number | undefined) {
    if (!known.has(gid)) meta.orphanEntryGids.push(gid);
  }
  for (const g of meta.groups) groups.set(g.name, { gid: g.gid, name: g.name, type: g.type, prefix: groupCrc(g.name) });
  send({ kind: 'meta', id, meta });
  if (meta.orphanEntryGids.length > 0) return { entries: 0, bytes: 0 };

  const snapIndex = new Map(meta.snapshots.map((r) => [r.gid, r.idx]));
  maintenance.resumeTrims(snapIndex);
  const TARGET = 4 << 20;
  let n = 1024;
  let entries = 0;
  let bytes = 0;
  const full = repairTornTail; // repair needs every row's batch
  // Small pages (many small groups) travel several to a message.
  let outbox: { gid: number; page: EntryPage }[] = [];
  let outboxTransfer: ArrayBuffer[] = [];
  let outboxBytes = 0;
  const flush = () => {
    if (outbox.length === 0) return;
    send({ kind: 'pages', id, pages: outbox }, outboxTransfer);
    outbox = [];
    outboxTransfer = [];
    outboxBytes = 0;
  };
  for (const g of meta.groups) {
    let after = snapIndex.get(g.gid) ?? 0;
    for (;;) {
      let page: EntryPage | undefined;
      let maxIdx = after;
      try {
        if (!full) {
          const r = st.pageFast.get(g.gid, after, n) as [number, number, number, number, number, number, number, number, string | null, Buffer | null];
          const [count, minI, maxI, minTerm, maxTerm, minType, maxType, maxBatch, lens, blob] = r;
          if (!count) break;
          maxIdx = maxI;
          const lengths = count > 0 && lens !== null ? parseLengths(lens, count) : undefined;
          if (
            lengths &&
            blob &&
            minI === after + 1 &&
            maxI === after + count &&
            minTerm === maxTerm &&
            minType === maxType &&
            lengths.total + CRC_BYTES * count === blob.byteLength
          ) {
            page = { format: 'fast', count, maxBatch, first: minI, term: minTerm, type: minType, lengths: lengths.list, data: ownBuffer(blob) };
          }
        }
        if (!page) {
          const [count, maxI, maxBatch, blob] = st.pageFull.get(g.gid, after, n) as [number, number | null, number | null, Buffer | null];
          if (!count) break;
          maxIdx = maxI!;
          page = { format: 'full', count, maxBatch: maxBatch ?? 0, data: blob ? ownBuffer(blob) : new ArrayBuffer(0) };
        }
      } catch (e) {
        if (isSqlite(e, 'SQLITE_TOOBIG') && n > 1) {
          n = Math.max(1, n >> 1);
          continue;
        }
        throw e;
      }
      const count = page.count;
      entries += count;
      bytes += page.data.byteLength;
      outbox.push({ gid: g.gid, page });
      outboxTransfer.push(page.data);
      if (page.format === 'fast') outboxTransfer.push(page.lengths.buffer as ArrayBuffer);
      outboxBytes += page.data.byteLength;
      if (outboxBytes >= 1 << 20) flush();
      const requested = n;
      n = Math.max(16, Math.min(65536, Math.floor(TARGET / Math.max(1, bytes / entries))));
      if (count < requested) break;
      after = maxIdx;
    }
  }
  flush();
  return { entries, bytes };
}

/** After the caller verified the log: runs the repairs it allowed, in one transaction. */
export function runRepairs(db: Db, st: Statements, groups: ReadonlyMap<string, GroupRow>, repairs: RepairOp[], lastBatch: number): void {
  if (repairs.length === 0) return;
  const byGid = new Map([...groups.values()].map((g) => [g.gid, g]));
  db.transaction(() => {
    for (const r of repairs) {
      const g = byGid.get(r.gid);
      if (!g) throw new StorageError('storage_failed', `a repair names an unknown group (gid ${r.gid})`);
      if (r.deleteFrom !== undefined) st.delFrom.run(r.gid, r.deleteFrom);
      if (r.hardState) {
        const hs = r.hardState;
        st.putHs.run(r.gid, hs.term, hs.vote, hs.commit, rowCrc(g.prefix, hsText(hs)), lastBatch);
      }
    }
  })();
}

/** A Buffer's bytes as a transferable ArrayBuffer of their own (no copy when it already is one). */
function ownBuffer(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.byteLength) return b.buffer as ArrayBuffer;
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}

/** Parses SQLite's comma-separated list of `count` non-negative integers; undefined if malformed. */
function parseLengths(text: string, count: number): { list: Uint32Array; total: number } | undefined {
  const list = new Uint32Array(count);
  let total = 0;
  let k = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const ch = i < text.length ? text.charCodeAt(i) : 44;
    if (ch === 44) {
      if (digits === 0 || k >= count) return undefined;
      list[k++] = v;
      total += v;
      v = 0;
      digits = 0;
    } else if (ch >= 48 && ch <= 57 && digits < 10) {
      v = v * 10 + (ch - 48);
      digits++;
    } else return undefined;
  }
  return k === count ? { list, total } : undefined;
}
