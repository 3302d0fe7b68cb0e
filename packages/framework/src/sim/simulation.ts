// The engine: nodes, a virtual clock and one queue of timed events (ticks, message deliveries,
// fsync completions, driver actions, restarts, partition heals). One step handles one event,
// lets idle nodes take their next Ready, and runs the checker. The same seed always produces
// the same sequence of steps: every random choice comes from a Prng derived from it, nodes are
// visited in id order, and ties in time break by insertion order.

import { cloneConfState, emptyConfState } from '../core/conf-state.js';
import type { RaftConfig } from '../core/config.js';
import type { ConfChange } from '../core/confchange/types.js';
import { RaftError } from '../core/errors.js';
import { MemoryStorage } from '../core/memory-storage.js';
import { EntryType, MessageType, ReadOnlyOption, Role, type ConfState, type Message, type NodeId } from '../core/types.js';
import { Checker } from './checker.js';
import { EventQueue } from './event-queue.js';
import { Network } from './network.js';
import { Prng } from './prng.js';
import { TICK, type Scenario } from './scenario.js';
import type { AppExtension } from './sim-app.js';
import { SimNode, type NodeObserver } from './sim-node.js';
import { describeConfChange, describeMessage } from './trace.js';
import { SimViolation, violation, type RunPosition } from './violation.js';
import { Workload, type ProposeOutcome } from './workload.js';

/** One copy of a message on its way; `id` names it for the hooks and for faults by hand. */
interface Delivery {
  kind: 'deliver';
  msg: Message;
  id: number;
  at: number;
  /** Dropped or re-timed by hand (see dropMessage): skipped when it comes up. */
  cancelled?: boolean;
}

type SimEvent =
  | { kind: 'tick'; id: NodeId; inc: number }
  | Delivery
  | { kind: 'persist'; id: NodeId; inc: number }
  | { kind: 'snapshot-status'; id: NodeId; inc: number; target: NodeId; ok: boolean }
  | { kind: 'unreachable'; id: NodeId; inc: number; target: NodeId }
  | { kind: 'restart'; id: NodeId; inc: number }
  | { kind: 'heal'; partition: number }
  | { kind: 'call'; label: string; fn: () => void };

/** Called on every driver turn (see driver.ts); scripted tests may leave it out. */
export interface Actor {
  act(sim: Simulation): void;
  /** Time units until the next turn. */
  gap(): number;
}

export interface EngineStats {
  messagesSent: number;
  messagesDelivered: number;
  messagesDropped: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  /** Snapshots sent at the leader's applied index, past the log base the core asked for (freshSnapshots). */
  snapshotsSentPastBase: number;
  crashes: number;
  partitions: number;
  confChangesProposed: number;
  confChangesRejected: number;
  confChangesApplied: number;
  transfers: number;
}

/** What a step handled, as the hooks see it. */
export type StepEvent =
  | { kind: 'tick' | 'persist' | 'restart'; node: NodeId }
  | { kind: 'deliver'; message: Message; messageId: number }
  | { kind: 'snapshot-status' | 'unreachable'; node: NodeId; target: NodeId }
  | { kind: 'heal'; partition: number }
  | { kind: 'call'; label: string };

/**
 * Observers of the run's events (the emulator draws its message flow from them). They only
 * watch: a run with hooks takes exactly the same steps as one without.
 */
export interface SimHooks {
  /** Before a step's event is handled. */
  event?(e: StepEvent): void;
  /** A message left `from`: one id per copy on its way ([] when the network lost it or a link is cut). */
  sent?(m: Message, copies: Array<{ id: number; at: number }>): void;
  /** A copy reached its target's core. */
  delivered?(m: Message, id: number): void;
  /** A copy died on arrival (its target down, or the link cut meanwhile), or was dropped by hand. */
  dropped?(m: Message, id: number, why: 'target down' | 'link cut' | 'by hand'): void;
}

/** A message copy on its way, as dropMessage and friends name it. */
export interface InFlightMessage {
  id: number;
  message: Message;
  /** Virtual time of arrival. */
  at: number;
}

/** Steps that the core may legitimately refuse: a stale peer's message, say. */
const IGNORABLE_STEP_ERRORS = new Set(['step_peer_not_found', 'step_local_message']);

