// How metadata rows are turned into the text their checksums cover, and the layout of the
// entry pages the worker streams at open(). Shared by the worker (which writes rows) and the
// loader (which verifies them), so the two can never disagree.
import type { ConfState, HardState, SnapshotHistory } from '../core/types.js';

export const hsText = (hs: HardState): string => `${hs.term},${hs.vote},${hs.commit}`;
export const membershipText = (confJson: string, appliedIndex: number): string => `${appliedIndex}|${confJson}`;
/** A snapshot row's text; `history` (historyText) only in rows that have it, so older rows' checksums still hold. */
export const snapText = (index: number, term: number, confJson: string, history: string | null): string =>
  history === null ? `${index},${term}|${confJson}` : `${index},${term}|${confJson}|${history}`;
/** A snapshot's history checksums as stored in snapshot_meta.history. */
export const historyText = (h: SnapshotHistory | undefined): string | null => (h ? `${h.from},${h.termChecksum},${h.dataChecksum}` : null);

/** The canonical JSON of a configuration (fixed key order), as stored. */
export const confJson = (cs: ConfState): string =>
  JSON.stringify({
    voters: cs.voters,
    learners: cs.learners,
    votersOutgoing: cs.votersOutgoing,
    learnersNext: cs.learnersNext,
    witnesses: cs.witnesses,
    autoLeave: cs.autoLeave,
  });

/** Raw metadata rows as stored (not yet verified). */
export interface RawGroupRow {
  gid: number;
  name: string;
  type: string;
  crc: number;
  batch: number;
}
export interface RawHardStateRow {
  gid: number;
  term: number;
  vote: number;
  commit_index: number;
  crc: number;
  batch: number;
}
export interface RawMembershipRow {
  gid: number;
  conf_state: string;
  applied_index: number;
  crc: number;
  batch: number;
}
export interface RawSnapshotRow {
  gid: number;
  idx: number;
  term: number;
  conf_state: string;
  /** historyText, or null in rows written without it. */
  history: string | null;
  crc: number;
  batch: number;
}
export interface RawMeta {
  groups: RawGroupRow[];
  hardStates: RawHardStateRow[];
  memberships: RawMembershipRow[];
  snapshots: RawSnapshotRow[];
  /** gids that have entries but no group row (found by a loose index scan). */
  orphanEntryGids: number[];
}

/**
 * Entry pages. At open() the worker reads each group's entries in pages with one SQL aggregate
 * per page, so that JS handles a few values per page instead of six per row (better-sqlite3
 * spends over a microsecond per row building it; SQLite's own stepping costs a fraction of that,
 * and a per-row printf() about 0.4 us, which the fast layout avoids). Two layouts:
 *
 * - fast: the common case, a page of contiguous indexes with one term and one type (checked by
 *   the aggregates). Per entry only `crc (4 bytes) ‖ data`; the data lengths come as a list.
 * - full: anything else (a term change inside the page, a gap, a damaged row) and every page in
 *   repair mode. Per entry, big-endian:
 *     idx u64 | term u64 | type u8 | batch u64 | crc length u8 | data length u32 | crc | data
 */
const PAGE_FROM = 'FROM (SELECT idx, term, type, data, crc, batch FROM entries WHERE gid = ? AND idx > ? ORDER BY idx LIMIT ?)';
export const PAGE_SQL_FAST = `SELECT count(*), min(idx), max(idx), min(term), max(term), min(type), max(type), max(batch),
    group_concat(length(data)), CAST(group_concat(crc || data, '') AS BLOB) ${PAGE_FROM}`;
export const PAGE_SQL_FULL = `SELECT count(*), max(idx), max(batch), CAST(group_concat(
    unhex(printf('%016X%016X%02X%016X%02X%08X', idx, term, type, batch, length(crc), length(data))) || crc || data, '') AS BLOB) ${PAGE_FROM}`;
export const FULL_HEADER = 30;
export const CRC_BYTES = 4;

export type EntryPage =
  | { format: 'fast'; count: number; maxBatch: number; first: number; term: number; type: number; lengths: Uint32Array; data: ArrayBuffer }
  | { format: 'full'; count: number; maxBatch: number; data: ArrayBuffer };
