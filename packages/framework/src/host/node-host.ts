import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { HistoryChecksumView } from '../common/history-checksum.js';
import type { ConfChange } from '../core/confchange/types.js';
import { EntryType, MessageType, type ReadOnlyOption, Role, type NodeId, type ProgressStatus } from '../core/types.js';
import type { GroupWrite, LogStore } from '../storage/log-store.js';
import type { Envelope, PeerTransport } from '../transport/transport.js';
import { AddressBook } from './address-book.js';
import { HostError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { HostMetrics } from './metrics.js';
import { DroppedMessages } from './dropped-messages.js';
import { QUIET_BEAT_ELECTIONS, type RaftGroup, translateCoreError, type ProposalResult } from './raft-group.js';
import { GroupFactory, campaignIfSoleVoter, type CreateGroupOptions } from './group-factory.js';
import { RoundPipeline, type RoundWork } from './round.js';
import type { SnapshotFiles } from './snapshot-files.js';
import { Snapshotter } from './snapshotter.js';
import { rm } from 'node:fs/promises';
import type { StateMachineFactory } from './state-machine.js';
import { isNodeId } from '../core/node-id.js';
import { stageTracing, traceStage } from '../common/stage-trace.js';
import { messageSpan } from './stage-spans.js';

export interface NodeHostOptions {
  id: NodeId;
  logStore: LogStore;
  snapshots: SnapshotFiles;
  transport: PeerTransport;
  stateMachines: StateMachineFactory;
  /** Milliseconds per raft tick (default 100). */
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
  /** Idle ticks before a group stops ticking (0 disables quiesce; default 20 * electionTick). */
  quiesceTicks?: number;
  /** Take a snapshot and compact after this many applied entries (default 10,000). */
  snapshotEntries?: number;
  /** Entries kept behind a snapshot so slightly lagging followers catch up from the log. */
  retainEntries?: number;
  /** Also snapshot once the entries applied since the last snapshot hold this many bytes (default 0: by count only). */
  snapshotBytes?: number;
  /** At most this many bytes of entries kept behind a snapshot (default 0: no limit). */
  retainBytes?: number;
  /**
   * How long a full snapshot made for lagging followers is kept after a follower last asked for
   * it (state machines whose log snapshots hold no state: on-disk machines with sync()). Default
   * 2 minutes.
   */
  followerSnapshotTtlMs?: number;
  /** Default deadline of proposals and reads (default 5,000 ms). */
  requestTimeoutMs?: number;
  /**
   * How long a leader's Append that carries only a new commit index may wait for one with
   * entries to the same follower, which replaces it (host/commit-hold.ts). Default 2 ms; 0 sends
   * every such Append at once.
   */
  commitHoldMs?: number;
  readOnlyOption?: ReadOnlyOption;
  /** Seeded randomness is only needed in tests; production uses Math.random for jitter. */
  random?: () => number;
  logger?: Logger;
  metrics?: HostMetrics;
  /** Where members listen; updated from membership changes (and persisted, when file-backed). */
  addresses?: AddressBook;
  /**
   * The folder of a group's state machine files, for state machines that keep their own
   * durable state (`@StateMachine(type, { storage: 'disk' })`); required when one is used.
   */
  machineDir?: (group: string) => string;
}

export type { CreateGroupOptions } from './group-factory.js';

export interface GroupStatus {
  group: string;
  type: string;
  role: Role;
  term: number;
  leader: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  /** `outgoing`: the voters of the outgoing configuration while joint (empty otherwise). */
  members: { voters: NodeId[]; learners: NodeId[]; witnesses: NodeId[]; outgoing: NodeId[] };
  quiesced: boolean;
  /** Chained checksums of the applied history (common/history-checksum.ts): compare replicas with the same `from`. */
  history: HistoryChecksumView;
}

/**
 * Owns this process's raft groups: one tick timer for all of them, and a round loop that takes
 * the Ready of every group with work, persists all of it in one transaction (one fsync), then
 * sends, applies and advances. While a round's write is in flight, new messages and proposals
 * are stepped into the cores and go into the next round.
 */
export class NodeHost {
  readonly id: NodeId;
  readonly metrics: HostMetrics;
  private readonly log: Logger;
  private readonly groups = new Map<string, RaftGroup>();
  private readonly dirty = new Set<RaftGroup>();
  /** Compactions recorded in the next round's transaction. */
  private pendingWrites: GroupWrite[] = [];
  private roundScheduled = false;
  private roundRunning: Promise<void> | undefined;
  private roundsClosed = false;
  private ticks = 0;
  /** The tick at which anything last arrived from each peer (any group, any message). */
  private readonly lastHeard = new Map<NodeId, number>();
  private ticker: NodeJS.Timeout | undefined;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly tickMs: number;
  private readonly electionTick: number;
  private readonly heartbeatTick: number;
  private readonly quiesceTicks: number;
  private readonly snapshotEntries: number;
  private readonly retainEntries: number;
  private readonly requestTimeoutMs: number;
  private readonly random: () => number;
  private readonly droppedMessages: DroppedMessages;
  /** Random per process start (not from `random`, which tests seed alike across restarts). */
  private readonly incarnation = randomBytes(4).readUInt32BE(0);
  readonly addresses: AddressBook;
  private readonly snapshotter: Snapshotter;
  private readonly pipeline: RoundPipeline;
  private readonly factory: GroupFactory;

  constructor(private readonly opts: NodeHostOptions) {
    if (!isNodeId(opts.id)) throw new HostError('bad_request', `node id must be a positive integer, got ${opts.id}`);
    this.id = opts.id;
    this.tickMs = opts.tickMs ?? 100;
    this.electionTick = opts.electionTick ?? 10;
    this.heartbeatTick = opts.heartbeatTick ?? 1;
    this.quiesceTicks = opts.quiesceTicks ?? 20 * this.electionTick;
    this.snapshotEntries = opts.snapshotEntries ?? 10_000;
    this.retainEntries = opts.retainEntries ?? 5_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5_000;
    this.random = opts.random ?? Math.random;
    this.log = (opts.logger ?? silentLogger).child({ node: this.id });
    this.metrics = opts.metrics ?? new HostMetrics();
    this.metrics.watchTransport(() => opts.transport.stats());
    this.droppedMessages = new DroppedMessages(this.metrics.peerMessagesRefused, this.log);
    this.addresses = opts.addresses ?? new AddressBook(undefined);
    this.snapshotter = new Snapshotter({
      snapshots: opts.snapshots,
      transport: opts.transport,
      log: this.log,
      snapshotEntries: this.snapshotEntries,
      retainEntries: this.retainEntries,
      snapshotBytes: opts.snapshotBytes ?? 0,
      retainBytes: opts.retainBytes ?? 0,
      random: this.random,
      queueWrite: (w) => this.pendingWrites.push(w),
      markDirty: (g) => this.markDirty(g),
      settled: (g) => this.settled(g),
      ...(opts.followerSnapshotTtlMs === undefined ? {} : { followerSnapshotTtlMs: opts.followerSnapshotTtlMs }),
    });
    this.factory = new GroupFactory({
      id: this.id,
      electionTick: this.electionTick,
      heartbeatTick: this.heartbeatTick,
      quiesceTicks: this.quiesceTicks,
      readOnlyOption: opts.readOnlyOption,
      random: this.random,
      incarnation: this.incarnation,
      stateMachines: opts.stateMachines,
      snapshots: opts.snapshots,
      logStore: opts.logStore,
      slack: () => this.snapshotter.slack(),
      onDroppedMessage: (group, m, reason) => this.droppedMessages.record(group, m, reason),
      ...(opts.machineDir ? { machineDir: opts.machineDir } : {}),
    });
    this.pipeline = new RoundPipeline({
      self: this.id,
      logStore: opts.logStore,
      snapshots: opts.snapshots,
      transport: opts.transport,
      addresses: this.addresses,
      metrics: this.metrics,
      log: this.log,
      snapshotter: this.snapshotter,
      fatal: (e) => void this.fatal(e),
      requeue: (g) => this.dirty.add(g),
      commitHoldMs: opts.commitHoldMs ?? 2,
      mayHoldCommit: (group) => (this.groups.get(group)?.pendingProposals ?? 0) > 0,
    });
  }

  // ------------------------------------------------------------------ lifecycle

  /** Opens the log, recovers every group in it, starts the transport and the tick timer. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new HostError('bad_request', 'a NodeHost starts once');
    const t0 = performance.now();
    await this.addresses.load();
    for (const [id, address] of this.addresses.entries()) {
      if (id !== this.id) this.opts.transport.setPeer(id, address);
    }
    const recovered = await this.opts.logStore.open();
    for (const rec of recovered) {
      this.groups.set(rec.group, await this.factory.recover(rec));
      this.metrics.groups.set(this.groups.size);
    }
    await this.opts.transport.start({
      onMessages: (from, batch) => this.onMessages(from, batch),
      onSnapshotStatus: (group, to, ok) => this.withGroup(group, (g) => g.node.reportSnapshot(to, ok)),
      onUnreachable: (group, to) => this.withGroup(group, (g) => g.node.reportUnreachable(to)),
    });
    this.state = 'running';
    this.ticker = setInterval(() => this.onTick(), this.tickMs);
    this.log.info({ groups: recovered.length, ms: Math.round(performance.now() - t0) }, 'node host started');
    for (const g of this.groups.values()) {
      campaignIfSoleVoter(g, this.id);
      this.markDirty(g);
    }
  }

  /**
   * Graceful stop: each group this node leads hands leadership to its most caught-up follower
   * (bounded by an election timeout), then the last round finishes, and everything closes.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    if (this.state === 'running') await this.handOffLeadership();
    this.state = 'stopping';
    if (this.ticker) clearInterval(this.ticker);
    while (this.roundRunning) await this.roundRunning;
    for (const g of this.groups.values()) g.failAll(new HostError('stopped', 'the node is shutting down'));
    // Nothing waits for a round any more; one started by a late message would write to a closing log.
    this.roundsClosed = true;
    this.pipeline.flushHeld();
    await this.opts.transport.close();
    const unsaved: GroupWrite[] = [];
    for (const g of this.groups.values()) {
      if (g.unsavedHardState && !g.removed) unsaved.push({ group: g.name, entries: [], hardState: g.unsavedHardState });
      g.unsavedHardState = undefined;
    }
    if (unsaved.length > 0) await this.opts.logStore.write(unsaved).catch((e: Error) => this.log.warn({ err: e.message }, 'the last commit indexes could not be saved'));
    await this.closeMachines([...this.groups.values()]);
    await this.opts.logStore.close();
    this.state = 'stopped';
    this.log.info({}, 'node host stopped');
  }

  private async handOffLeadership(): Promise<void> {
    const leading = [...this.groups.values()].filter((g) => g.role === Role.Leader);
    for (const g of leading) {
      const target = g.node
        .status()
        .progress.filter((p) => p.id !== this.id && !p.learner && !p.witness)
        .sort((a, b) => b.match - a.match)[0];
      if (!target) continue;
      g.wake();
      g.node.transferLeader(target.id);
      this.markDirty(g);
    }
    const deadline = Date.now() + this.electionTick * this.tickMs * 2;
    while (Date.now() < deadline && leading.some((g) => g.role === Role.Leader && g.node.status().leadTransferee !== 0)) {
      await new Promise((r) => setTimeout(r, this.tickMs));
    }
  }

  // ------------------------------------------------------------------ groups

  /** Creates a group on this host; founding members all call it with the same voters. */
  async createGroup(name: string, opts: CreateGroupOptions): Promise<void> {
    this.assertRunning();
    if (this.groups.has(name)) throw new HostError('group_exists', `group "${name}" already exists on this node`);
    const g = await this.factory.create(name, opts);
    if (this.groups.has(name)) throw new HostError('group_exists', `group "${name}" already exists on this node`);
    this.groups.set(name, g);
    this.metrics.groups.set(this.groups.size);
    this.log.info({ group: name, type: opts.type, voters: opts.voters }, 'group created');
    campaignIfSoleVoter(g, this.id);
    this.markDirty(g);
  }

  async removeGroup(name: string): Promise<void> {
    const g = this.group(name);
    g.removed = true;
    this.groups.delete(name);
    this.dirty.delete(g);
    this.pipeline.forgetGroup(name);
    g.failAll(new HostError('unknown_group', `group "${name}" was removed`));
    await this.opts.logStore.write([{ group: name, entries: [], remove: true }]);
    await this.closeMachines([g]);
    if (g.sm.keepsFiles && this.opts.machineDir) await rm(this.opts.machineDir(name), { recursive: true, force: true });
    await this.opts.snapshots.remove(name).catch((e: Error) => this.log.warn({ group: name, err: e.message }, 'snapshots of the removed group were not deleted'));
    this.metrics.groups.set(this.groups.size);
    this.log.info({ group: name }, 'group removed');
  }

  /**
   * Lets state machines that keep files close them, each after the snapshot it may be writing
   * (which reads from the machine's pinned state) has finished; a failure is logged, not thrown.
   */
  private async closeMachines(groups: RaftGroup[]): Promise<void> {
    for (const g of groups) {
      while (g.snapshotting) await g.snapshotting.catch(() => undefined);
      // A full snapshot made for followers reads the machine's pinned state too; once stopped it
      // is of no use (a restart starts from the log base): deleted.
      await g.followerSnapshot?.written.catch(() => undefined);
      this.snapshotter.forget(g);
      if (!g.sm.close) continue;
      await g.sm.close().catch((e: Error) => this.log.warn({ group: g.name, err: e.message }, 'state machine did not close cleanly'));
    }
  }

  /** Records where a member listens (transport and address book). */
  async setPeerAddress(id: NodeId, address: string): Promise<void> {
    if (id === this.id) return;
    this.opts.transport.setPeer(id, address);
    await this.addresses.set(id, address);
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name);
  }

  groupType(name: string): string {
    return this.group(name).type;
  }

  private group(name: string): RaftGroup {
    const g = this.groups.get(name);
    if (!g) throw new HostError('unknown_group', `no group "${name}" on this node`);
    return g;
  }

  private withGroup(name: string, f: (g: RaftGroup) => void): void {
    const g = this.groups.get(name);
    if (!g) return;
    f(g);
    this.markDirty(g);
  }

  // ------------------------------------------------------------------ requests

  /** Proposes on this node (it must lead the group); resolves once applied, with the result. */
  propose(group: string, data: Uint8Array, timeoutMs = this.requestTimeoutMs): Promise<ProposalResult> {
    this.assertRunning();
    if (data.length === 0) return Promise.reject(new HostError('bad_request', 'a proposal must not be empty'));
    const g = this.group(group);
    const p = g.propose(data, timeoutMs, Date.now());
    this.markDirty(g);
    p.then(
      () => this.metrics.proposals.inc({ group }),
      (e: HostError) => this.metrics.proposalsFailed.inc({ group, code: e.code ?? 'error' }),
    );
    return p;
  }

  /**
   * Resolves once the local state machine reflects every write acknowledged before the call.
   * With `lease`, the leader answers from its lease when it holds (no heartbeat round).
   */
  linearizableRead(group: string, timeoutMs = this.requestTimeoutMs, opts: { lease?: boolean } = {}): Promise<number> {
    this.assertRunning();
    const g = this.group(group);
    const p = g.read(timeoutMs, Date.now(), opts.lease === true);
    this.markDirty(g);
    return p;
  }

  proposeConfChange(group: string, cc: ConfChange, timeoutMs = this.requestTimeoutMs): Promise<ProposalResult> {
    this.assertRunning();
    const g = this.group(group);
    g.wake();
    let index: number;
    try {
      index = g.node.proposeConfChange(cc);
    } catch (e) {
      return Promise.reject(translateCoreError(e, group));
    }
    this.markDirty(g);
    return g.awaitIndex(index, g.node.term, timeoutMs, Date.now());
  }

  transferLeader(group: string, to: NodeId): void {
    this.assertRunning();
    const g = this.group(group);
    if (g.role !== Role.Leader) throw new HostError('not_leader', `node ${this.id} does not lead group "${group}"`, g.node.lead);
    g.wake();
    g.node.transferLeader(to);
    this.markDirty(g);
  }

  /** Snapshots a group now and compacts its log. */
  async snapshotNow(group: string): Promise<number> {
    this.assertRunning();
    const g = this.group(group);
    while (this.roundRunning) await this.roundRunning;
    const index = await this.snapshotter.take(g);
    // Answer once the compaction that makes it the log's base is durable too.
    const deadline = Date.now() + this.requestTimeoutMs;
    while ((g.pendingCompaction || this.pendingWrites.length > 0 || this.roundRunning) && Date.now() < deadline) {
      if (this.roundRunning) await this.roundRunning;
      else await new Promise((r) => setImmediate(r));
    }
    return index;
  }

  /**
   * Resolves between two rounds once nothing handed to the group's state machine is still being
   * applied (an entry applied ahead of its round may be); rejects once the node stops or the
   * group is removed. Nothing changes the state, the applied index or the core's configuration
   * until the next round, which starts from a macrotask: the caller captures the state right away.
   */
  private async settled(g: RaftGroup): Promise<void> {
    for (;;) {
      while (this.roundRunning) await this.roundRunning;
      if (this.state !== 'running' || g.removed) throw new HostError('stopped', `group "${g.name}": the node is stopping or the group was removed`);
      if (g.handedIndex === g.appliedIndex) return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Wakes a quiesced group (a request reached it). A follower that ticks again notices a dead
   * leader within an election timeout; with a live leader its first pre-vote wakes the rest.
   */
  wakeGroup(group: string): void {
    const g = this.group(group);
    if (!g.quiesced) return;
    g.wake();
    this.markDirty(g);
  }

  /** The leader's view of each member's replication (empty on a follower). */
  replicationStatus(group: string): ProgressStatus[] {
    return this.group(group).node.status().progress;
  }

  roleOf(group: string): Role {
    return this.group(group).role;
  }

  leaderOf(group: string): NodeId {
    return this.group(group).node.lead;
  }

  groupStatus(group: string): GroupStatus {
    const g = this.group(group);
    const log = g.node.inspectLog();
    return {
      group: g.name,
      type: g.type,
      role: g.role,
      term: g.node.term,
      leader: g.node.lead,
      commit: log.committed,
      applied: g.appliedIndex,
      lastIndex: log.lastIndex,
      firstIndex: log.firstIndex,
      members: g.members(),
      quiesced: g.quiesced,
      history: g.history.view(),
    };
  }

  status(): { id: NodeId; groups: GroupStatus[] } {
    return { id: this.id, groups: [...this.groups.keys()].sort().map((name) => this.groupStatus(name)) };
  }

  private assertRunning(): void {
    if (this.state !== 'running') throw new HostError(this.state === 'new' ? 'not_started' : 'stopped', `node host is ${this.state}`);
  }

  // ------------------------------------------------------------------ inputs

  private onTick(): void {
    const now = Date.now();
    let quiesced = 0;
    const ticks = ++this.ticks;
    const flush = ticks % this.electionTick === 0;
    for (const g of this.groups.values()) {
      if (flush) this.flushHardState(g);
      if (g.tick(this.silence)) this.markDirty(g);
      if (g.quiesced) quiesced++;
      g.expire(now);
    }
    if (quiesced > 0 && ticks % (QUIET_BEAT_ELECTIONS * this.electionTick) === 0) this.quietBeats();
    this.metrics.quiescedGroups.set(quiesced);
  }

  /** Ticks since anything arrived from node `id` (since start when nothing did). */
  private readonly silence = (id: NodeId): number => this.ticks - (this.lastHeard.get(id) ?? 0);

  /**
   * One heartbeat to each peer from some quiesced group this node leads, so the followers of all
   * of them see this node alive (see QUIET_BEAT_ELECTIONS): with a thousand quiet groups that is
   * a message per peer per interval, not a thousand.
   */
  private quietBeats(): void {
    const covered = new Set<NodeId>([this.id]);
    for (const g of this.groups.values()) {
      if (!g.quiesced || g.role !== Role.Leader) continue;
      const m = g.members();
      const peers = [...m.voters, ...m.learners].filter((id) => !covered.has(id));
      if (peers.length === 0) continue;
      for (const id of peers) covered.add(id);
      g.node.heartbeat();
      this.markDirty(g);
    }
  }

  /** Queues a deferred commit index for the next round's write (an idle group's goes every election timeout). */
  private flushHardState(g: RaftGroup): void {
    if (!g.unsavedHardState || g.removed) return;
    this.pendingWrites.push({ group: g.name, entries: [], hardState: g.unsavedHardState });
    g.unsavedHardState = undefined;
    this.markDirty(g);
  }

  private onMessages(from: NodeId, batch: Envelope[]): void {
    if (stageTracing) for (const { message } of batch) traceStage(`recv-${MessageType[message.type]}`, messageSpan(message));
    this.lastHeard.set(from, this.ticks);
    const ahead = this.roundRunning ? new Set<RaftGroup>() : undefined;
    for (const { group, message } of batch) {
      const g = this.groups.get(group);
      if (!g) {
        this.log.debug({ group, from }, 'message for a group not on this node dropped');
        continue;
      }
      try {
        g.step(message);
      } catch (e) {
        this.log.error({ group, from, type: MessageType[message.type], err: (e as Error).message }, 'peer message refused');
        continue;
      }
      this.markDirty(g);
      if (ahead && message.type === MessageType.AppendResponse && g.role === Role.Leader) ahead.add(g);
    }
    if (ahead) for (const g of ahead) this.applyAhead(g);
  }

  /**
   * While a round's write is in flight, entries that a follower's answer has just committed and
   * that are already in this leader's durable log are applied (and their callers answered) now,
   * not after that write and the next round. Leaders only: a leader's durable log is a prefix of
   * its log, so the mirror holds exactly the committed entries (a follower's mirror may still
   * hold a tail that the write in flight replaces). Membership changes wait for their Ready.
   */
  private applyAhead(g: RaftGroup): void {
    if (g.removed) return;
    const to = Math.min(g.node.committed, g.storage.lastIndex());
    if (to <= g.handedIndex || g.handedIndex + 1 < g.storage.firstIndex()) return;
    let entries = g.storage.entries(g.handedIndex + 1, to + 1, Number.MAX_SAFE_INTEGER);
    const cut = entries.findIndex((e) => e.type !== EntryType.Normal);
    if (cut === 0) return;
    if (cut > 0) entries = entries.slice(0, cut);
    this.pipeline.apply(g, entries).catch((e: Error) => this.log.error({ group: g.name, err: e.message }, 'apply failed'));
  }

  private markDirty(g: RaftGroup): void {
    if (g.removed) return;
    this.dirty.add(g);
    if (!this.roundScheduled && !this.roundRunning && this.state !== 'stopped') {
      this.roundScheduled = true;
      setImmediate(() => this.startRound());
    }
  }

  // ------------------------------------------------------------------ the round

  private startRound(): void {
    this.roundScheduled = false;
    if (this.roundRunning || this.roundsClosed) return;
    this.roundRunning = this.round()
      .catch((e: Error) => {
        // A failed write means durability is unknown: stop serving rather than acknowledge.
        this.log.error({ err: e.message, stack: e.stack }, 'round failed; the node stops');
        void this.fatal(e);
      })
      .finally(() => {
        this.roundRunning = undefined;
        if (this.dirty.size > 0 && this.state !== 'stopped') {
          this.roundScheduled = true;
          setImmediate(() => this.startRound());
        }
      });
  }

  private async fatal(e: Error): Promise<void> {
    for (const g of this.groups.values()) g.failAll(new HostError('stopped', `node stopped after a storage failure: ${e.message}`));
    if (this.ticker) clearInterval(this.ticker);
    this.state = 'stopped';
    await this.opts.transport.close().catch(() => undefined);
  }

  private async round(): Promise<void> {
    const work: RoundWork[] = [];
    const candidates = [...this.dirty];
    this.dirty.clear();
    for (const g of candidates) this.snapshotter.applyPendingCompaction(g);
    for (const g of candidates) {
      if (!g.removed && g.node.hasReady()) work.push({ g, rd: g.node.ready() });
    }
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    if (work.length === 0 && writes.length === 0) return;
    await this.pipeline.run(work, writes);
  }
}
