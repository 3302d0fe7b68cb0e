// Messages between SqliteLogStore (the event-loop side) and its worker thread. Entry payloads
// travel packed: one ArrayBuffer per message (transferred, so each payload is copied exactly
// once, into the pack), with the small per-entry fields in typed arrays.
import type { ConfState, HardState, SnapshotMetadata } from '../core/types.js';
import type { RepairOp } from './loader.js';
import type { EntryPage, RawMeta } from './records.js';
import type { GroupWrite, StorageWarning } from './log-store.js';

export interface WorkerOpenOptions {
  dataDir: string;
  repairTornTail: boolean;
  /** Run PRAGMA quick_check at open when the database file is at most this big (bytes). */
  quickCheckMaxBytes: number;
  /** Quiet time after the last write before background vacuum/checkpoint steps run. */
  maintenanceIdleMs: number;
  /** Pages released per incremental_vacuum step (one short transaction each). */
  vacuumStepPages: number;
  /** Vacuum once the free pages exceed this many and this fraction of the file. */
  vacuumMinFreePages: number;
  vacuumMinFreeRatio: number;
  /** Checkpoint (PASSIVE) between writes once the WAL grows beyond this; TRUNCATE when idle. */
  walCheckpointBytes: number;
  /** SQLite page cache per connection, in KiB. */
  cacheKiB: number;
}

/** One group's share of a write, with its entries as a range of the packed arrays. */
export interface WireOp {
  group: string;
  type?: string;
  snapshot?: SnapshotMetadata;
  /** Index of the first entry (when count > 0). */
  first: number;
  count: number;
  /** Position of the first entry in the packed arrays. */
  at: number;
  hardState?: HardState;
  membership?: { confState: ConfState; appliedIndex: number };
  compact?: { snapshot: SnapshotMetadata; compactTo: number };
  remove?: boolean;
}

/** Entries packed column-wise: entry i's data is data[ends[i-1] .. ends[i]). */
export interface PackedEntries {
  terms: Float64Array;
  types: Uint8Array;
  ends: Float64Array;
  data: ArrayBuffer;
}

export type WorkerRequest =
  | { kind: 'open'; id: number; options: WorkerOpenOptions }
  /** After open: the caller verified everything; run its repairs (if any) and accept writes. */
  | { kind: 'ready'; id: number; repairs: RepairOp[]; lastBatch: number }
  | ({ kind: 'write'; id: number; ops: WireOp[] } & PackedEntries)
  | { kind: 'maintain'; id: number }
  | { kind: 'close'; id: number };

export interface OpenInfo {
  file: string;
  created: boolean;
  entries: number;
  bytes: number;
  /** How long PRAGMA quick_check took (null: skipped, see quickCheckMaxBytes). */
  quickCheckMs: number | null;
  /** The worker's time to read every row (verified meanwhile on the caller's thread). */
  readMs: number;
}

export interface MaintenanceInfo {
  vacuumedPages: number;
  checkpointed: boolean;
}

export type WireError =
  | { name: 'CorruptLogError'; file: string; group?: string; index?: number; detail: string }
  | { name: 'StorageError'; code: 'storage_failed' | 'storage_closed' | 'invalid_write'; message: string };

export type WorkerReply =
  | { kind: 'meta'; id: number; meta: RawMeta }
  /** Pages of groups' entries, in order (layouts in records.ts); their buffers are transferred. */
  | { kind: 'pages'; id: number; pages: { gid: number; page: EntryPage }[] }
  | { kind: 'loaded'; id: number; warnings: StorageWarning[]; info: OpenInfo }
  | { kind: 'done'; id: number; maintenance?: MaintenanceInfo }
  | { kind: 'error'; id: number; error: WireError };

/** Packs the entries of a run of writes; returns the ops and the transferable arrays. */
export function packWrites(writes: readonly GroupWrite[][]): { ops: WireOp[]; packed: PackedEntries; entries: number; bytes: number } {
  let n = 0;
  let bytes = 0;
  for (const batch of writes) {
    for (const gw of batch) {
      const ents = gw.entries ?? [];
      n += ents.length;
      for (const e of ents) bytes += e.data.byteLength;
    }
  }
  const terms = new Float64Array(n);
  const types = new Uint8Array(n);
  const ends = new Float64Array(n);
  const data = new ArrayBuffer(bytes);
  const view = new Uint8Array(data);
  const ops: WireOp[] = [];
  let at = 0;
  let off = 0;
  for (const batch of writes) {
    for (const gw of batch) {
      const ents = gw.entries ?? [];
      const op: WireOp = { group: gw.group, first: ents.length > 0 ? ents[0]!.index : 0, count: ents.length, at };
      if (gw.type !== undefined) op.type = gw.type;
      if (gw.snapshot !== undefined) op.snapshot = gw.snapshot;
      if (gw.hardState !== undefined) op.hardState = gw.hardState;
      if (gw.membership !== undefined) op.membership = gw.membership;
      if (gw.compact !== undefined) op.compact = gw.compact;
      if (gw.remove) op.remove = true;
      for (const e of ents) {
        terms[at] = e.term;
        types[at] = e.type;
        view.set(e.data, off);
        off += e.data.byteLength;
        ends[at] = off;
        at++;
      }
      ops.push(op);
    }
  }
  return { ops, packed: { terms, types, ends, data }, entries: n, bytes };
}
