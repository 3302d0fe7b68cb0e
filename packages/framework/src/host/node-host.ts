import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MemoryStorage } from '../core/memory-storage.js';
import { decodeConfChange } from '../core/confchange/codec.js';
import { ConfChangeType, type ConfChange } from '../core/confchange/types.js';
import { emptyConfState } from '../core/conf-state.js';
import {
  EntryType,
  MessageType,
  ReadOnlyOption,
  Role,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ProgressStatus,
  type Ready,
  type SnapshotMetadata,
} from '../core/types.js';
import type { GroupWrite, LogStore, RecoveredGroup } from '../storage/log-store.js';
import type { Envelope, PeerTransport } from '../transport/transport.js';
import { AddressBook } from './address-book.js';
import { HostError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { HostMetrics } from './metrics.js';
import { RaftGroup, translateCoreError, type ProposalResult } from './raft-group.js';
import type { SnapshotFiles } from './snapshot-files.js';
import type { StateMachineFactory } from './state-machine.js';

const EMPTY = new Uint8Array(0);
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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
  /** Default deadline of proposals and reads (default 5,000 ms). */
  requestTimeoutMs?: number;
  readOnlyOption?: ReadOnlyOption;
  /** Seeded randomness is only needed in tests; production uses Math.random for jitter. */
  random?: () => number;
  logger?: Logger;
  metrics?: HostMetrics;
  /** Where members listen; updated from membership changes (and persisted, when file-backed). */
  addresses?: AddressBook;
}

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
}

export interface CreateGroupOptions {
  type: string;
  /** Founding voters (every founding node passes the same list); empty to join later as a new member. */
  voters: NodeId[];
  learners?: NodeId[];
  witnesses?: NodeId[];
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
  /** Random per process start (not from `random`, which tests seed alike across restarts). */
  private readonly incarnation = randomBytes(4).readUInt32BE(0);
  readonly addresses: AddressBook;

