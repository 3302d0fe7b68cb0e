// Start-up verification: turns the raw rows and entry pages the storage worker streams into
// recovered groups, checking every record's checksum, that each log is contiguous from
// snapshot.index + 1 with non-decreasing terms and known types, and that the commit index is
// within the log; and decides what a torn-tail repair may delete. It runs on the caller's thread
// while the worker reads the next page (the worker does the SQL, this the checksums and the Entry
// objects: the two halves cost about the same, so the open takes about as long as the slower).
import { isSnapshotHistory } from '../core/snapshot-history.js';
import { emptyConfState } from '../core/conf-state.js';
import { EntryType, type ConfState, type Entry, type HardState, type SnapshotHistory, type SnapshotMetadata } from '../core/types.js';
import { entryCrcAt, groupCrc, rowCrc } from './checksum.js';
import { CorruptLogError } from './errors.js';
import type { RecoveredGroup, StorageWarning } from './log-store.js';
import { CRC_BYTES, FULL_HEADER, hsText, membershipText, snapText, type EntryPage, type RawMeta } from './records.js';
import { checkConfState } from './validate.js';

/** What the worker must do to finish a torn-tail repair (one transaction). */
export interface RepairOp {
  gid: number;
  /** Delete this group's entries from this index on. */
  deleteFrom?: number;
  /** Rewrite the hard state (commit lowered to the repaired last index). */
  hardState?: HardState;
}

interface Problem {
  index: number;
  reason: string;
  /** The lowest batch among the records from the problem on. */
  minBatch: number;
}

interface LoadingGroup {
  gid: number;
  name: string;
  type: string;
  prefix: number;
  hardState: HardState;
  hsBatch: number;
  snapshot: SnapshotMetadata;
  confState: ConfState;
  membershipIndex: number;
  entries: Entry[];
  expected: number;
  prevTerm: number;
  problem?: Problem;
}

const TWO32 = 4294967296;

export class LogLoader {
  private readonly groups = new Map<number, LoadingGroup>();
  private readonly order: LoadingGroup[] = [];
  private maxBatch = 0;
  entries = 0;
  bytes = 0;

  constructor(
    private readonly file: string,
    private readonly repair: boolean,
  ) {}

  private corrupt(group: string | undefined, index: number | undefined, detail: string): CorruptLogError {
    return new CorruptLogError(this.file, group, index, detail);
  }

  private batch(b: number): void {
    if (b > this.maxBatch) this.maxBatch = b;
  }

  private parseConf(group: string, json: string, what: string): ConfState {
    try {
      const cs = JSON.parse(json) as ConfState;
      checkConfState(what, cs);
      return cs;
    } catch {
      throw this.corrupt(group, undefined, `the ${what} record holds an invalid configuration`);
    }
  }

  private parseHistory(group: string, index: number, text: string): SnapshotHistory {
    const parts = text.split(',').map((p) => (/^\d{1,16}$/.test(p) ? Number(p) : NaN));
    const history = { from: parts[0], termChecksum: parts[1], dataChecksum: parts[2] };
    if (parts.length !== 3 || !isSnapshotHistory(history, index)) throw this.corrupt(group, index, 'the snapshot metadata record holds invalid history checksums');
    return history;
  }

