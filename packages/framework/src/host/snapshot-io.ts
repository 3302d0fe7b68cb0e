// How the host moves a state machine's snapshot between the machine and the snapshot files:
// in pieces when the machine can (an on-disk machine's snapshot may be larger than memory),
// whole otherwise. One place for both directions, used at group creation, recovery, by the
// snapshotter and when a snapshot from the leader is installed.
import type { Snapshot, SnapshotMetadata } from '../core/types.js';
import { memoryReader, type SnapshotFiles, type SnapshotReader } from './snapshot-files.js';
import type { GroupStateMachine } from './state-machine.js';

/** A state the machine captured, to be written: serialize() whole, or chunks() in pieces. */
export interface CapturedState {
  serialize(): Promise<Uint8Array>;
  chunks?(): AsyncIterable<Uint8Array>;
  /** Called when the state will not be written after all (releases what the capture holds). */
  abandon?(): void;
}

/**
 * Captures the machine's state now; writing it comes later. Synchronous when the machine can
 * capture synchronously: the caller has just read the applied index it names, and an await
 * before the capture would let a round apply more entries into it. With `full`, a machine whose
 * log snapshots hold no state (metadataSnapshots) captures its state too, for a follower.
 */
export function captureState(sm: GroupStateMachine, o: { full?: boolean } = {}): CapturedState | Promise<CapturedState> {
  if (sm.captureSnapshot) return sm.captureSnapshot(o);
  return Promise.resolve(sm.snapshot()).then((data) => ({ serialize: async () => data }));
}

/** Writes a captured state durably as the snapshot `metadata` names; resolves with its bytes. */
export async function writeCaptured(files: SnapshotFiles, group: string, metadata: SnapshotMetadata, captured: CapturedState): Promise<number> {
  try {
    if (captured.chunks) return await files.saveStream(group, metadata, captured.chunks());
    const data = await captured.serialize();
    await files.save(group, metadata, data);
    return data.length;
  } finally {
    captured.abandon?.();
  }
}

/** Captures and writes the machine's current state as the snapshot `metadata` names. */
export async function saveSnapshotOf(sm: GroupStateMachine, files: SnapshotFiles, group: string, metadata: SnapshotMetadata): Promise<number> {
  return writeCaptured(files, group, metadata, await captureState(sm));
}

/** Restores the machine from a stored snapshot, in pieces when it can. */
export async function restoreStored(sm: GroupStateMachine, files: SnapshotFiles, group: string, metadata: SnapshotMetadata, o: { atStart?: boolean } = {}): Promise<void> {
  const reader = await files.open(group, metadata.index, metadata.term);
  try {
    await restoreFromReader(sm, reader, o);
  } finally {
    await reader.close();
  }
}

/** Restores the machine from a snapshot a round received: stored by the transport, or in memory. */
export async function restoreReceived(sm: GroupStateMachine, files: SnapshotFiles, group: string, snap: Snapshot): Promise<void> {
  if (snap.stored) return restoreStored(sm, files, group, snap.metadata);
  return sm.restoreFrom ? sm.restoreFrom(memoryReader(snap.data), {}) : sm.restore(snap.data);
}

async function restoreFromReader(sm: GroupStateMachine, reader: SnapshotReader, o: { atStart?: boolean }): Promise<void> {
  if (sm.restoreFrom) return sm.restoreFrom(reader, o);
  return sm.restore(await reader.read(0, reader.length));
}
