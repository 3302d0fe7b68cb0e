// The Snapshotter: when a group has applied enough entries, capture its state at the applied
// index, serialise and write it off the round, then make it the log's base and compact; and
// stream a stored snapshot to a follower that fell behind the compacted log. Lives apart from
// the round so the rules about when a snapshot file may be offered and when the log base may
// move are in one place.
import type { Message } from '../core/types.js';
import type { GroupWrite } from '../storage/log-store.js';
import type { PeerTransport } from '../transport/transport.js';
import type { Logger } from './logger.js';
import type { RaftGroup } from './raft-group.js';
import type { SnapshotFiles, SnapshotReader } from './snapshot-files.js';
import { captureState, writeCaptured } from './snapshot-io.js';

const EMPTY = new Uint8Array(0);

export interface SnapshotterOptions {
  snapshots: SnapshotFiles;
  transport: PeerTransport;
  log: Logger;
  /** Snapshot after this many applied entries (plus a random slack). */
  snapshotEntries: number;
  /** Entries kept behind a snapshot so slightly lagging followers catch up from the log. */
  retainEntries: number;
  random: () => number;
  /** Queues a write for the next round's transaction. */
  queueWrite(w: GroupWrite): void;
  /** The group has work for the next round. */
  markDirty(g: RaftGroup): void;
}

export class Snapshotter {
  constructor(private readonly o: SnapshotterOptions) {}

  /** Up to a quarter of the interval, drawn afresh for each snapshot of each group. */
  slack(): number {
    return Math.floor(this.o.random() * (this.o.snapshotEntries / 4));
  }

  /** After a round applied entries: starts a snapshot when the group is due for one. */
  maybeSnapshot(g: RaftGroup): void {
    if (g.appliedIndex - g.snapshotIndex < this.o.snapshotEntries + g.snapshotSlack || g.snapshotting) return;
    // Replicas reach the same index together; a random slack keeps them from all pausing to
    // capture their state at the same moment.
    g.snapshotSlack = this.slack();
    // Not awaited: serialising and writing run beside the next rounds.
    this.take(g).catch(() => undefined);
  }

  /**
   * Snapshots a group at its applied index: captures the state (synchronously when the state
   * machine can), then serialises and writes it durably off the round, and only then makes it the
   * log's base and compacts — so a follower is never offered a snapshot whose file is not there.
   */
  async take(g: RaftGroup): Promise<number> {
    if (g.snapshotting) return g.snapshotting;
    const index = g.appliedIndex;
    // Entries handed to the state machine but not settled yet would be in the captured state.
    if (index <= g.snapshotIndex || g.handedIndex !== index) return g.snapshotIndex;
    const confState = g.node.confState();
    const term = g.storage.term(index);
    const capturing = captureState(g.sm);
    const captured = capturing instanceof Promise ? await capturing : capturing;
    const task = (async () => {
      const bytes = await writeCaptured(this.o.snapshots, g.name, { index, term, confState }, captured);
      // The log base moves inside a round, where the mirror cannot change under it (a snapshot
      // received from the leader meanwhile may have replaced the log).
      g.pendingCompaction = { index, term, confState };
      this.o.markDirty(g);
      this.o.log.debug({ group: g.name, index, bytes }, 'snapshot written');
      return index;
    })();
    g.snapshotting = task;
    try {
      return await task;
    } catch (e) {
      this.o.log.error({ group: g.name, index, err: (e as Error).message }, 'snapshot failed');
      throw e;
    } finally {
      g.snapshotting = undefined;
    }
  }

  /** In a round: makes a written local snapshot the log's base and compacts, unless the log moved past it. */
  applyPendingCompaction(g: RaftGroup): void {
    const p = g.pendingCompaction;
    if (!p || g.removed) return;
    g.pendingCompaction = undefined;
    const base = g.storage.snapshot().metadata.index;
    if (p.index <= base || p.index > g.storage.lastIndex() || g.storage.term(p.index) !== p.term) return;
    const snap = g.storage.createSnapshot(p.index, p.confState, EMPTY);
    const compactTo = Math.max(g.storage.firstIndex() - 1, p.index - this.o.retainEntries);
    if (compactTo >= g.storage.firstIndex()) g.storage.compact(compactTo);
    g.snapshotIndex = Math.max(g.snapshotIndex, p.index);
    const w: GroupWrite = { group: g.name, entries: [], compact: { snapshot: snap.metadata, compactTo } };
    // The durable commit index must not fall behind the new log base.
    if (g.unsavedHardState) w.hardState = g.unsavedHardState;
    g.unsavedHardState = undefined;
    this.o.queueWrite(w);
  }

  /** Streams the stored snapshot a Snapshot message names; a failure is reported to the core. */
  async send(g: RaftGroup, m: Message): Promise<void> {
    const meta = m.snapshot!.metadata;
    let source: SnapshotReader | undefined;
    try {
      if (this.o.transport.streamsSnapshotSources) {
        // Read from the file as the stream goes: a snapshot may be larger than memory.
        source = await this.o.snapshots.open(g.name, meta.index, meta.term);
        this.o.transport.send([{ group: g.name, message: { ...m, snapshot: { metadata: meta, data: EMPTY } }, snapshotSource: source }]);
        // The transport owns the source now (it closes it when the stream ends or is refused).
        source = undefined;
      } else {
        const data = await this.o.snapshots.load(g.name, meta.index, meta.term);
        this.o.transport.send([{ group: g.name, message: { ...m, snapshot: { metadata: meta, data } } }]);
      }
    } catch (e) {
      await source?.close().catch(() => undefined);
      this.o.log.warn({ group: g.name, to: m.to, index: meta.index, err: (e as Error).message }, 'snapshot could not be sent');
      if (!g.removed) {
        g.node.reportSnapshot(m.to, false);
        this.o.markDirty(g);
      }
    }
  }
}
