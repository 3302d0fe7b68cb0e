// The request path in front of the Raft core, for the late-proposals scenario: what a server's
// HTTP layer does with a client command that has no session. It keeps, on purpose, the
// behaviours that once applied a command twice, so that only the request table stands between
// them and a duplicate:
//  - the first node to receive a command gives it a request key (origin = node and incarnation,
//    from one RequestKeyAllocator per incarnation) and forwards it to the node it believes
//    leads, over a simulated connection that may lose, duplicate or delay it past a stall, a
//    crash or a change of leader;
//  - the receiver proposes it if it leads (stamping its own clock), else answers 421;
//  - a leader answers when its copy applies, or 'unknown' after a server timeout (a 504);
//  - the origin re-sends after its own timeout or an 'unknown' answer, that is, whenever the
//    outcome is unknown (the bug), possibly to a new leader, up to maxSends times;
//  - a leader that just proposed a forwarded command may stall (a SIGSTOP: modelled as a cut
//    that holds its front-end traffic, delivered when it resumes), with its entry on some
//    followers only, so a new leader may commit that copy as well as a re-sent one.
// The origin releases a key once answered or given up; a crash forgets everything pending.

import { NotLeaderError, RaftError } from '../core/errors.js';
import { Role, type Entry, type NodeId } from '../core/types.js';
import { RequestKeyAllocator, formatRequestKey, type RequestKey, type RequestVerdict } from '../rsm/request-table.js';
import type { Prng } from './prng.js';
import type { RequestLedger } from './request-ledger.js';
import { encodeCommand, type CommandPayload } from './request-payload.js';
import { TICK } from './scenario.js';
import type { SimNode } from './sim-node.js';
import type { Simulation } from './simulation.js';

/** Times are virtual time units (TICK per node tick). */
export interface FrontEndConfig {
  /** Delay of one front-end message between nodes: [min, max]. */
  delay: [number, number];
  /** Share of messages delivered late, after lateDelay: a congested or half-dead connection. */
  lateRate: number;
  lateDelay: [number, number];
  lossRate: number;
  dupRate: number;
  /** The origin stops waiting for an answer after this long and (the bug) sends again. */
  forwardTimeout: number;
  /** Sends per command at most, re-sends and redirects included; then the origin gives up. */
  maxSends: number;
  /** A leader answers 'unknown' if its copy has not applied within this. */
  serverTimeout: number;
  /** Chance that a leader stalls right after proposing a forwarded command. */
  stallRate: number;
  stallTicks: [number, number];
  /** The most time between two driver turns, where timeouts are noticed. */
  turnGap: number;
}

/**
 * The longest a copy can take from its command's arrival to a leader's proposal of it: every
 * send but the last waits out a timeout (noticed a turn late), and the last is held by a stall
 * at each end (once each) and delivered late. Because proposal timestamps never decrease along
 * a Raft log, the request table's clock cannot pass a copy's own timestamp before applying it,
 * so a TTL above this bound never expires an origin's window while a copy of it is still to come.
 */
export function copyLagBound(c: FrontEndConfig): number {
  return c.maxSends * (c.forwardTimeout + c.turnGap) + 2 * c.stallTicks[1] * TICK + Math.max(c.delay[1], c.lateDelay[1]);
}

export interface FrontEndStats {
  commands: number;
  /** Forwards and local proposals started by origins. */
  sends: number;
  /** Sends made although an earlier one's outcome was unknown (timeout or 504). */
  resends: number;
  /** Sends after a definite refusal (421, a dropped or overwritten proposal, no leader). */
  redirects: number;
  /** Copies leaders appended to their logs. */
  proposals: number;
  /** Commands proposed more than once. */
  multiplyProposed: number;
  stalls: number;
  lateDeliveries: number;
  duplicatedMessages: number;
  lostMessages: number;
  answered: number;
  gaveUp: number;
  /** Commands whose origin crashed while waiting: their key died with the incarnation. */
  orphaned: number;
}

interface Command {
  id: number;
  issuedAt: number;
  origin: NodeId;
  incarnation: number;
  key: RequestKey;
  release: () => void;
  sends: number;
  deadline: number;
  /** A send is out: the outcome is unknown until an answer (false while no leader is known). */
  inFlight: boolean;
}