export class Simulation {
  readonly checker: Checker;
  readonly workload: Workload;
  readonly network: Network;
  /** All nodes ever started, in id order. */
  readonly nodes: SimNode[] = [];
  now = 0;
  step = 0;
  /** 'chaos' while faults are injected, 'heal' during the final liveness phase. */
  phase: 'chaos' | 'heal' = 'chaos';
  readonly stats: EngineStats = {
    messagesSent: 0,
    messagesDelivered: 0,
    messagesDropped: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    snapshotsSentPastBase: 0,
    crashes: 0,
    partitions: 0,
    confChangesProposed: 0,
    confChangesRejected: 0,
    confChangesApplied: 0,
    transfers: 0,
  };
  /** The founding configuration (joiners start with an empty one and learn it by snapshot). */
  readonly foundingConf: ConfState;

  private readonly byId = new Map<NodeId, SimNode>();
  private readonly queue = new EventQueue<SimEvent>();
  /** Fsync latency, tick phases, message-independent timing. */
  private readonly timing: Prng;
  private readonly pos: RunPosition;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly confChangeIndexes = new Set<number>();
  /** (sender, target) pairs with an unreachable report on its way, to report each outage once. */
  private readonly pendingUnreachable = new Set<number>();
  private actor: Actor | undefined;
  private readonly roles = new Map<NodeId, string>();
  /** Gives each new node a scenario's application beside the checksums (see AppExtension). */
  private readonly appFor: ((n: SimNode) => AppExtension | undefined) | undefined;
  private readonly hooks: SimHooks;
  private nextMessageId = 1;
  /** Message copies on their way, by id. */
  private readonly inFlight = new Map<number, Delivery>();
  /** Time units between two ticks of a node whose clock runs fast or slow (setClockRate). */
  private readonly tickInterval = new Map<NodeId, number>();

  constructor(
    readonly scenario: Scenario,
    options: { trace?: (line: string) => void; actor?: Actor; app?: (n: SimNode) => AppExtension | undefined; hooks?: SimHooks } = {},
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the position's getters read the live simulation
    const self = this;
    this.pos = {
      seed: scenario.seed,
      replay: scenario.replay,
      get step() {
        return self.step;
      },
    };
    this.trace = options.trace;
    this.appFor = options.app;
    this.hooks = options.hooks ?? {};
    const voters = range(1, scenario.voters);
    const learners = range(scenario.voters + 1, scenario.voters + scenario.learners);
    this.foundingConf = {
      voters,
      learners,
      votersOutgoing: [],
      learnersNext: [],
      witnesses: scenario.witness ? [scenario.voters] : [],
      autoLeave: false,
    };
    // Where founders start: MemoryStorage's founding snapshot (no log entry holds it).
    this.checker = new Checker(this.pos, MemoryStorage.bootstrap(this.foundingConf).snapshot().metadata);
    this.workload = new Workload(this.checker, scenario.clientTimeoutTicks * TICK);
    this.network = new Network(Prng.derive(scenario.seed, 'network'), {
      minDelay: scenario.minDelay,
      maxDelay: scenario.maxDelay,
      lossRate: scenario.lossRate,
      dupRate: scenario.dupRate,
      fifo: scenario.fifo,
    });
    this.timing = Prng.derive(scenario.seed, 'timing');
    for (const id of [...voters, ...learners]) this.addNode(id, this.foundingConf.witnesses.includes(id), true);
    if (options.actor) this.setActor(options.actor);
  }

  // ---- running -------------------------------------------------------------------------

  /** Starts the driver: a recurring event that calls actor.act(). */
  setActor(actor: Actor): void {
    const first = this.actor === undefined;
    this.actor = actor;
    if (first) this.schedule(actor.gap(), { kind: 'call', label: 'driver', fn: () => this.driverTurn() });
  }

  private driverTurn(): void {
    const actor = this.actor;
    if (!actor) return;
    actor.act(this);
    this.schedule(actor.gap(), { kind: 'call', label: 'driver', fn: () => this.driverTurn() });
  }

