// One simulated server: durable storage that survives crashes, and a RawNode plus application
// state that do not. It follows the Ready contract to the letter, with the persist step taken
// asynchronously (as an fsync would be) so that a crash can land between ready() and the disk.

import type { RaftConfig } from '../core/config.js';
import { type MemoryStorage } from '../core/memory-storage.js';
import { RawNode } from '../core/raw-node.js';
import type { ConfState, Entry, Message, NodeId, ReadState, Ready, Snapshot } from '../core/types.js';
import { INITIAL_APP_STATE, decodeAppState, encodeAppState, extensionBytes, foldData, foldTerm, type AppExtension, type AppState } from './sim-app.js';

/** What the simulation does with a node's output; the checker listens through it. */
export interface NodeObserver {
  /** rd.entries reached the disk (after any truncation MemoryStorage did). */
  entriesPersisted(node: SimNode, entries: Entry[]): void;
  /** A snapshot from the leader reached the disk. */
  snapshotPersisted(node: SimNode, snap: Snapshot): void;
  send(node: SimNode, messages: Message[]): void;
  /** The application state was replaced from a snapshot (received, or read at restart). */
  appRestored(node: SimNode, snap: Snapshot): void;
  /** One committed entry was applied; node.app already includes it. */
  applied(node: SimNode, entry: Entry): void;
  readStates(node: SimNode, states: ReadState[]): void;
  /** The Ready was fully handled and advanced. */
  readyDone(node: SimNode): void;
}

export type ConfigFactory = (id: NodeId, incarnation: number, storage: MemoryStorage, applied: number) => RaftConfig;

export class SimNode {
  /** The raft node while up; undefined while crashed. */
  raft: RawNode | undefined;
  app: AppState = { ...INITIAL_APP_STATE };
  /** Bumped on every crash: events addressed to an older incarnation are stale. */
  incarnation = 0;
  /** A Ready taken from the core and not yet persisted. Lost if the node crashes. */
  private inflight: Ready | undefined;
  /** Permanently stopped after being removed from the configuration. */
  decommissioned = false;
  /** A scenario's application beside the checksums (data nodes only); set before the first start. */
  ext: AppExtension | undefined;

  constructor(
    readonly id: NodeId,
    /** Witnesses hold no application data; fixed for the life of the id. */
    readonly witness: boolean,
    readonly storage: MemoryStorage,
    private readonly makeConfig: ConfigFactory,
  ) {}

  get up(): boolean {
    return this.raft !== undefined;
  }

  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** Starts (or restarts) from whatever storage holds. */
  start(observer: NodeObserver): void {
    const snap = this.storage.snapshot();
    this.raft = new RawNode(this.makeConfig(this.id, this.incarnation, this.storage, snap.metadata.index));
    this.restoreApp(snap);
    observer.appRestored(this, snap);
  }

  /** Loses everything not in storage: the core, the app state and any unpersisted Ready. */
  crash(): void {
    this.raft = undefined;
    this.inflight = undefined;
    this.app = { ...INITIAL_APP_STATE };
    this.incarnation++;
  }

  /** Takes the next Ready if the node is idle and has one. */
  takeReady(): boolean {
    if (!this.raft || this.inflight || !this.raft.hasReady()) return false;
    this.inflight = this.raft.ready();
    return true;
  }

  /** The Ready contract: persist, send, apply, serve reads, advance. */
  finishReady(observer: NodeObserver): void {
    const rd = this.inflight;
    const raft = this.raft;
    if (!rd || !raft) return;
    this.inflight = undefined;
    if (rd.snapshot) {
      this.storage.applySnapshot(rd.snapshot);
      observer.snapshotPersisted(this, rd.snapshot);
    }
    if (rd.entries.length > 0) {
      this.storage.append(rd.entries);
      observer.entriesPersisted(this, rd.entries);
    }
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    observer.send(this, rd.messages);
    if (rd.snapshot) {
      this.restoreApp(rd.snapshot);
      observer.appRestored(this, rd.snapshot);
    }
    for (const e of rd.committedEntries) {
      this.applyEntry(e);
      observer.applied(this, e);
    }
    if (rd.readStates.length > 0) observer.readStates(this, rd.readStates);
    raft.advance(rd);
    observer.readyDone(this);
  }

  /**
   * Snapshots the applied state and compacts the log behind it, keeping `tail` entries so a
   * follower that is only a little behind still catches up from the log. Only between Readies,
   * so the snapshot's configuration is the one of the applied index.
   */
  snapshotAndCompact(tail: number): Snapshot | undefined {
    const raft = this.raft;
    if (!raft || this.inflight) return undefined;
    const applied = this.app.index;
    if (applied <= this.storage.snapshot().metadata.index) return undefined;
    const confState: ConfState = raft.confState();
    const data = this.witness ? new Uint8Array(0) : encodeAppState(this.app, this.ext?.snapshot());
    const snap = this.storage.createSnapshot(applied, confState, data);
    this.storage.compact(Math.max(this.storage.firstIndex() - 1, applied - tail));
    return snap;
  }

  /**
   * A Snapshot message as a host whose log snapshots hold no state sends it: the state at the
   * applied index now, with that index's term and the core's configuration (called while the
   * Ready's messages go out, before its entries are applied: both are still those of the applied
   * index). Witnesses get no data, as from the core. Unchanged when nothing was applied past the base.
   */
  freshSnapshot(m: Message, toWitness: boolean): Message {
    const raft = this.raft;
    const base = m.snapshot?.metadata.index ?? 0;
    const index = this.app.index;
    if (!raft || !m.snapshot || index <= base) return m;
    const data = toWitness ? new Uint8Array(0) : encodeAppState(this.app, this.ext?.snapshot());
    return { ...m, snapshot: { metadata: { index, term: this.storage.term(index), confState: raft.confState() }, data } };
  }

  private applyEntry(e: Entry): void {
    const s = this.app;
    s.index = e.index;
    s.termChecksum = foldTerm(s.termChecksum, e);
    if (!this.witness) {
      s.dataChecksum = foldData(s.dataChecksum, e);
      if (e.type === 0 && e.data.length > 0) s.writes++;
      this.ext?.apply(e);
    }
  }

  /**
   * A data node's state comes from the snapshot's bytes. A witness has none: its checksum at
   * the snapshot index is not knowable from the snapshot, so the checker fills it in.
   */
  private restoreApp(snap: Snapshot): void {
    const index = snap.metadata.index;
    if (!this.witness) this.ext?.restore(index === 0 ? undefined : extensionBytes(snap.data), index);
    if (index === 0) {
      this.app = { ...INITIAL_APP_STATE };
      return;
    }
    const decoded = this.witness ? undefined : decodeAppState(snap.data);
    this.app = decoded ?? { ...INITIAL_APP_STATE, index };
  }
}
