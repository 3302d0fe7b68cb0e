// The Snapshotter: when a group has applied enough entries, capture its state at the applied
// index, serialise and write it off the round, then make it the log's base and compact; and
// stream a snapshot to a follower that fell behind the compacted log. Lives apart from the round
// so the rules about when a snapshot file may be offered and when the log base may move are in
// one place.
//
// A state machine whose log snapshots hold no state (an on-disk machine with sync(): its own
// files hold the state, made durable before the base moves) cannot send its log base to a
// follower. For it, a full snapshot is made when a follower needs one, at the applied index of
// that moment (at or past the base the core asked for), kept for a while for other followers and
// retries, then deleted.
import type { Message, SnapshotMetadata } from '../core/types.js';
import type { GroupWrite } from '../storage/log-store.js';
import type { PeerTransport } from '../transport/transport.js';
import type { Logger } from './logger.js';
import type { FollowerSnapshot, RaftGroup } from './raft-group.js';
import type { SnapshotFiles, SnapshotReader } from './snapshot-files.js';
import { captureState, writeCaptured } from './snapshot-io.js';

const EMPTY = new Uint8Array(0);

/** The metadata of a snapshot at the group's applied index, with the history checksums there. */
function withHistory(metadata: SnapshotMetadata, g: RaftGroup): SnapshotMetadata {
  const history = g.history.at(metadata.index);
  return history ? { ...metadata, history } : metadata;
}

/** How long a full snapshot made for followers is kept after it was last asked for (default). */
export const DEFAULT_FOLLOWER_SNAPSHOT_TTL_MS = 2 * 60_000;

export interface SnapshotterOptions {
  snapshots: SnapshotFiles;
  transport: PeerTransport;
  log: Logger;
  /** Snapshot after this many applied entries (plus a random slack). */
  snapshotEntries: number;
  /** Also snapshot once the entries applied since the last one hold this many bytes (0: never by size). */
  snapshotBytes?: number;
  /** Entries kept behind a snapshot so slightly lagging followers catch up from the log. */
  retainEntries: number;
  /** At most this many bytes of them (0: no limit): a start reads the kept entries, so this bounds restart time. */
  retainBytes?: number;
  random: () => number;
  /** Queues a write for the next round's transaction. */
  queueWrite(w: GroupWrite): void;
  /** The group has work for the next round. */
  markDirty(g: RaftGroup): void;
  /**
   * Resolves between two rounds, when nothing handed to the group's state machine is still being
   * applied: its state, the applied index and the core's configuration then agree. Rejects when
   * the node stops or the group is removed.
   */
  settled(g: RaftGroup): Promise<void>;
  /** How long a full snapshot made for followers is kept after it was last asked for. */
  followerSnapshotTtlMs?: number;
}

export class Snapshotter {
  private readonly ttlMs: number;

  constructor(private readonly o: SnapshotterOptions) {
    this.ttlMs = o.followerSnapshotTtlMs ?? DEFAULT_FOLLOWER_SNAPSHOT_TTL_MS;
  }

  /** Up to a quarter of the interval, drawn afresh for each snapshot of each group. */
  slack(): number {
    return Math.floor(this.o.random() * (this.o.snapshotEntries / 4));
  }