  /** Handles the next event, lets idle nodes take a Ready, and checks every invariant. */
  stepOnce(): void {
    let next = this.queue.pop();
    while (next?.event.kind === 'deliver' && next.event.cancelled) next = this.queue.pop();
    if (!next) throw new Error('simulation event queue ran dry');
    this.now = next.at;
    this.step++;
    try {
      if (this.hooks.event) this.hooks.event(stepEvent(next.event));
      this.handle(next.event);
      this.pump();
      this.checker.afterStep(this.nodes);
      if (this.step % this.scenario.fullCheckEvery === 0) this.checker.fullCheck(this.nodes);
      if (this.trace) this.traceRoles();
    } catch (e) {
      if (e instanceof SimViolation) throw e;
      const what = e instanceof Error ? (e.stack ?? e.message) : String(e);
      throw violation(this.pos, 'core-error', `unexpected exception: ${what}`);
    }
  }

  /** Runs until virtual time has advanced by `ticks` ticks. */
  runTicks(ticks: number): void {
    const until = this.now + ticks * TICK;
    while (this.now < until) this.stepOnce();
  }

  /** Runs until pred() holds (checked after each step); false if `ticks` ticks pass first. */
  runUntil(pred: () => boolean, ticks: number): boolean {
    const until = this.now + ticks * TICK;
    while (!pred()) {
      if (this.now >= until) return false;
      this.stepOnce();
    }
    return true;
  }

  schedule(after: number, event: SimEvent): void {
    this.queue.push(this.now + Math.max(0, after), event);
  }

  /** Runs `fn` as its own step `after` time units from now (scripted scenarios). */
  at(after: number, label: string, fn: () => void): void {
    this.schedule(after, { kind: 'call', label, fn });
  }

  log(line: string): void {
    if (this.trace) this.trace(`[${this.step} t=${(this.now / TICK).toFixed(1)}] ${line}`);
  }

  // ---- nodes ---------------------------------------------------------------------------

  node(id: NodeId): SimNode | undefined {
    return this.byId.get(id);
  }

  /** The up node that is leader in the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes) {
      const r = n.raft;
      if (r && r.role === Role.Leader && (!best || r.term > best.raft!.term)) best = n;
    }
    return best;
  }

  /**
   * Starts a node that joins later: empty log, empty configuration. It learns both from the
   * leader, by the founding snapshot at least (no log entry records the founding configuration).
   */
  spawn(id: NodeId, witness: boolean): SimNode {
    return this.addNode(id, witness, false);
  }

  private addNode(id: NodeId, witness: boolean, founding: boolean): SimNode {
    if (this.byId.has(id)) throw new Error(`node ${id} already exists`);
    const storage = MemoryStorage.bootstrap(founding ? this.foundingConf : emptyConfState());
    const n = new SimNode(id, witness, storage, (nid, inc, st, applied) => this.raftConfig(nid, inc, st, applied));
    this.byId.set(id, n);
    this.nodes.push(n);
    this.nodes.sort((a, b) => a.id - b.id);
    if (!witness) n.ext = this.appFor?.(n);
    this.checker.nodeCreated(n);
    this.startNode(n);
    return n;
  }

  private raftConfig(id: NodeId, incarnation: number, storage: MemoryStorage, applied: number): RaftConfig {
    const s = this.scenario;
    const jitter = Prng.derive(s.seed, `raft/${id}/${incarnation}`);
    const lease = s.readMode === 'lease' || (s.readMode === 'mixed' && id % 2 === 1);
    const config: RaftConfig = {
      id,
      electionTick: s.electionTick,
      heartbeatTick: s.heartbeatTick,
      storage,
      applied,
      preVote: s.preVote,
      checkQuorum: s.checkQuorum,
      readOnlyOption: lease ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
      maxSizePerMsg: s.maxSizePerMsg,
      maxInflightMsgs: s.maxInflightMsgs,
      maxUncommittedEntriesSize: s.maxUncommittedEntriesSize,
      random: () => jitter.float(),
    };
    if (s.mutation) config.testingMutation = s.mutation;
    return config;
  }

  private startNode(n: SimNode): void {
    n.start(this.observer);
    this.log(`n${n.id} starts (incarnation ${n.incarnation}, snapshot ${n.storage.snapshot().metadata.index}, last ${n.storage.lastIndex()})`);
    // Nodes tick at the same rate with random phases: no clock drift, so lease reads are sound.
    this.schedule(this.timing.range(1, TICK), { kind: 'tick', id: n.id, inc: n.incarnation });
  }