  /** The groups and their metadata rows. */
  meta(m: RawMeta): void {
    if (m.orphanEntryGids.length > 0) throw this.corrupt(undefined, undefined, `log entries belong to no group (gid ${m.orphanEntryGids[0]})`);
    const known = new Set(m.groups.map((g) => g.gid));
    const byGid = <T extends { gid: number }>(rows: T[], what: string): Map<number, T> => {
      const map = new Map<number, T>();
      for (const r of rows) {
        if (!known.has(r.gid)) throw this.corrupt(undefined, undefined, `a ${what} record belongs to no group (gid ${r.gid})`);
        map.set(r.gid, r);
      }
      return map;
    };
    const hs = byGid(m.hardStates, 'hard state');
    const mem = byGid(m.memberships, 'membership');
    const snaps = byGid(m.snapshots, 'snapshot metadata');
    for (const g of m.groups) {
      const prefix = groupCrc(g.name);
      if (rowCrc(prefix, g.type) !== g.crc) throw this.corrupt(g.name, undefined, 'the group record failed its checksum');
      this.batch(g.batch);
      let hardState: HardState = { term: 0, vote: 0, commit: 0 };
      let hsBatch = 0;
      const h = hs.get(g.gid);
      if (h) {
        hardState = { term: h.term, vote: h.vote, commit: h.commit_index };
        if (rowCrc(prefix, hsText(hardState)) !== h.crc) throw this.corrupt(g.name, undefined, 'the hard state record failed its checksum');
        hsBatch = h.batch;
        this.batch(h.batch);
      }
      let snapshot: SnapshotMetadata = { index: 0, term: 0, confState: emptyConfState() };
      const s = snaps.get(g.gid);
      if (s) {
        const history = s.history ?? null;
        if (rowCrc(prefix, snapText(s.idx, s.term, s.conf_state, history)) !== s.crc) throw this.corrupt(g.name, s.idx, 'the snapshot metadata record failed its checksum');
        snapshot = { index: s.idx, term: s.term, confState: this.parseConf(g.name, s.conf_state, 'snapshot metadata') };
        if (history !== null) snapshot.history = this.parseHistory(g.name, s.idx, history);
        this.batch(s.batch);
      }
      let confState = snapshot.confState;
      let membershipIndex = snapshot.index;
      const r = mem.get(g.gid);
      if (r) {
        if (rowCrc(prefix, membershipText(r.conf_state, r.applied_index)) !== r.crc) {
          throw this.corrupt(g.name, r.applied_index, 'the membership record failed its checksum');
        }
        this.batch(r.batch);
        if (r.applied_index >= snapshot.index) {
          confState = this.parseConf(g.name, r.conf_state, 'membership');
          membershipIndex = r.applied_index;
        }
      }
      const lg: LoadingGroup = {
        gid: g.gid,
        name: g.name,
        type: g.type,
        prefix,
        hardState,
        hsBatch,
        snapshot,
        confState,
        membershipIndex,
        entries: [],
        expected: snapshot.index + 1,
        prevTerm: snapshot.term,
      };
      this.groups.set(g.gid, lg);
      this.order.push(lg);
    }
  }

  /**
   * One page of a group's entries (layouts in records.ts). Verified records become entries whose
   * data are views into the page (no copy: a page of a few MiB stays alive while any of its
   * entries does).
   */
  page(gid: number, page: EntryPage): void {
    const g = this.groups.get(gid);
    if (!g) throw this.corrupt(undefined, undefined, `entries were read for an unknown group (gid ${gid})`);
    this.batch(page.maxBatch);
    if (page.format === 'fast') this.fastPage(g, page);
    else this.fullPage(g, page.count, page.data);
  }

  /** Contiguous indexes from `first`, one term and one type (the worker checked, so did SQLite's aggregates). */
  private fastPage(g: LoadingGroup, p: Extract<EntryPage, { format: 'fast' }>): void {
    if (g.problem) return; // (fast pages are never sent in repair mode)
    const { first, term, type, lengths, data: buf } = p;
    if (first !== g.expected) throw this.corrupt(g.name, g.expected, `entry ${g.expected} is missing (the next stored entry is ${first})`);
    if (type !== EntryType.Normal && type !== EntryType.ConfChange && type !== EntryType.Metadata) throw this.corrupt(g.name, first, `entry ${first} has unknown type ${type}`);
    if (term < g.prevTerm) throw this.corrupt(g.name, first, `entry ${first} has term ${term}, lower than the term ${g.prevTerm} before it`);
    const dv = new DataView(buf);
    const bytes = new Uint8Array(buf);
    const prefix = g.prefix;
    const entries = g.entries;
    let off = 0;
    let dataBytes = 0;
    for (let i = 0; i < p.count; i++) {
      const index = first + i;
      const dlen = lengths[i]!;
      if (entryCrcAt(prefix, index, term, type, bytes, off + CRC_BYTES, dlen) !== dv.getUint32(off)) {
        throw this.corrupt(g.name, index, `entry ${index} failed its checksum`);
      }
      entries.push({ term, index, type, data: new Uint8Array(buf, off + CRC_BYTES, dlen) });
      off += CRC_BYTES + dlen;
      dataBytes += dlen;
    }
    g.expected = first + p.count;
    g.prevTerm = term;
    this.entries += p.count;
    this.bytes += dataBytes;
  }