/** What one send carries: a copy of the command, so a late copy outlives the origin's wait. */
interface Forward {
  command: number;
  /** When the command arrived at its origin. */
  issuedAt: number;
  key: RequestKey;
  origin: NodeId;
  send: number;
}

type Answer = { kind: 'ok'; index: number } | { kind: 'refused' } | { kind: 'not-leader'; hint: NodeId } | { kind: 'lost' } | { kind: 'unknown' };

/** A copy a leader appended and answers for once it applies (or its server timeout passes). */
interface Serving {
  fwd: Forward;
  data: Uint8Array;
  incarnation: number;
  at: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class FrontEnd {
  readonly stats: FrontEndStats = {
    commands: 0,
    sends: 0,
    resends: 0,
    redirects: 0,
    proposals: 0,
    multiplyProposed: 0,
    stalls: 0,
    lateDeliveries: 0,
    duplicatedMessages: 0,
    lostMessages: 0,
    answered: 0,
    gaveUp: 0,
    orphaned: 0,
  };
  private nextCommand = 1;
  /** One allocator per origin incarnation, by origin name. */
  private readonly allocators = new Map<string, RequestKeyAllocator>();
  /** Commands whose origin still waits, in arrival order. */
  private readonly waiting = new Map<number, Command>();
  private readonly proposedTimes = new Map<number, number>();
  private readonly serving = new Map<NodeId, Map<number, Serving>>();
  private readonly stalledUntil = new Map<NodeId, number>();

  constructor(
    private readonly sim: Simulation,
    private readonly rng: Prng,
    private readonly cfg: FrontEndConfig,
    private readonly ledger: RequestLedger,
  ) {}

  /** A client command arrives at node `n`, which becomes its origin. */
  command(n: SimNode): void {
    if (!n.raft) return;
    const origin = `n${n.id}.${n.incarnation}`;
    let alloc = this.allocators.get(origin);
    if (!alloc) this.allocators.set(origin, (alloc = new RequestKeyAllocator(origin)));
    const { key, release } = alloc.allocate();
    const cmd: Command = { id: this.nextCommand++, issuedAt: this.sim.now, origin: n.id, incarnation: n.incarnation, key, release, sends: 0, deadline: 0, inFlight: false };
    this.waiting.set(cmd.id, cmd);
    this.ledger.issued(cmd.id, key);
    this.stats.commands++;
    this.sim.log(`client command c${cmd.id} arrives at n${n.id}: request ${formatRequestKey(key)}`);
    this.send(cmd);
  }

  /** Each driver turn: origin timeouts (re-sends, give-ups) and leader timeouts (504s). */
  turn(): void {
    const now = this.sim.now;
    for (const cmd of [...this.waiting.values()]) {
      if (now < cmd.deadline) continue;
      this.send(cmd, cmd.inFlight ? 'unknown' : 'refused');
    }
    for (const [id, byIndex] of this.serving) {
      const n = this.sim.node(id);
      for (const [index, rec] of [...byIndex]) {
        if (!n?.raft || rec.incarnation !== n.incarnation) byIndex.delete(index);
        else if (now - rec.at > this.cfg.serverTimeout) {
          byIndex.delete(index);
          this.answer(n, rec.fwd, { kind: 'unknown' });
        }
      }
    }
  }

  /** Every data node's request app calls this for each applied command entry. */
  applied(n: SimNode, e: Entry, _payload: CommandPayload, verdict: RequestVerdict): void {
    const byIndex = this.serving.get(n.id);
    const rec = byIndex?.get(e.index);
    if (!rec || !byIndex) return;
    byIndex.delete(e.index);
    if (rec.incarnation !== n.incarnation) return; // a previous life's promise: that process is gone
    // Another entry took the index: this copy is not in the log (nor will be), a definite failure.
    if (!sameBytes(rec.data, e.data)) return this.answer(n, rec.fwd, { kind: 'lost' });
    if (verdict.kind === 'expired') return this.answer(n, rec.fwd, { kind: 'refused' });
    this.answer(n, rec.fwd, { kind: 'ok', index: verdict.kind === 'duplicate' ? verdict.index : e.index });
  }

  // ---- the origin ----------------------------------------------------------------------

  /** `why` a send follows the previous one: an unknown outcome re-sends (the bug), a refusal redirects. */
  private send(cmd: Command, why?: 'unknown' | 'refused', hint?: NodeId): void {
    const o = this.sim.node(cmd.origin);
    if (!o?.raft || o.incarnation !== cmd.incarnation) {
      // The origin crashed: its client saw the connection drop, nobody waits any more.
      this.waiting.delete(cmd.id);
      this.stats.orphaned++;
      return;
    }
    // The final heal stops writers (liveness.ts bounds the backlog it starts with): give up.
    if (cmd.sends >= this.cfg.maxSends || this.sim.phase !== 'chaos') return this.finish(cmd, 'gaveUp');
    cmd.sends++;
    const target = o.raft.role === Role.Leader ? o.id : hint || o.raft.lead;
    if (!target) {
      // No leader known: a 503 before anything is sent; try again a little later.
      cmd.inFlight = false;
      cmd.deadline = this.sim.now + this.cfg.forwardTimeout / 2;
      return;
    }
    cmd.inFlight = true;
    cmd.deadline = this.sim.now + this.cfg.forwardTimeout;
    this.stats.sends++;
    if (why === 'unknown') this.stats.resends++;
    else if (why === 'refused') this.stats.redirects++;
    const fwd: Forward = { command: cmd.id, issuedAt: cmd.issuedAt, key: cmd.key, origin: o.id, send: cmd.sends };
    this.transmit(o.id, target, `c${cmd.id} send ${cmd.sends} n${o.id}->n${target}`, () => this.serve(target, fwd));
  }

  private answered(fwd: Forward, a: Answer): void {
    const cmd = this.waiting.get(fwd.command);
    if (!cmd) return;
    const o = this.sim.node(cmd.origin);
    if (!o?.raft || o.incarnation !== cmd.incarnation) {
      // The origin restarted since it sent: the answer finds nobody waiting.
      this.waiting.delete(cmd.id);
      this.stats.orphaned++;
      return;
    }
    if (a.kind === 'ok' || a.kind === 'refused') return this.finish(cmd, 'answered');
    if (fwd.send !== cmd.sends) return; // an earlier send's failure: a later send is out
    this.send(cmd, a.kind === 'unknown' ? 'unknown' : 'refused', a.kind === 'not-leader' ? a.hint : undefined);
  }

  private finish(cmd: Command, how: 'answered' | 'gaveUp'): void {
    this.waiting.delete(cmd.id);
    cmd.release();
    this.ledger.release(cmd.id);
    this.stats[how]++;
    this.sim.log(`c${cmd.id} ${how === 'answered' ? 'answered' : 'given up'} at n${cmd.origin}`);
  }

  // ---- the receiving node --------------------------------------------------------------

  private serve(to: NodeId, fwd: Forward): void {
    const t = this.sim.node(to);
    const raft = t?.raft;
    if (!t || !raft) return; // connection refused: the origin's timeout decides
    if (raft.role !== Role.Leader) return this.answer(t, fwd, { kind: 'not-leader', hint: raft.lead });
    // A copy arriving in the final heal is refused before proposing (a 503): writers have stopped.
    if (this.sim.phase !== 'chaos') return this.answer(t, fwd, { kind: 'lost' });
    // The request table's TTL is sized by this bound: a copy beyond it is a bug of this model.
    if (this.sim.now - fwd.issuedAt > copyLagBound(this.cfg)) throw new Error(`front end: a copy of c${fwd.command} outlived copyLagBound`);
    const data = encodeCommand({ command: fwd.command, key: fwd.key, timestamp: this.sim.now });
    let index: number;
    try {
      index = raft.propose(data);
    } catch (e) {
      if (e instanceof NotLeaderError) return this.answer(t, fwd, { kind: 'not-leader', hint: e.leader });
      if (e instanceof RaftError && e.code === 'proposal_dropped') return this.answer(t, fwd, { kind: 'lost' });
      throw e;
    }
    this.stats.proposals++;
    const times = (this.proposedTimes.get(fwd.command) ?? 0) + 1;
    this.proposedTimes.set(fwd.command, times);
    if (times === 2) this.stats.multiplyProposed++;
    let byIndex = this.serving.get(to);
    if (!byIndex) this.serving.set(to, (byIndex = new Map()));
    // Appending at an index drops whatever this log held there: that copy is gone for good.
    const old = byIndex.get(index);
    if (old && old.incarnation === t.incarnation) this.answer(t, old.fwd, { kind: 'lost' });
    byIndex.set(index, { fwd, data, incarnation: t.incarnation, at: this.sim.now });
    this.sim.log(`n${to} proposes c${fwd.command} (send ${fwd.send}) at ${index}`);
    if (this.sim.phase === 'chaos' && this.rng.chance(this.cfg.stallRate)) {
      const inc = t.incarnation;
      this.sim.at(this.rng.range(0, this.cfg.delay[1]), `n${to} may stall`, () => this.stall(to, inc));
    }
  }

  private answer(from: SimNode, fwd: Forward, a: Answer): void {
    this.transmit(from.id, fwd.origin, `answer c${fwd.command} send ${fwd.send} n${from.id}->n${fwd.origin}: ${a.kind}`, () => this.answered(fwd, a));
  }

  /** A SIGSTOP: the node is cut off; front-end messages to or from it wait until it resumes. */
  private stall(id: NodeId, incarnation: number): void {
    const sim = this.sim;
    const n = sim.node(id);
    if (!n?.raft || n.incarnation !== incarnation || sim.phase !== 'chaos') return;
    if (this.heldUntil(id, id) > sim.now || sim.network.activePartitions >= 2) return;
    const others = sim.nodes.filter((o) => o.id !== id && !o.decommissioned).map((o) => o.id);
    if (others.length === 0) return;
    const ticks = this.rng.range(this.cfg.stallTicks[0], this.cfg.stallTicks[1]);
    sim.log(`n${id} stalls for ${ticks} ticks`);
    sim.partition([[id], others], ticks);
    this.stalledUntil.set(id, sim.now + ticks * TICK);
    this.stats.stalls++;
  }

  // ---- the connections -----------------------------------------------------------------

  /** When a stall of either end ends (0 if neither is stalled); the final heal ends them all. */
  private heldUntil(from: NodeId, to: NodeId): number {
    if (this.sim.phase !== 'chaos') return 0;
    return Math.max(this.stalledUntil.get(from) ?? 0, this.stalledUntil.get(to) ?? 0);
  }

  private transmit(from: NodeId, to: NodeId, label: string, deliver: () => void): void {
    if (from === to) return deliver(); // the origin leads: no hop
    const sim = this.sim;
    const hold = this.heldUntil(from, to);
    if (hold > sim.now) return sim.at(hold - sim.now, `${label} (sent after a stall)`, () => this.send1(from, to, label, deliver));
    this.send1(from, to, label, deliver);
  }

  /** One message's fate once it leaves: lost, or delivered (maybe twice, maybe late). */
  private send1(from: NodeId, to: NodeId, label: string, deliver: () => void): void {
    const sim = this.sim;
    if (sim.network.isCut(from, to) || (this.cfg.lossRate > 0 && this.rng.chance(this.cfg.lossRate))) {
      this.stats.lostMessages++;
      sim.log(`${label}: lost`);
      return;
    }
    const copies = this.cfg.dupRate > 0 && this.rng.chance(this.cfg.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const late = this.rng.chance(this.cfg.lateRate);
      const [lo, hi] = late ? this.cfg.lateDelay : this.cfg.delay;
      if (late) this.stats.lateDeliveries++;
      if (c > 0) this.stats.duplicatedMessages++;
      sim.at(this.rng.range(lo, hi), `${label}${late ? ' (late)' : ''}${c > 0 ? ' (duplicate)' : ''}`, () => this.arrive(from, to, label, deliver));
    }
  }

  /** Held at most once on arrival, so that copyLagBound holds whatever stalls follow. */
  private arrive(from: NodeId, to: NodeId, label: string, deliver: () => void, held = false): void {
    const sim = this.sim;
    const hold = held ? 0 : this.heldUntil(from, to);
    if (hold > sim.now) return sim.at(hold - sim.now, `${label} (delivered after a stall)`, () => this.arrive(from, to, label, deliver, true));
    if (sim.network.isCut(from, to)) {
      this.stats.lostMessages++; // the connection broke on the way
      return;
    }
    deliver();
  }
}
