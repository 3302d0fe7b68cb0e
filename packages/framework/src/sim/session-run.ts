// Runs a session (session.ts) on the simulator: the scenario its seed and driver give, its
// actions taken at their steps, the invariant checker after every step. The CLI's --session, the
// tests and the browser emulator all run sessions through this class, so they agree step for step.

import { ConfChangeTransition, ConfChangeType, type ConfChange } from '../core/confchange/types.js';
import { RaftError } from '../core/errors.js';
import { ChaosDriver } from './driver.js';
import { Figure8Driver } from './figure8.js';
import { scenarioFor, type Scenario } from './scenario.js';
import type { Session, SessionAction, SessionOutcome, NodeChecksum } from './session.js';
import { Simulation, type SimHooks } from './simulation.js';
import { TraceHasher } from './trace-hash.js';
import { SimViolation, violation } from './violation.js';

/** The scenario a session runs: its driver's profile, and for a hands-on session only ReadIndex by default (lease reads are asked per request). */
export function sessionScenario(session: Session): Scenario {
  const profile = session.driver === 'figure8' ? 'figure8' : session.driver === 'chaos' ? 'default' : 'calm';
  const s = scenarioFor({ seed: session.seed, steps: session.steps, nodes: session.nodes, profile, mutation: session.mutation });
  if (profile === 'calm') s.readMode = 'safe';
  s.replay = `npm run sim -- --session <this session's file> (seed ${session.seed}, driver ${session.driver}${session.mutation ? `, mutation ${session.mutation}` : ''})`;
  return s;
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

export function describeAction(a: SessionAction): string {
  const { do: kind, ...rest } = a;
  const args = Object.entries(rest)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return args ? `${kind} ${args}` : kind;
}

export interface SessionRunOptions {
  /** Every trace line, as `npm run sim -- --trace` prints them. */
  trace?: (line: string) => void;
  hooks?: SimHooks;
}

export class SessionRun {
  readonly sim: Simulation;
  readonly scenario: Scenario;
  readonly hasher = new TraceHasher();
  /** The first invariant broken; the run stops there. */
  violation: SimViolation | undefined;
  /** Index of the first action not yet taken. */
  private nextAction = 0;

  constructor(
    readonly session: Session,
    opts: SessionRunOptions = {},
  ) {
    this.scenario = sessionScenario(session);
    const trace = opts.trace;
    this.sim = new Simulation(this.scenario, {
      trace: (line) => {
        this.hasher.add(line);
        trace?.(line);
      },
      hooks: opts.hooks,
    });
    if (session.driver === 'figure8') this.sim.setActor(new Figure8Driver(this.scenario));
    else if (session.driver !== 'none') this.sim.setActor(new ChaosDriver(this.scenario));
  }

  get step(): number {
    return this.sim.step;
  }

  /** Takes the actions due at the current step, then one step; false if the run is over (violation). */
  stepOnce(): boolean {
    if (this.violation) return false;
    this.takeDueActions();
    if (this.violation) return false;
    try {
      this.sim.stepOnce();
    } catch (e) {
      if (!(e instanceof SimViolation)) throw e;
      this.violation = e;
      this.sim.log(`VIOLATION ${e.invariant}: ${e.detail}`);
      return false;
    }
    return true;
  }

  /** Runs until `step` steps were taken (or a violation), then takes the actions due there. */
  runTo(step: number): void {
    while (this.sim.step < step && this.stepOnce());
    if (!this.violation) this.takeDueActions();
  }

  /** The session's actions due now (step ≤ the current step), in order. */
  private takeDueActions(): void {
    const actions = this.session.actions;
    while (this.nextAction < actions.length && actions[this.nextAction]!.step <= this.sim.step) {
      const a = actions[this.nextAction++]!.action;
      try {
        this.take(a);
      } catch (e) {
        const v =
          e instanceof SimViolation
            ? e
            : violation(
                { seed: this.scenario.seed, replay: this.scenario.replay, step: this.sim.step },
                'core-error',
                `unexpected exception taking ${describeAction(a)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
              );
        this.violation = v;
        this.sim.log(`VIOLATION ${v.invariant}: ${v.detail}`);
        return;
      }
    }
  }

  private take(a: SessionAction): void {
    const sim = this.sim;
    sim.log(`action: ${describeAction(a)}`);
    const refuse = (why: string) => sim.log(`action refused: ${why}`);
    const needNode = (id: number): boolean => {
      if (sim.node(id)) return true;
      refuse(`no node n${id}`);
      return false;
    };
    const conf = (leader: number, cc: ConfChange) => {
      if (needNode(leader)) sim.proposeConfChange(leader, cc);
    };
    const single = (type: ConfChangeType, nodeId: number): ConfChange => ({ transition: ConfChangeTransition.Auto, changes: [{ type, nodeId }] });
    switch (a.do) {
      case 'propose':
        if (needNode(a.node)) sim.write(a.node, a.count ?? 1);
        return;
      case 'read':
        if (needNode(a.node) && !sim.read(a.node, { lease: a.lease === true })) refuse(`n${a.node} is down or a witness`);
        return;
      case 'campaign': {
        if (!needNode(a.node)) return;
        const raft = sim.node(a.node)!.raft;
        if (raft) raft.campaign();
        else refuse(`n${a.node} is down`);
        return;
      }
      case 'crash':
        if (needNode(a.node) && !sim.crash(a.node)) refuse(`n${a.node} is already down`);
        return;
      case 'restart':
        if (needNode(a.node) && !sim.restart(a.node)) refuse(`n${a.node} is up or decommissioned`);
        return;
      case 'partition':
        sim.partition(a.groups);
        return;
      case 'one-way':
        sim.oneWay(a.from, a.to);
        return;
      case 'heal':
        sim.healNetwork();
        return;
      case 'drop':
        if (!sim.dropMessage(a.message)) refuse(`message ${a.message} is not on its way`);
        return;
      case 'delay':
        if (!sim.delayMessage(a.message, a.by)) refuse(`message ${a.message} is not on its way`);
        return;
      case 'duplicate':
        if (sim.duplicateMessage(a.message) === undefined) refuse(`message ${a.message} is not on its way`);
        return;
      case 'add-learner':
        if (!sim.node(a.node)) sim.spawn(a.node, false);
        return conf(a.leader, single(ConfChangeType.AddLearner, a.node));
      case 'promote':
        return conf(a.leader, single(ConfChangeType.AddVoter, a.node));
      case 'remove':
        return conf(a.leader, single(ConfChangeType.RemoveNode, a.node));
      case 'joint':
        for (const id of a.add) if (!sim.node(id)) sim.spawn(id, false);
        return conf(a.leader, {
          transition: ConfChangeTransition.JointExplicit,
          changes: [...a.add.map((nodeId) => ({ type: ConfChangeType.AddVoter, nodeId })), ...a.remove.map((nodeId) => ({ type: ConfChangeType.RemoveNode, nodeId }))],
        });
      case 'leave-joint':
        return conf(a.leader, { transition: ConfChangeTransition.Auto, changes: [] });
      case 'transfer':
        if (needNode(a.leader) && needNode(a.to)) {
          try {
            sim.transferLeader(a.leader, a.to);
          } catch (e) {
            if (!(e instanceof RaftError)) throw e;
            refuse(e.message);
          }
        }
        return;
      case 'clock':
        if (needNode(a.node)) sim.setClockRate(a.node, a.rate);
        return;
      case 'compact':
        if (needNode(a.node) && !sim.snapshot(a.node, 0)) refuse(`n${a.node} is down, busy, or has nothing new to snapshot`);
        return;
    }
  }

  /** Every node's applied index and history checksums, in id order. */
  checksums(): NodeChecksum[] {
    return this.sim.nodes.map((n) => ({ id: n.id, applied: n.app.index, termChecksum: hex(n.app.termChecksum), dataChecksum: hex(n.app.dataChecksum) }));
  }

  outcome(): SessionOutcome {
    const out: SessionOutcome = { traceHash: this.hasher.hex, traceLines: this.hasher.lines, checksums: this.checksums() };
    if (this.violation) out.violation = `${this.violation.invariant} at step ${this.violation.step}`;
    return out;
  }
}

/** Runs a whole session and returns what it produced. */
export function runSession(session: Session, opts: SessionRunOptions = {}): SessionOutcome {
  const run = new SessionRun(session, opts);
  run.runTo(session.steps);
  return run.outcome();
}