  crash(id: NodeId, why = 'crash'): boolean {
    const n = this.byId.get(id);
    if (!n?.raft) return false;
    n.crash();
    this.workload.crashed(n);
    this.roles.delete(id);
    this.stats.crashes++;
    this.log(`n${id} ${why}: loses everything not persisted`);
    return true;
  }

  restart(id: NodeId): boolean {
    const n = this.byId.get(id);
    if (!n || n.up || n.decommissioned) return false;
    this.startNode(n);
    return true;
  }

  /** Crashes the node and restarts it after `ticks` ticks (unless something else did first). */
  crashFor(id: NodeId, ticks: number): void {
    const n = this.byId.get(id);
    if (!n || !this.crash(id)) return;
    this.schedule(ticks * TICK, { kind: 'restart', id, inc: n.incarnation });
  }

  /** Stops a removed node for good. */
  decommission(id: NodeId): void {
    const n = this.byId.get(id);
    if (!n || n.decommissioned) return;
    this.crash(id, 'decommissioned');
    n.decommissioned = true;
  }

  /** Snapshots the node's applied state and compacts its log behind it. */
  snapshot(id: NodeId, tail: number): boolean {
    const n = this.byId.get(id);
    if (!n) return false;
    const snap = n.snapshotAndCompact(tail);
    if (!snap) return false;
    this.checker.compacted(n);
    this.stats.snapshotsTaken++;
    this.log(`n${id} snapshots at ${snap.metadata.index} and compacts to ${n.storage.firstIndex() - 1}`);
    return true;
  }

  // ---- network -------------------------------------------------------------------------

