// The replicated application each data node runs. Its whole state is a running checksum of the
// entries it applied, which is exactly what the checker needs: two nodes that applied the same
// history have the same checksum at every index. Snapshots carry the checksum at their index.

import type { Entry } from '../core/types.js';
import { HASH_START, foldData, foldTerm } from '../common/history-checksum.js';

export { foldData, foldTerm };

export interface AppState {
  index: number;
  /** Fold of (index, term) of every applied entry: comparable between data nodes and witnesses. */
  termChecksum: number;
  /** Fold of (index, term, type, data): comparable between data nodes only. */
  dataChecksum: number;
  /** User writes applied (non-empty Normal entries). */
  writes: number;
}

export const INITIAL_APP_STATE: Readonly<AppState> = Object.freeze({
  index: 0,
  termChecksum: HASH_START,
  dataChecksum: HASH_START,
  writes: 0,
});

const SNAPSHOT_BYTES = 16;

/**
 * A scenario's own application, run beside the checksums on every data node (the request table
 * of late-proposals.ts, say). It sees each applied entry after the checksums fold it, and its
 * state rides in the node's snapshots after the fixed AppState bytes, so restarts and snapshot
 * installs restore it from bytes like any real state machine.
 */
export interface AppExtension {
  apply(e: Entry): void;
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's: `bytes` is undefined for the founding (empty) state. */
  restore(bytes: Uint8Array | undefined, index: number): void;
}

export function encodeAppState(s: AppState, extension?: Uint8Array): Uint8Array {
  const out = new Uint8Array(SNAPSHOT_BYTES + (extension?.length ?? 0));
  if (extension) out.set(extension, SNAPSHOT_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, s.index);
  v.setUint32(4, s.termChecksum);
  v.setUint32(8, s.dataChecksum);
  v.setUint32(12, s.writes);
  return out;
}

/** Undefined if the bytes are not an encoded AppState (bytes after it are an AppExtension's). */
export function decodeAppState(data: Uint8Array): AppState | undefined {
  if (data.length < SNAPSHOT_BYTES) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { index: v.getUint32(0), termChecksum: v.getUint32(4), dataChecksum: v.getUint32(8), writes: v.getUint32(12) };
}

/** The AppExtension's part of a data node's snapshot; undefined if there is no AppState. */
export function extensionBytes(data: Uint8Array): Uint8Array | undefined {
  return data.length < SNAPSHOT_BYTES ? undefined : data.subarray(SNAPSHOT_BYTES);
}
