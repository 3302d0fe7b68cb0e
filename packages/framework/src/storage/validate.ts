// Checks a write batch against what the store holds before anything reaches the disk. Both log
// stores share it, so a bad batch gets the same clear error from either, and changes nothing.
import { isSnapshotHistory } from '../core/snapshot-history.js';
import { EntryType, type ConfState, type HardState, type SnapshotMetadata } from '../core/types.js';
import { StorageError } from './errors.js';
import type { GroupWrite, RecoveredGroup } from './log-store.js';

/** What the stores track per group to validate writes: the log's bounds and the commit index. */
export interface GroupBounds {
  /** The latest snapshot's index: entries at or below it can no longer be written. */
  snapshotIndex: number;
  /** The last index in the log (== snapshotIndex when the log is empty). */
  lastIndex: number;
  commit: number;
}

export function boundsOf(g: RecoveredGroup): GroupBounds {
  const last = g.entries.length > 0 ? g.entries[g.entries.length - 1]!.index : g.snapshot.index;
  return { snapshotIndex: g.snapshot.index, lastIndex: last, commit: g.hardState.commit };
}

function invalid(detail: string): StorageError {
  return new StorageError('invalid_write', `invalid log write: ${detail}; nothing was written`);
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkIds(what: string, ids: unknown): void {
  if (!Array.isArray(ids)) throw invalid(`${what} must be an array of node ids`);
  for (const id of ids) if (!isIndex(id) || id === 0) throw invalid(`${what} holds ${String(id)}, not a positive integer node id`);
}

export function checkConfState(where: string, cs: ConfState | undefined): void {
  if (cs === null || typeof cs !== 'object') throw invalid(`${where}.confState is missing`);
  checkIds(`${where}.confState.voters`, cs.voters);
  checkIds(`${where}.confState.learners`, cs.learners);
  checkIds(`${where}.confState.votersOutgoing`, cs.votersOutgoing);
  checkIds(`${where}.confState.learnersNext`, cs.learnersNext);
  checkIds(`${where}.confState.witnesses`, cs.witnesses);
  if (typeof cs.autoLeave !== 'boolean') throw invalid(`${where}.confState.autoLeave must be a boolean`);
}

function checkSnapshotMeta(where: string, m: SnapshotMetadata | undefined): asserts m is SnapshotMetadata {
  if (m === null || typeof m !== 'object') throw invalid(`${where} must be snapshot metadata`);
  if (!isIndex(m.index) || !isIndex(m.term)) throw invalid(`${where} index/term must be non-negative integers`);
  if (m.index > 0 && m.term === 0) throw invalid(`${where} at index ${m.index} has term 0`);
  checkConfState(where, m.confState);
  if (m.history !== undefined && !isSnapshotHistory(m.history, m.index)) {
    throw invalid(`${where}.history must be { from <= ${m.index}, termChecksum, dataChecksum } (unsigned 32-bit checksums)`);
  }
}

function checkHardState(where: string, hs: HardState): void {
  if (hs === null || typeof hs !== 'object') throw invalid(`${where} must be a hard state`);
  if (!isIndex(hs.term) || !isIndex(hs.vote) || !isIndex(hs.commit)) {
    throw invalid(`${where} term/vote/commit must be non-negative integers`);
  }
}

/**
 * Validates `batch` against `bounds` (read-only) and returns the bounds after it, keyed by group
 * (null for a removed group). Throws StorageError('invalid_write') on the first problem.
 */
export function validateBatch(batch: readonly GroupWrite[], bounds: ReadonlyMap<string, GroupBounds>): Map<string, GroupBounds | null> {
  if (!Array.isArray(batch)) throw invalid('the batch must be an array of group writes');
  const next = new Map<string, GroupBounds | null>();
  for (let w = 0; w < batch.length; w++) {
    const gw = batch[w]!;
    if (gw === null || typeof gw !== 'object') throw invalid(`batch[${w}] is not a group write`);
    const group = gw.group;
    if (typeof group !== 'string' || group.length === 0) throw invalid(`batch[${w}].group must be a non-empty string`);
    const where = `group "${group}"`;
    if (gw.type !== undefined && typeof gw.type !== 'string') throw invalid(`${where}: type must be a string`);
    const prev = next.has(group) ? next.get(group) : bounds.get(group);
    const b: GroupBounds = prev ? { ...prev } : { snapshotIndex: 0, lastIndex: 0, commit: 0 };

    if (gw.snapshot !== undefined) {
      checkSnapshotMeta(`${where}: snapshot`, gw.snapshot);
      if (gw.snapshot.index < b.snapshotIndex) {
        throw invalid(`${where}: snapshot at index ${gw.snapshot.index} is older than the stored one at ${b.snapshotIndex}`);
      }
      b.snapshotIndex = gw.snapshot.index;
      b.lastIndex = gw.snapshot.index;
    }

    const ents = gw.entries ?? [];
    if (!Array.isArray(ents)) throw invalid(`${where}: entries must be an array`);
    if (ents.length > 0) {
      let prevTerm = 0;
      for (let i = 0; i < ents.length; i++) {
        const e = ents[i]!;
        if (e === null || typeof e !== 'object') throw invalid(`${where}: entries[${i}] is not an entry`);
        if (!isIndex(e.index) || e.index === 0) throw invalid(`${where}: entries[${i}].index must be a positive integer`);
        if (!isIndex(e.term) || e.term === 0) throw invalid(`${where}: entry ${e.index} has term ${String(e.term)}, not a positive integer`);
        if (e.type !== EntryType.Normal && e.type !== EntryType.ConfChange && e.type !== EntryType.Metadata) {
          throw invalid(`${where}: entry ${e.index} has unknown type ${String(e.type)}`);
        }
        if (!(e.data instanceof Uint8Array)) throw invalid(`${where}: entry ${e.index} data must be a Uint8Array`);
        if (i > 0) {
          const p = ents[i - 1]!;
          if (e.index !== p.index + 1) {
            throw invalid(`${where}: entries are not contiguous (index ${e.index} follows ${p.index})`);
          }
          if (e.term < prevTerm) throw invalid(`${where}: entry ${e.index} has term ${e.term}, lower than the term ${prevTerm} before it`);
        }
        prevTerm = e.term;
      }
      const first = ents[0]!.index;
      const last = ents[ents.length - 1]!.index;
      if (first <= b.snapshotIndex) {
        throw invalid(`${where}: entry ${first} is at or below the snapshot index ${b.snapshotIndex}`);
      }
      if (first > b.lastIndex + 1) {
        throw invalid(`${where}: entry ${first} would leave a gap after the last index ${b.lastIndex}`);
      }
      if (first <= b.commit) {
        throw invalid(`${where}: entry ${first} would overwrite committed entries (commit ${b.commit})`);
      }
      b.lastIndex = last;
    }

    if (gw.hardState !== undefined) {
      checkHardState(`${where}: hardState`, gw.hardState);
      b.commit = gw.hardState.commit;
    }

    if (gw.membership !== undefined) {
      const m = gw.membership;
      if (m === null || typeof m !== 'object' || !isIndex(m.appliedIndex)) {
        throw invalid(`${where}: membership needs a confState and a non-negative integer appliedIndex`);
      }
      checkConfState(`${where}: membership`, m.confState);
    }

    if (gw.compact !== undefined) {
      const c = gw.compact;
      if (c === null || typeof c !== 'object') throw invalid(`${where}: compact must be { snapshot, compactTo }`);
      checkSnapshotMeta(`${where}: compact.snapshot`, c.snapshot);
      if (!isIndex(c.compactTo)) throw invalid(`${where}: compactTo must be a non-negative integer`);
      if (c.snapshot.index < b.snapshotIndex) {
        throw invalid(`${where}: compaction snapshot at ${c.snapshot.index} is older than the stored one at ${b.snapshotIndex}`);
      }
      if (c.snapshot.index > b.lastIndex) {
        throw invalid(`${where}: compaction snapshot at ${c.snapshot.index} is beyond the last index ${b.lastIndex}`);
      }
      if (c.compactTo > c.snapshot.index) {
        throw invalid(`${where}: compactTo ${c.compactTo} is beyond the snapshot index ${c.snapshot.index}`);
      }
      b.snapshotIndex = c.snapshot.index;
    }

    if (b.commit > b.lastIndex) {
      throw invalid(`${where}: commit ${b.commit} is beyond the last index ${b.lastIndex}`);
    }
    if (gw.remove !== undefined && typeof gw.remove !== 'boolean') throw invalid(`${where}: remove must be a boolean`);
    next.set(group, gw.remove ? null : b);
  }
  return next;
}

/** Applies the result of validateBatch to the tracked bounds. */
/**
 * Validates a batch against the tracked bounds and, when it is valid, moves them (the stores do
 * this before a write is queued); throws the validation error otherwise, changing nothing.
 */
export function admitBatch(batch: readonly GroupWrite[], bounds: Map<string, GroupBounds>): void {
  applyBounds(bounds, validateBatch(batch, bounds));
}

export function applyBounds(bounds: Map<string, GroupBounds>, next: Map<string, GroupBounds | null>): void {
  for (const [g, b] of next) {
    if (b === null) bounds.delete(g);
    else bounds.set(g, b);
  }
}