  /** Cuts the links between groups (both ways) for `ticks` ticks, or until healed. */
  partition(groups: NodeId[][], ticks?: number): number {
    const id = this.network.partition(groups);
    this.stats.partitions++;
    this.log(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}${ticks ? ` for ${ticks} ticks` : ''}`);
    if (ticks !== undefined) this.schedule(ticks * TICK, { kind: 'heal', partition: id });
    return id;
  }

  /** Cuts only the links from `from` to `to`. */
  oneWay(from: NodeId[], to: NodeId[], ticks?: number): number {
    const id = this.network.oneWay(from, to);
    this.stats.partitions++;
    this.log(`one-way cut {${from.join(',')}} -/-> {${to.join(',')}}${ticks ? ` for ${ticks} ticks` : ''}`);
    if (ticks !== undefined) this.schedule(ticks * TICK, { kind: 'heal', partition: id });
    return id;
  }

  healNetwork(): void {
    this.network.healAll();
    this.log('network healed');
  }

  // ---- clients and administration -----------------------------------------------------

  write(id: NodeId, count = 1, onAck?: (index: number) => void): ProposeOutcome {
    const n = this.byId.get(id);
    if (!n) return 'down';
    const out = this.workload.write(n, this.now, count, onAck);
    this.log(`client write x${count} at n${id}: ${out}`);
    return out;
  }

  /** A linearizable read; with `lease`, answered from the leader's lease while it holds. */
  read(id: NodeId, opts: { lease?: boolean } = {}): boolean {
    const n = this.byId.get(id);
    if (!n) return false;
    const ok = this.workload.read(n, this.now, opts);
    if (ok) this.log(`client ${opts.lease ? 'lease ' : ''}read at n${id} (must see index ${this.checker.maxAckedIndex})`);
    return ok;
  }

  /** Proposes a membership change on the node; false if it refused (not leader, pending change...). */
  proposeConfChange(id: NodeId, cc: ConfChange): boolean {
    const raft = this.byId.get(id)?.raft;
    if (!raft) return false;
    try {
      const index = raft.proposeConfChange(cc);
      this.stats.confChangesProposed++;
      this.log(`n${id} proposes conf change at ${index}: ${describeConfChange(cc)}`);
      return true;
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.stats.confChangesRejected++;
      this.log(`n${id} refuses conf change ${describeConfChange(cc)}: ${e.code}`);
      return false;
    }
  }

  transferLeader(from: NodeId, to: NodeId): void {
    const raft = this.byId.get(from)?.raft;
    if (!raft) return;
    raft.transferLeader(to);
    this.stats.transfers++;
    this.log(`n${from} transfers leadership to n${to}`);
  }

  /** A forged or corrupted message arrives at `m.to` now, as if from the network (hostile-input tests). */
  inject(m: Message): void {
    this.enqueueDelivery(cloneMessage(m), this.now);
  }

  // ---- events --------------------------------------------------------------------------

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': {
        const n = this.byId.get(ev.id);
        if (!n?.raft || n.incarnation !== ev.inc) return;
        n.raft.tick();
        this.schedule(this.tickInterval.get(n.id) ?? TICK, ev);
        return;
      }
      case 'deliver':
        this.inFlight.delete(ev.id);
        return this.deliver(ev.msg, ev.id);
      case 'persist': {
        const n = this.byId.get(ev.id);
        if (!n?.raft || n.incarnation !== ev.inc) return;
        n.finishReady(this.observer);
        return;
      }
      case 'snapshot-status': {
        const n = this.byId.get(ev.id);
        if (!n?.raft || n.incarnation !== ev.inc) return;
        n.raft.reportSnapshot(ev.target, ev.ok);
        return;
      }
      case 'unreachable': {
        this.pendingUnreachable.delete(ev.id * 65536 + ev.target);
        const n = this.byId.get(ev.id);
        if (!n?.raft || n.incarnation !== ev.inc) return;
        n.raft.reportUnreachable(ev.target);
        return;
      }
      case 'restart': {
        const n = this.byId.get(ev.id);
        if (n && n.incarnation === ev.inc) this.restart(ev.id);
        return;
      }
      case 'heal': {
        const label = this.network.heal(ev.partition);
        if (label) this.log(`heal ${label}`);
        return;
      }
      case 'call':
        if (ev.label !== 'driver') this.log(ev.label);
        ev.fn();
        return;
    }
  }

  private deliver(m: Message, id: number): void {
    const n = this.byId.get(m.to);
    if (!n?.raft || this.network.isCut(m.from, m.to)) {
      this.stats.messagesDropped++;
      this.hooks.dropped?.(m, id, n?.raft ? 'link cut' : 'target down');
      this.reportUnreachableLater(m.from, m.to);
      if (m.type === MessageType.Snapshot) this.reportSnapshotLater(m.from, m.to, false);
      return;
    }
    this.stats.messagesDelivered++;
    if (this.trace) this.log(`deliver ${describeMessage(m)}`);
    this.hooks.delivered?.(m, id);
    try {
      n.raft.step(m);
    } catch (e) {
      if (e instanceof RaftError && IGNORABLE_STEP_ERRORS.has(e.code)) return;
      throw e;
    }
    if (m.type === MessageType.Snapshot) this.reportSnapshotLater(m.from, m.to, true);
  }

  /**
   * A cut link or a dead peer breaks the sender's connection, and its transport tells the core
   * (etcd's ReportUnreachable). Random loss, in contrast, goes unnoticed.
   */
  private reportUnreachableLater(from: NodeId, to: NodeId): void {
    const sender = this.byId.get(from);
    const key = from * 65536 + to;
    if (!sender?.raft || this.pendingUnreachable.has(key)) return;
    this.pendingUnreachable.add(key);
    this.schedule(this.timing.range(this.scenario.minDelay, this.scenario.maxDelay), {
      kind: 'unreachable',
      id: from,
      inc: sender.incarnation,
      target: to,
    });
  }

  /** The sender's transport tells its core whether a snapshot got through. */
  private reportSnapshotLater(from: NodeId, to: NodeId, ok: boolean): void {
    const sender = this.byId.get(from);
    if (!sender?.raft) return;
    this.schedule(this.timing.range(this.scenario.minDelay, this.scenario.maxDelay), {
      kind: 'snapshot-status',
      id: from,
      inc: sender.incarnation,
      target: to,
      ok,
    });
  }

  /** Every idle node with work takes a Ready; its persist completes after a random fsync. */
  private pump(): void {
    for (const n of this.nodes) {
      if (n.takeReady()) {
        this.schedule(this.timing.range(0, this.scenario.maxFsyncDelay), { kind: 'persist', id: n.id, inc: n.incarnation });
      }
    }
  }

  private readonly observer: NodeObserver = {
    entriesPersisted: (n, entries) => this.checker.entriesPersisted(n, entries),
    snapshotPersisted: (n, snap) => {
      this.stats.snapshotsInstalled++;
      this.log(`n${n.id} installs snapshot ${snap.metadata.index}@${snap.metadata.term}`);
      this.checker.snapshotPersisted(n, snap);
    },
    send: (n, messages) => {
      for (const m of messages) this.send(n, m.type === MessageType.Snapshot && this.scenario.freshSnapshots ? this.freshSnapshot(n, m) : m);
    },
    appRestored: (n, snap) => this.checker.appRestored(n, snap),
    applied: (n, e) => {
      this.checker.applied(n, e);
      this.workload.applied(n, e);
      if (e.type === EntryType.ConfChange && !this.confChangeIndexes.has(e.index)) {
        this.confChangeIndexes.add(e.index);
        this.stats.confChangesApplied++;
        if (this.trace) this.log(`n${n.id} applies conf change ${e.index}; config now ${describeConf(n.raft!.confState())}`);
      }
    },
    readStates: (n, states) => this.workload.readStates(n, states),
    readyDone: (n) => {
      this.workload.serveReady(n);
      const every = this.scenario.snapshotEvery;
      if (every > 0 && n.app.index - n.storage.snapshot().metadata.index >= every) this.snapshot(n.id, this.scenario.snapshotTail);
    },
  };

  /** The Snapshot a host whose log snapshots hold no state sends instead (Scenario.freshSnapshots). */
  private freshSnapshot(n: SimNode, m: Message): Message {
    const fresh = n.freshSnapshot(m, this.byId.get(m.to)?.witness === true);
    if (fresh !== m) {
      this.stats.snapshotsSentPastBase++;
      this.log(`n${n.id} sends n${m.to} a snapshot at ${fresh.snapshot!.metadata.index}, past its log base ${m.snapshot!.metadata.index}`);
    }
    return fresh;
  }

  private send(from: SimNode, m: Message): void {
    this.stats.messagesSent++;
    const arrivals = this.network.fate(from.id, m.to, this.now);
    if (arrivals.length === 0) {
      this.stats.messagesDropped++;
      this.hooks.sent?.(m, []);
      if (this.network.isCut(from.id, m.to)) this.reportUnreachableLater(from.id, m.to);
      if (m.type === MessageType.Snapshot) this.reportSnapshotLater(m.from, m.to, false);
      return;
    }
    const copies = arrivals.map((at) => this.enqueueDelivery(cloneMessage(m), at));
    this.hooks.sent?.(m, copies);
  }

  private enqueueDelivery(msg: Message, at: number): { id: number; at: number } {
    const d: Delivery = { kind: 'deliver', msg, id: this.nextMessageId++, at };
    this.inFlight.set(d.id, d);
    this.queue.push(at, d);
    return { id: d.id, at };
  }

  // ---- faults by hand (the emulator) -----------------------------------------------------

  /** Message copies on their way, earliest arrival first. */
  inFlightMessages(): InFlightMessage[] {
    return [...this.inFlight.values()].map((d) => ({ id: d.id, message: d.msg, at: d.at })).sort((a, b) => a.at - b.at || a.id - b.id);
  }

  /** Loses one copy on its way; false if it is not on its way. */
  dropMessage(id: number): boolean {
    const d = this.takeInFlight(id);
    if (!d) return false;
    this.stats.messagesDropped++;
    this.log(`drop ${describeMessage(d.msg)} (message ${id}, by hand)`);
    this.hooks.dropped?.(d.msg, id, 'by hand');
    // As for random loss, the sender's transport notices nothing.
    if (d.msg.type === MessageType.Snapshot) this.reportSnapshotLater(d.msg.from, d.msg.to, false);
    return true;
  }

  /** Makes one copy arrive `by` time units later than planned (it keeps its id). */
  delayMessage(id: number, by: number): boolean {
    const d = this.takeInFlight(id);
    if (!d) return false;
    const again: Delivery = { kind: 'deliver', msg: d.msg, id, at: d.at + Math.max(0, by) };
    this.inFlight.set(id, again);
    this.queue.push(again.at, again);
    this.log(`delay ${describeMessage(d.msg)} (message ${id}) by ${by} to t=${(again.at / TICK).toFixed(1)}`);
    return true;
  }

  /** Sends a second copy of one message, arriving `after` time units after the first; its id, or undefined. */
  duplicateMessage(id: number, after = 1): number | undefined {
    const d = this.inFlight.get(id);
    if (!d) return undefined;
    const copy = this.enqueueDelivery(cloneMessage(d.msg), d.at + Math.max(0, after));
    this.log(`duplicate ${describeMessage(d.msg)} (message ${id} -> ${copy.id})`);
    this.hooks.sent?.(d.msg, [copy]);
    return copy.id;
  }

  private takeInFlight(id: number): Delivery | undefined {
    const d = this.inFlight.get(id);
    if (!d) return undefined;
    d.cancelled = true;
    this.inFlight.delete(id);
    return d;
  }

  /**
   * Makes one node's clock run at `rate` times the others' (2 = ticks twice as often). Raft
   * assumes bounded drift; lease reads in particular rely on it, which is what skew can show.
   */
  setClockRate(id: NodeId, rate: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`a clock rate must be a positive number, got ${rate}`);
    if (rate === 1) this.tickInterval.delete(id);
    else this.tickInterval.set(id, Math.max(1, Math.round(TICK / rate)));
    this.log(`n${id}'s clock runs at ${rate}x`);
  }