  /** After a round applied entries: starts a snapshot when the group is due for one. */
  maybeSnapshot(g: RaftGroup): void {
    if (g.snapshotting) return;
    const byCount = g.appliedIndex - g.snapshotIndex >= this.o.snapshotEntries + g.snapshotSlack;
    const bySize = (this.o.snapshotBytes ?? 0) > 0 && g.appliedBytesSinceSnapshot >= this.o.snapshotBytes!;
    if (!byCount && !bySize) return;
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
   * For a machine whose log snapshots hold no state, writing it waits for the machine's sync().
   */
  async take(g: RaftGroup): Promise<number> {
    if (g.snapshotting) return g.snapshotting;
    const index = g.appliedIndex;
    // Entries handed to the state machine but not settled yet would be in the captured state.
    if (index <= g.snapshotIndex || g.handedIndex !== index) return g.snapshotIndex;
    const confState = g.node.confState();
    const term = g.storage.term(index);
    const metadata = withHistory({ index, term, confState }, g);
    const bytesCovered = g.appliedBytesSinceSnapshot;
    g.appliedBytesSinceSnapshot = 0;
    const capturing = captureState(g.sm);
    const captured = capturing instanceof Promise ? await capturing : capturing;
    // A full snapshot made for followers at this very index has the same file name: it becomes
    // the base (it holds the state too) rather than be overwritten by one that does not.
    const shared = g.followerSnapshot?.index === index ? g.followerSnapshot : undefined;
    if (shared) captured.abandon?.();
    const task = (async () => {
      const bytes = shared ? 0 : await writeCaptured(this.o.snapshots, g.name, metadata, captured);
      if (shared) await shared.written;
      // The log base moves inside a round, where the mirror cannot change under it (a snapshot
      // received from the leader meanwhile may have replaced the log).
      g.pendingCompaction = metadata;
      this.o.markDirty(g);
      this.o.log.debug({ group: g.name, index, bytes, full: shared !== undefined || g.sm.metadataSnapshots !== true }, 'snapshot written');
      return index;
    })();
    g.snapshotting = task;
    try {
      return await task;
    } catch (e) {
      g.appliedBytesSinceSnapshot += bytesCovered;
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
    // The core's snapshot of the log base is what a follower is sent: it carries the checksums.
    if (p.history) snap.metadata.history = p.history;
    const compactTo = Math.max(g.storage.firstIndex() - 1, p.index - this.o.retainEntries, this.firstBeyondRetainedBytes(g, p.index));
    if (compactTo >= g.storage.firstIndex()) g.storage.compact(compactTo);
    g.snapshotIndex = Math.max(g.snapshotIndex, p.index);
    const w: GroupWrite = { group: g.name, entries: [], compact: { snapshot: snap.metadata, compactTo } };
    // The durable commit index must not fall behind the new log base.
    if (g.unsavedHardState) w.hardState = g.unsavedHardState;
    g.unsavedHardState = undefined;
    this.o.queueWrite(w);
  }

  /** The highest index whose entry, with those after it up to `index`, holds more than retainBytes (0 when all fit). */
  private firstBeyondRetainedBytes(g: RaftGroup, index: number): number {
    const limit = this.o.retainBytes ?? 0;
    if (limit <= 0) return 0;
    const first = g.storage.firstIndex();
    let bytes = 0;
    for (let i = index; i >= first; i--) {
      bytes += g.storage.entries(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!.data.length;
      if (bytes > limit) return i;
    }
    return 0;
  }

  /**
   * Streams a snapshot to the follower a Snapshot message names; a failure is reported to the
   * core. The message names the log base; a machine whose log snapshots hold no state sends a
   * full snapshot made for followers instead, at a later index (with that index's term and
   * configuration): the follower acknowledges that index, which the core takes as it takes any
   * acknowledgement past the snapshot it asked for.
   */
  async send(g: RaftGroup, m: Message): Promise<void> {
    let meta = m.snapshot!.metadata;
    let source: SnapshotReader | undefined;
    try {
      if (g.sm.metadataSnapshots) meta = await this.followerSnapshot(g, meta.index);
      const message: Message = { ...m, snapshot: { metadata: meta, data: EMPTY } };
      if (this.o.transport.streamsSnapshotSources) {
        // Read from the file as the stream goes: a snapshot may be larger than memory.
        source = await this.o.snapshots.open(g.name, meta.index, meta.term);
        this.o.transport.send([{ group: g.name, message, snapshotSource: source }]);
        // The transport owns the source now (it closes it when the stream ends or is refused).
        source = undefined;
      } else {
        const data = await this.o.snapshots.load(g.name, meta.index, meta.term);
        this.o.transport.send([{ group: g.name, message: { ...message, snapshot: { metadata: meta, data } } }]);
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

  /**
   * A stored full snapshot at or past `atLeast` (the log base the core asked to send): the one
   * made for followers if it is still good, or a new one, made once the group has settled.
   */
  private followerSnapshot(g: RaftGroup, atLeast: number): Promise<SnapshotMetadata> {
    const kept = g.followerSnapshot;
    // Still good while the log base has not passed it (prune deletes what is behind the base).
    if (kept && (kept.index === 0 || (kept.index >= atLeast && kept.index >= g.snapshotIndex))) {
      this.keepFor(g, kept);
      return kept.written;
    }
    if (kept) this.forget(g, kept);
    const made: FollowerSnapshot = { index: 0, done: false, timer: undefined, written: this.makeFull(g, (index) => (made.index = index)) };
    g.followerSnapshot = made;
    made.written.then(
      () => {
        made.done = true;
        this.keepFor(g, made);
      },
      () => {
        if (g.followerSnapshot === made) g.followerSnapshot = undefined;
      },
    );
    return made.written;
  }

  private async makeFull(g: RaftGroup, captured: (index: number) => void): Promise<SnapshotMetadata> {
    // A log snapshot being taken may have the same index, so the same file: it finishes first.
    for (;;) {
      await this.o.settled(g);
      if (!g.snapshotting) break;
      await g.snapshotting.catch(() => undefined);
    }
    // Synchronous from here to the capture: the index, term and configuration are those of the state.
    const index = g.appliedIndex;
    const metadata = withHistory({ index, term: g.storage.term(index), confState: g.node.confState() }, g);
    const capturing = captureState(g.sm, { full: true });
    captured(index);
    const state = capturing instanceof Promise ? await capturing : capturing;
    const bytes = await writeCaptured(this.o.snapshots, g.name, metadata, state);
    this.o.log.info({ group: g.name, index, bytes }, 'full snapshot written for followers');
    return metadata;
  }

  /** (Re)arms the deletion of a snapshot made for followers, once it is written. */
  private keepFor(g: RaftGroup, s: FollowerSnapshot): void {
    if (g.followerSnapshot !== s || !s.done) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => this.forget(g, s), this.ttlMs);
    s.timer.unref();
  }

  /**
   * Drops a snapshot made for followers and deletes its file, unless the file is (or is about to
   * be) the log's base: a log snapshot at the same index took it over.
   */
  forget(g: RaftGroup, s: FollowerSnapshot | undefined = g.followerSnapshot): void {
    if (!s) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    if (g.followerSnapshot === s) g.followerSnapshot = undefined;
    s.written.then(
      (meta) => {
        if (meta.index === g.snapshotIndex || meta.index === g.pendingCompaction?.index || g.removed) return;
        this.o.snapshots.delete?.(g.name, meta.index, meta.term).then(
          () => this.o.log.debug({ group: g.name, index: meta.index }, 'full snapshot for followers deleted'),
          (e: Error) => this.o.log.warn({ group: g.name, index: meta.index, err: e.message }, 'full snapshot for followers could not be deleted'),
        );
      },
      () => undefined,
    );
  }
}