  private fullPage(g: LoadingGroup, count: number, buf: ArrayBuffer): void {
    const dv = new DataView(buf);
    const bytes = new Uint8Array(buf);
    const len = buf.byteLength;
    const offs: number[] = [];
    let sorted = true;
    let prevIdx = -1;
    for (let off = 0; off < len;) {
      if (off + FULL_HEADER > len) return this.framingError(g, 'an entry page ends inside a record header');
      const idx = dv.getUint32(off) * TWO32 + dv.getUint32(off + 4);
      const rest = dv.getUint8(off + 25) + dv.getUint32(off + 26);
      if (off + FULL_HEADER + rest > len) return this.framingError(g, 'an entry page ends inside a record');
      if (idx < prevIdx) sorted = false; // (a duplicate index is caught below as a gap)
      prevIdx = idx;
      offs.push(off);
      off += FULL_HEADER + rest;
    }
    if (offs.length !== count) return this.framingError(g, `an entry page holds ${offs.length} readable records of ${count} (a NULL column)`);
    // SQLite aggregates the rows in the order its subquery yields them; never rely on it blindly.
    if (!sorted) offs.sort((a, b) => dv.getUint32(a) * TWO32 + dv.getUint32(a + 4) - (dv.getUint32(b) * TWO32 + dv.getUint32(b + 4)));

    const prefix = g.prefix;
    const entries = g.entries;
    for (const off of offs) {
      const index = dv.getUint32(off) * TWO32 + dv.getUint32(off + 4);
      const term = dv.getUint32(off + 8) * TWO32 + dv.getUint32(off + 12);
      const type = dv.getUint8(off + 16);
      const batch = dv.getUint32(off + 17) * TWO32 + dv.getUint32(off + 21);
      const crcLen = dv.getUint8(off + 25);
      const dlen = dv.getUint32(off + 26);
      const at0 = off + FULL_HEADER + crcLen;
      if (g.problem) {
        if (batch < g.problem.minBatch) g.problem.minBatch = batch;
        continue;
      }
      let reason: string | undefined;
      let at = index;
      if (index !== g.expected) {
        reason = `entry ${g.expected} is missing (the next stored entry is ${index})`;
        at = g.expected;
      } else if (type !== EntryType.Normal && type !== EntryType.ConfChange && type !== EntryType.Metadata) {
        reason = `entry ${index} has unknown type ${type}`;
      } else if (crcLen !== CRC_BYTES || entryCrcAt(prefix, index, term, type, bytes, at0, dlen) !== dv.getUint32(off + FULL_HEADER)) {
        reason = `entry ${index} failed its checksum`;
      } else if (term < g.prevTerm) {
        reason = `entry ${index} has term ${term}, lower than the term ${g.prevTerm} before it`;
      }
      if (reason !== undefined) {
        if (!this.repair) throw this.corrupt(g.name, at, reason);
        g.problem = { index: at, reason, minBatch: batch };
        continue;
      }
      entries.push({ term, index, type, data: new Uint8Array(buf, at0, dlen) });
      g.expected++;
      g.prevTerm = term;
      this.entries++;
      this.bytes += dlen;
    }
  }

  private framingError(g: LoadingGroup, detail: string): void {
    if (!this.repair) throw this.corrupt(g.name, g.expected, detail);
    // Unreadable records can't be attributed to a batch: never repairable.
    if (!g.problem) g.problem = { index: g.expected, reason: detail, minBatch: -1 };
    else g.problem.minBatch = -1;
  }

  /** Final checks. Returns the groups, the repairs to run, and the warnings for the operator. */
  finish(): { groups: RecoveredGroup[]; repairs: RepairOp[]; warnings: StorageWarning[]; lastBatch: number } {
    const repairs: RepairOp[] = [];
    const warnings: StorageWarning[] = [];
    const max = this.maxBatch;
    for (const g of this.order) {
      const last = g.expected - 1;
      const op: RepairOp = { gid: g.gid };
      if (g.problem) {
        if (g.problem.minBatch !== max) {
          throw this.corrupt(g.name, g.problem.index, `${g.problem.reason}; records written before the last write batch (#${max}) are affected, so this is not a torn tail`);
        }
        op.deleteFrom = g.problem.index;
        warnings.push({
          code: 'torn_tail_repaired',
          group: g.name,
          index: g.problem.index,
          message: `group "${g.name}": ${g.problem.reason}; deleted the torn tail of the last write batch (#${max}) from index ${g.problem.index} on`,
        });
      }
      if (g.hardState.commit > last) {
        const detail = `the hard state's commit index ${g.hardState.commit} is beyond the last index ${last}`;
        // Only a commit index that the deleted torn tail itself left dangling may be lowered.
        if (!this.repair || !g.problem || g.hsBatch !== max) throw this.corrupt(g.name, last + 1, detail);
        g.hardState = { ...g.hardState, commit: last };
        op.hardState = g.hardState;
        warnings.push({
          code: 'torn_tail_repaired',
          group: g.name,
          index: last + 1,
          message: `group "${g.name}": ${detail}; lowered it to ${last} (the hard state was written by the torn last batch #${max})`,
        });
      }
      if (op.deleteFrom !== undefined || op.hardState) repairs.push(op);
    }
    const groups = this.order.map((g): RecoveredGroup => ({
      group: g.name,
      type: g.type,
      hardState: g.hardState,
      snapshot: g.snapshot,
      confState: g.confState,
      membershipIndex: g.membershipIndex,
      entries: g.entries,
    }));
    return { groups, repairs, warnings, lastBatch: max };
  }
}