  private traceRoles(): void {
    for (const n of this.nodes) {
      const r = n.raft;
      if (!r) continue;
      const desc = `${r.role} term ${r.term}`;
      if (this.roles.get(n.id) !== desc) {
        this.roles.set(n.id, desc);
        this.log(`n${n.id} is ${desc}${r.lead ? ` (leader n${r.lead})` : ''}`);
      }
    }
  }

  /** A one-line state of every node, for liveness failures and the verbose CLI. */
  describeNodes(): string {
    return this.nodes
      .map((n) => {
        if (n.decommissioned) return `n${n.id}: decommissioned`;
        const r = n.raft;
        if (!r) return `n${n.id}: down`;
        const l = r.inspectLog();
        let s = `n${n.id}${n.witness ? '(witness)' : ''}: ${r.role} term ${r.term} lead ${r.lead} log [${l.firstIndex}, ${l.lastIndex}] commit ${l.committed} applied ${l.applied}`;
        if (r.role === Role.Leader) {
          const progress = r.status().progress.filter((p) => p.id !== n.id);
          s += ` progress {${progress.map((p) => `${p.id}: ${p.state} match ${p.match} next ${p.next} inflight ${p.inflight}${p.recentActive ? '' : ' inactive'}`).join('; ')}}`;
        }
        return s;
      })
      .join('; ');
  }
}