  constructor(private readonly opts: NodeHostOptions) {
    if (!Number.isInteger(opts.id) || opts.id <= 0) throw new HostError('bad_request', `node id must be a positive integer, got ${opts.id}`);
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
    this.addresses = opts.addresses ?? new AddressBook(undefined);
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
    for (const rec of recovered) await this.recoverGroup(rec);
    await this.opts.transport.start({
      onMessages: (from, batch) => this.onMessages(from, batch),
      onSnapshotStatus: (group, to, ok) => this.withGroup(group, (g) => g.node.reportSnapshot(to, ok)),
      onUnreachable: (group, to) => this.withGroup(group, (g) => g.node.reportUnreachable(to)),
    });
    this.state = 'running';
    this.ticker = setInterval(() => this.onTick(), this.tickMs);
    this.log.info({ groups: recovered.length, ms: Math.round(performance.now() - t0) }, 'node host started');
    for (const g of this.groups.values()) {
      this.campaignIfSoleVoter(g);
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
    await this.opts.transport.close();
    const unsaved: GroupWrite[] = [];
    for (const g of this.groups.values()) {
      if (g.unsavedHardState && !g.removed) unsaved.push({ group: g.name, entries: [], hardState: g.unsavedHardState });
      g.unsavedHardState = undefined;
    }
    if (unsaved.length > 0) await this.opts.logStore.write(unsaved).catch((e: Error) => this.log.warn({ err: e.message }, 'the last commit indexes could not be saved'));
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

  private raftConfig() {
    return {
      id: this.id,
      electionTick: this.electionTick,
      heartbeatTick: this.heartbeatTick,
      random: this.random,
      readOnlyOption: this.opts.readOnlyOption ?? ReadOnlyOption.Safe,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      maxInflightBytes: 64 << 20,
    };
  }

  private async recoverGroup(rec: RecoveredGroup): Promise<void> {
    const storage = MemoryStorage.bootstrap(emptyConfState());
    if (rec.snapshot.index > 0) storage.applySnapshot({ metadata: rec.snapshot, data: EMPTY });
    storage.append(rec.entries);
    storage.setHardState(rec.hardState);
    const sm = this.opts.stateMachines(rec.group, rec.type);
    if (rec.snapshot.index > 0) await sm.restore(await this.opts.snapshots.load(rec.group, rec.snapshot.index, rec.snapshot.term));
    // The state machine restarts from the snapshot; the committed tail is applied again.
    const g = new RaftGroup(rec.group, rec.type, sm, this.raftConfig(), storage, rec.snapshot.index, this.quiesceTicks, this.electionTick, this.incarnation);
    g.snapshotSlack = this.snapshotSlack();
    this.groups.set(rec.group, g);
    this.metrics.groups.set(this.groups.size);
  }

  /** Creates a group on this host; founding members all call it with the same voters. */
  async createGroup(name: string, opts: CreateGroupOptions): Promise<void> {
    this.assertRunning();
    if (!GROUP_NAME.test(name)) {
      throw new HostError('bad_request', `group name "${name}" must be 1-128 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    if (this.groups.has(name)) throw new HostError('group_exists', `group "${name}" already exists on this node`);
    const ids = [...opts.voters, ...(opts.learners ?? []), ...(opts.witnesses ?? [])];
    if (ids.some((id) => !Number.isInteger(id) || id <= 0)) throw new HostError('bad_request', 'member ids must be positive integers');
    const confState: ConfState = {
      ...emptyConfState(),
      voters: [...opts.voters, ...(opts.witnesses ?? [])],
      learners: opts.learners ?? [],
      witnesses: opts.witnesses ?? [],
    };
    // Founding members start from a snapshot of the empty state at index 1 (see
    // MemoryStorage.bootstrap); a node that joins starts empty and receives that snapshot.
    const storage = MemoryStorage.bootstrap(confState);
    const base: SnapshotMetadata = storage.snapshot().metadata;
    const sm = this.opts.stateMachines(name, opts.type);
    const write: GroupWrite = { group: name, type: opts.type, snapshot: base, entries: [] };
    if (base.index > 0) {
      await this.opts.snapshots.save(name, base, await sm.snapshot());
      write.hardState = storage.initialState().hardState;
    }
    await this.opts.logStore.write([write]);
    const g = new RaftGroup(name, opts.type, sm, this.raftConfig(), storage, base.index, this.quiesceTicks, this.electionTick, this.incarnation);
    g.snapshotSlack = this.snapshotSlack();
    this.groups.set(name, g);
    this.metrics.groups.set(this.groups.size);
    this.log.info({ group: name, type: opts.type, voters: opts.voters }, 'group created');
    this.campaignIfSoleVoter(g);
    this.markDirty(g);
  }

  /**
   * A group whose only voter is this node has nobody to wait for: it campaigns at once instead of
   * after an election timeout (a restarted single-node service serves a second sooner).
   */
  private campaignIfSoleVoter(g: RaftGroup): void {
    const cs = g.node.confState();
    if (cs.voters.length === 1 && cs.voters[0] === this.id && cs.votersOutgoing.length === 0 && !cs.witnesses.includes(this.id)) g.node.campaign();
  }

  async removeGroup(name: string): Promise<void> {
    const g = this.group(name);
    g.removed = true;
    this.groups.delete(name);
    this.dirty.delete(g);
    g.failAll(new HostError('unknown_group', `group "${name}" was removed`));
    await this.opts.logStore.write([{ group: name, entries: [], remove: true }]);
    this.metrics.groups.set(this.groups.size);
    this.log.info({ group: name }, 'group removed');
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
    const index = await this.takeSnapshot(g);
    // Answer once the compaction that makes it the log's base is durable too.
    const deadline = Date.now() + this.requestTimeoutMs;
    while ((g.pendingCompaction || this.pendingWrites.length > 0 || this.roundRunning) && Date.now() < deadline) {
      if (this.roundRunning) await this.roundRunning;
      else await new Promise((r) => setImmediate(r));
    }
    return index;
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
    const flush = ++this.ticks % this.electionTick === 0;
    for (const g of this.groups.values()) {
      if (flush) this.flushHardState(g);
      if (g.tick()) this.markDirty(g);
      if (g.quiesced) quiesced++;
      g.expire(now);
    }
    this.metrics.quiescedGroups.set(quiesced);
  }

  /** Queues a deferred commit index for the next round's write (an idle group's goes every election timeout). */
  private flushHardState(g: RaftGroup): void {
    if (!g.unsavedHardState || g.removed) return;
    this.pendingWrites.push({ group: g.name, entries: [], hardState: g.unsavedHardState });
    g.unsavedHardState = undefined;
    this.markDirty(g);
  }

  private onMessages(from: NodeId, batch: Envelope[]): void {
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
    this.applyEntries(g, entries).catch((e: Error) => this.log.error({ group: g.name, err: e.message }, 'apply failed'));
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
    const t0 = performance.now();
    const work: { g: RaftGroup; rd: Ready }[] = [];
    const candidates = [...this.dirty];
    this.dirty.clear();
    for (const g of candidates) this.applyPendingCompaction(g);
    for (const g of candidates) {
      if (!g.removed && g.node.hasReady()) work.push({ g, rd: g.node.ready() });
    }
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    if (work.length === 0 && writes.length === 0) return;

    // 0. A leader's Appends and heartbeats go out before its own write (Raft thesis 10.2.1): the
    // core counts the leader's copy, but nothing it commits is applied or told to followers
    // before this round's write is durable. Not when the term or vote changes in this round.
    const early: Envelope[] = [];
    const sentEarly = new Set<RaftGroup>();
    for (const { g, rd } of work) {
      if (g.role !== Role.Leader || rd.snapshot) continue;
      if (rd.hardState && !onlyCommitMoved(g.storage.currentHardState(), rd.hardState)) continue;
      sentEarly.add(g);
      for (const m of rd.messages) {
        if (m.type === MessageType.Append || m.type === MessageType.Heartbeat) early.push({ group: g.name, message: m });
      }
    }

    // 1. Persist: received snapshots' files first, then one transaction for every group.
    let entryCount = 0;
    for (const { g, rd } of work) {
      if (rd.snapshot) await this.opts.snapshots.save(g.name, rd.snapshot.metadata, rd.snapshot.data);
      let hs = rd.hardState;
      if (hs && !rd.snapshot && rd.entries.length === 0 && onlyCommitMoved(g.storage.currentHardState(), hs)) {
        // A commit index alone need not be durable at once (a restarted node learns it again),
        // and a transaction of its own would hold up the next write that matters behind its fsync.
        g.unsavedHardState = hs;
        hs = undefined;
      } else if (!hs && rd.entries.length > 0) {
        hs = g.unsavedHardState;
      }
      if (hs) g.unsavedHardState = undefined;
      if (rd.snapshot || rd.entries.length > 0 || hs) {
        const w: GroupWrite = { group: g.name, entries: rd.entries };
        if (rd.snapshot) w.snapshot = rd.snapshot.metadata;
        if (hs) w.hardState = hs;
        writes.push(w);
        entryCount += rd.entries.length;
      }
    }
    // Committed entries already in the durable log do not depend on this round's write: they
    // are applied (and their callers answered) while it is in flight, so a proposal waits for
    // one local fsync, not for the next round's as well.
    const appliedEarly = work.map(() => 0);
    const sendEarly = () => {
      if (early.length === 0) return;
      this.opts.transport.send(early);
      this.metrics.messagesSent.inc(early.length);
    };
    if (writes.length > 0) {
      const tw = performance.now();
      const written = this.opts.logStore.write(writes);
      // The storage worker starts on the write first: the socket writes take a while here.
      sendEarly();
      // Only entries, votes, terms and snapshots must be durable before anything depends on
      // them; a commit index alone can be re-learned after a crash, so a round that changes
      // nothing else goes on while its write completes (writes stay in order).
      const mustSync = pendingSync(writes) || work.some(({ rd }) => rd.mustSync);
      if (mustSync) {
        // A failed write is handled by the await below; this only keeps it from being unhandled
        // while the early applies run.
        written.catch(() => undefined);
        for (let i = 0; i < work.length; i++) {
          const { g, rd } = work[i]!;
          const n = rd.snapshot ? 0 : durablePrefix(g, rd.committedEntries);
          if (n > 0) await this.applyEntries(g, rd.committedEntries.slice(0, n));
          appliedEarly[i] = n;
        }
        await written;
        this.metrics.fsyncSeconds.observe((performance.now() - tw) / 1000);
      } else {
        written.catch((e: Error) => {
          this.log.error({ err: e.message }, 'log write failed; the node stops');
          void this.fatal(e);
        });
      }
      this.metrics.roundEntries.observe(entryCount);
    } else {
      sendEarly();
    }

    // 2. Mirror what is now durable, 3. send what depended on it.
    const out: Envelope[] = [];
    for (const { g, rd } of work) {
      if (rd.snapshot) g.storage.applySnapshot({ metadata: rd.snapshot.metadata, data: EMPTY });
      g.storage.append(rd.entries);
      if (rd.hardState) g.storage.setHardState(rd.hardState);
      const skipEarly = sentEarly.has(g);
      for (const m of rd.messages) {
        if (skipEarly && (m.type === MessageType.Append || m.type === MessageType.Heartbeat)) continue;
        if (m.type === MessageType.Snapshot) void this.sendSnapshot(g, m);
        else out.push({ group: g.name, message: m });
      }
    }
    if (out.length > 0) {
      this.opts.transport.send(out);
      this.metrics.messagesSent.inc(out.length);
    }

    // 4. Apply, answer, advance.
    for (let i = 0; i < work.length; i++) {
      const { g, rd } = work[i]!;
      if (rd.softState) this.onSoftState(g, rd.softState.role, rd.softState.lead);
      if (rd.snapshot) {
        await g.sm.restore(rd.snapshot.data);
        g.restoredTo(rd.snapshot.metadata.index);
        g.snapshotIndex = rd.snapshot.metadata.index;
      }
      const early = appliedEarly[i]!;
      await this.applyEntries(g, early === 0 ? rd.committedEntries : rd.committedEntries.slice(early));
      g.onReadStates(rd.readStates);
      g.releaseReads();
      g.node.advance(rd);
      g.advanced();
      this.dirty.add(g);
    }
    for (const { g } of work) {
      if (g.appliedIndex - g.snapshotIndex >= this.snapshotEntries + g.snapshotSlack && !g.snapshotting) {
        // Replicas reach the same index together; a random slack keeps them from all pausing
        // to capture their state at the same moment.
        g.snapshotSlack = this.snapshotSlack();
        // Not awaited: serialising and writing run beside the next rounds.
        this.takeSnapshot(g).catch(() => undefined);
      }
    }
    this.metrics.roundSeconds.observe((performance.now() - t0) / 1000);
  }

  private async applyEntries(g: RaftGroup, entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const applied = await g.applyCommitted(entries);
    if (applied > 0) this.metrics.applied.inc({ group: g.name }, applied);
    this.onConfChanges(g, entries);
  }

  /** Up to a quarter of the interval, drawn afresh for each snapshot of each group. */
  private snapshotSlack(): number {
    return Math.floor(this.random() * (this.snapshotEntries / 4));
  }

  /** Makes a written local snapshot the log's base and compacts, unless the log moved past it. */
  private applyPendingCompaction(g: RaftGroup): void {
    const p = g.pendingCompaction;
    if (!p || g.removed) return;
    g.pendingCompaction = undefined;
    const base = g.storage.snapshot().metadata.index;
    if (p.index <= base || p.index > g.storage.lastIndex() || g.storage.term(p.index) !== p.term) return;
    const snap = g.storage.createSnapshot(p.index, p.confState, EMPTY);
    const compactTo = Math.max(g.storage.firstIndex() - 1, p.index - this.retainEntries);
    if (compactTo >= g.storage.firstIndex()) g.storage.compact(compactTo);
    g.snapshotIndex = Math.max(g.snapshotIndex, p.index);
    const w: GroupWrite = { group: g.name, entries: [], compact: { snapshot: snap.metadata, compactTo } };
    // The durable commit index must not fall behind the new log base.
    if (g.unsavedHardState) w.hardState = g.unsavedHardState;
    g.unsavedHardState = undefined;
    this.pendingWrites.push(w);
  }

  private onSoftState(g: RaftGroup, role: Role, lead: NodeId): void {
    if (role !== Role.Leader) {
      // Waiting callers learn now instead of at their deadline; the outcome is unknown, as for
      // a timeout: retrying with the same client id and sequence is exactly-once.
      g.failPending(new HostError('timeout', `node ${this.id} lost the leadership of group "${g.name}" before the request completed; it may still commit: retry (with the same client id and sequence)`));
    }
    if (role === Role.Candidate) this.metrics.elections.inc({ group: g.name });
    if (lead !== 0) this.metrics.leaderChanges.inc({ group: g.name });
    this.log.info({ group: g.name, role, leader: lead, term: g.node.term }, 'role changed');
  }

  /**
   * New members' addresses travel in the change's context: {"address":"host:port"} for the
   * members a change adds, or {"addresses":{"4":"host:port",...}} per member.
   */
  private onConfChanges(g: RaftGroup, entries: Entry[]): void {
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      let cc: ConfChange;
      try {
        cc = decodeConfChange(e.data);
      } catch {
        continue;
      }
      this.log.info({ group: g.name, index: e.index, changes: cc.changes }, 'membership change applied');
      if (!cc.context) continue;
      let ctx: { address?: unknown; addresses?: unknown };
      try {
        ctx = JSON.parse(cc.context) as typeof ctx;
      } catch {
        continue;
      }
      const perMember = typeof ctx.addresses === 'object' && ctx.addresses !== null ? (ctx.addresses as Record<string, unknown>) : {};
      for (const ch of cc.changes) {
        if (ch.type === ConfChangeType.RemoveNode || ch.nodeId === this.id) continue;
        const address = perMember[String(ch.nodeId)] ?? ctx.address;
        if (typeof address !== 'string') continue;
        try {
          this.opts.transport.setPeer(ch.nodeId, address);
          void this.addresses.set(ch.nodeId, address);
        } catch (err) {
          // Replicated data: every node sees the same bad address; log it and keep applying.
          this.log.warn({ group: g.name, node: ch.nodeId, address, err: (err as Error).message }, 'membership change carries an unusable address');
        }
      }
    }
  }

  private async sendSnapshot(g: RaftGroup, m: Message): Promise<void> {
    const meta = m.snapshot!.metadata;
    try {
      const data = await this.opts.snapshots.load(g.name, meta.index, meta.term);
      this.opts.transport.send([{ group: g.name, message: { ...m, snapshot: { metadata: meta, data } } }]);
    } catch (e) {
      this.log.warn({ group: g.name, to: m.to, index: meta.index, err: (e as Error).message }, 'snapshot could not be sent');
      this.withGroup(g.name, (gr) => gr.node.reportSnapshot(m.to, false));
    }
  }

  /**
   * Snapshots a group at its applied index: captures the state (synchronously when the state
   * machine can), then serialises and writes it durably off the round, and only then makes it the
   * log's base and compacts — so a follower is never offered a snapshot whose file is not there.
   */
  private async takeSnapshot(g: RaftGroup): Promise<number> {
    if (g.snapshotting) return g.snapshotting;
    const index = g.appliedIndex;
    // Entries handed to the state machine but not settled yet would be in the captured state.
    if (index <= g.snapshotIndex || g.handedIndex !== index) return g.snapshotIndex;
    const confState = g.node.confState();
    const term = g.storage.term(index);
    let serialize: () => Promise<Uint8Array>;
    if (g.sm.captureSnapshot) {
      const capture = g.sm.captureSnapshot();
      serialize = () => capture.serialize();
    } else {
      const data = await g.sm.snapshot();
      serialize = async () => data;
    }
    const task = (async () => {
      const data = await serialize();
      await this.opts.snapshots.save(g.name, { index, term, confState }, data);
      // The log base moves inside a round, where the mirror cannot change under it (a snapshot
      // received from the leader meanwhile may have replaced the log).
      g.pendingCompaction = { index, term, confState };
      this.markDirty(g);
      this.log.debug({ group: g.name, index, bytes: data.length }, 'snapshot written');
      return index;
    })();
    g.snapshotting = task;
    try {
      return await task;
    } catch (e) {
      this.log.error({ group: g.name, index, err: (e as Error).message }, 'snapshot failed');
      throw e;
    } finally {
      g.snapshotting = undefined;
    }
  }
}

/**
 * How many of the committed entries (a prefix, up to the first membership change) are already
 * in the durable log mirror. A follower's mirror may still hold a conflicting entry at an index
 * that this round's write replaces, so the last entry of the prefix must match by term too (log
 * matching then covers the rest).
 */
function durablePrefix(g: RaftGroup, committed: Entry[]): number {
  if (committed.length === 0) return 0;
  const last = g.storage.lastIndex();
  // Membership changes take effect in the core at advance(), after the write: answering one
  // earlier would let its caller's next change be refused as "not applied yet".
  const conf = committed.findIndex((e) => e.type !== EntryType.Normal);
  let n = conf < 0 ? committed.length : conf;
  while (n > 0 && committed[n - 1]!.index > last) n--;
  while (n > 0) {
    const e = committed[n - 1]!;
    let term: number;
    try {
      term = g.storage.term(e.index);
    } catch {
      return 0;
    }
    if (term === e.term) return n;
    n--;
  }
  return 0;
}

/** Term and vote as last persisted: at most the commit index differs. */
function onlyCommitMoved(durable: Readonly<HardState>, next: HardState): boolean {
  return next.term === durable.term && next.vote === durable.vote;
}

/** Writes other than a bare commit-index change. */
function pendingSync(writes: GroupWrite[]): boolean {
  return writes.some((w) => w.entries.length > 0 || w.snapshot !== undefined || w.compact !== undefined || w.remove === true || w.type !== undefined);
}