export function describeConf(cs: ConfState): string {
  let s = `voters [${cs.voters.join(',')}]`;
  if (cs.votersOutgoing.length) s += ` outgoing [${cs.votersOutgoing.join(',')}]`;
  if (cs.learners.length) s += ` learners [${cs.learners.join(',')}]`;
  if (cs.learnersNext.length) s += ` learnersNext [${cs.learnersNext.join(',')}]`;
  if (cs.witnesses.length) s += ` witnesses [${cs.witnesses.join(',')}]`;
  return s;
}

function stepEvent(ev: SimEvent): StepEvent {
  switch (ev.kind) {
    case 'tick':
    case 'persist':
    case 'restart':
      return { kind: ev.kind, node: ev.id };
    case 'deliver':
      return { kind: 'deliver', message: ev.msg, messageId: ev.id };
    case 'snapshot-status':
    case 'unreachable':
      return { kind: ev.kind, node: ev.id, target: ev.target };
    case 'heal':
      return { kind: 'heal', partition: ev.partition };
    case 'call':
      return { kind: 'call', label: ev.label };
  }
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

/**
 * Each delivery gets its own copy: nodes must never share mutable message or entry objects.
 * Byte arrays are shared: nothing mutates entry data.
 */
function cloneMessage(m: Message): Message {
  const c: Message = { ...m, entries: m.entries.length === 0 ? [] : m.entries.map((e) => ({ ...e })) };
  if (m.snapshot) {
    c.snapshot = { metadata: { ...m.snapshot.metadata, confState: cloneConfState(m.snapshot.metadata.confState) }, data: m.snapshot.data };
  }
  return c;
}
