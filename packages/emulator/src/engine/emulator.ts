// The emulator's engine: a session (seed + actions) run on the real core inside the simulator,
// one step at a time, with every step's frame kept so that the page can show any earlier event.
// Going back re-runs the session from the seed to that step: the run is deterministic, so this
// reproduces the state exactly and needs no copy of the core's internals. A new action taken at
// an earlier step forks the timeline: the actions after it are dropped.

import {
  MAX_SESSION_NODE,
  SESSION_FORMAT,
  SessionError,
  SessionRun,
  TICK,
  describeAction,
  parseAction,
  parseSession,
  type InFlightMessage,
  type Session,
  type SessionAction,
  type SessionOutcome,
  type StepEvent,
  describeMessage,
} from '@raftkit/framework/sim';
import { breakpointHit, type Breakpoint } from './breakpoints.js';
import { EmulatorError } from './errors.js';
import { captureNodes, sameView, type Frame } from './frame.js';
import { MessageLog, type MessageRecord } from './messages.js';

/** Steps one session may run in the page: frames for all of them are kept in memory. */
export const MAX_STEPS = 50_000;

export interface RunResult {
  /** Steps taken. */
  steps: number;
  /** Why the run stopped at a breakpoint (or at a broken invariant). */
  hit?: string;
}

function describeEvent(e: StepEvent): string {
  switch (e.kind) {
    case 'tick':
      return `tick n${e.node}`;
    case 'persist':
      return `n${e.node} persisted its Ready (fsync done): sends, applies`;
    case 'restart':
      return `restart n${e.node}`;
    case 'deliver':
      return `deliver #${e.messageId} ${describeMessage(e.message)}`;
    case 'snapshot-status':
      return `n${e.node} learns how its snapshot to n${e.target} went`;
    case 'unreachable':
      return `n${e.node}'s transport reports n${e.target} unreachable`;
    case 'heal':
      return `partition ${e.partition} heals`;
    case 'call':
      return e.label === 'driver' ? 'driver turn' : e.label;
  }
}

export function newSession(seed: number, nodes: 3 | 5 = 3, driver: Session['driver'] = 'none'): Session {
  return { format: SESSION_FORMAT, seed: seed >>> 0, nodes, driver, actions: [], steps: 0 };
}

export class Emulator {
  /** The timeline: the session's settings and every action, including those after the current step. */
  private readonly timeline: Session;
  private run!: SessionRun;
  private log!: MessageLog;
  private frameList: Frame[] = [];
  private pendingLines: string[] = [];
  private currentEvent = '';
  /** False while re-running steps whose frames are kept (see rebuild). */
  private capturing = true;
  /** The furthest step this timeline has reached. */
  horizon = 0;
  breakpoints: Breakpoint[] = [];
  /** The first applied-history checksum seen at each index, to flag a node that diverges. */
  private history = new Map<number, string>();

  /** Runs the session to its last step, or to `at` (its later actions stay in the timeline). */
  constructor(session: Session, opts: { at?: number } = {}) {
    const s = parseSession(session);
    if (s.steps > MAX_STEPS) throw new EmulatorError('too_long', `a session of ${s.steps} steps is more than the page keeps (${MAX_STEPS})`);
    delete s.expect;
    this.timeline = s;
    this.rebuild();
    this.goto(opts.at ?? s.steps);
    this.horizon = Math.max(this.horizon, s.steps);
  }

  get session(): Readonly<Session> {
    return this.timeline;
  }

  get position(): number {
    return this.run.step;
  }

  get frames(): readonly Frame[] {
    return this.frameList;
  }

  get frame(): Frame {
    return this.frameList[this.frameList.length - 1]!;
  }

  get halted(): boolean {
    return this.run.violation !== undefined;
  }

  get messages(): MessageLog {
    return this.log;
  }

  /** The node that leads in the highest term now, if any. */
  get leader(): number | undefined {
    return this.run.sim.leader()?.id;
  }

  inFlight(): Array<InFlightMessage & { label: string }> {
    return this.run.sim.inFlightMessages().map((m) => ({ ...m, label: describeMessage(m.message) }));
  }

  /** The outcome (trace hash, checksums) of the run up to the current step. */
  outcome(): SessionOutcome {
    return this.run.outcome();
  }

  /**
   * Starts the session again from its seed. With `keep`, runs it to that step without capturing:
   * the run is deterministic, so the frames 0..keep already taken are what capturing would give
   * again, and only the core, the simulator and the message records need re-running.
   */
  private rebuild(keep?: number): void {
    const kept = keep === undefined ? [] : this.frameList.slice(0, keep + 1);
    this.frameList = [];
    this.pendingLines = [];
    this.history = new Map();
    this.capturing = kept.length === 0;
    this.log = new MessageLog(() => ({ step: this.run.step, time: this.run.sim.now / TICK }));
    this.run = new SessionRun(this.timeline, {
      trace: (line) => {
        if (this.capturing) this.pendingLines.push(line);
      },
      hooks: { ...this.log.hooks, event: (e) => (this.currentEvent = describeEvent(e)) },
    });
    this.run.runTo(0);
    if (kept.length === 0) {
      this.frameList.push(this.capture('initial state'));
      return;
    }
    const target = kept.length - 1;
    while (this.run.step < target && this.run.stepOnce()) this.run.runTo(this.run.step);
    this.capturing = true;
    this.frameList = kept;
    for (const f of kept) this.learnHistory(f);
  }

  private clockRates(): Map<number, number> {
    const rates = new Map<number, number>();
    for (const t of this.timeline.actions) {
      if (t.step > this.run.step) break;
      if (t.action.do === 'clock') rates.set(t.action.node, t.action.rate);
    }
    return rates;
  }

  private capture(event: string): Frame {
    const step = this.run.step;
    // A node that did not change in this step shares its view with the frame before: long runs stay small.
    const before = this.frameList[this.frameList.length - 1];
    const nodes = captureNodes(this.run, this.clockRates()).map((n, i) => {
      const p = before?.nodes[i];
      return p && sameView(p, n) ? p : n;
    });
    const f: Frame = {
      step,
      time: this.run.sim.now / TICK,
      event,
      actions: this.timeline.actions.filter((t) => t.step === step).map((t) => describeAction(t.action)),
      nodes,
      lines: this.pendingLines,
      divergent: [],
    };
    this.pendingLines = [];
    f.divergent = this.learnHistory(f);
    const v = this.run.violation;
    if (v && v.step === step) f.violation = `${v.invariant}: ${v.detail}`;
    return f;
  }

  /** Records the applied-history checksums the frame shows; the nodes that disagree with one seen before at the same index. */
  private learnHistory(f: Frame): number[] {
    const divergent: number[] = [];
    for (const n of f.nodes) {
      if (n.witness || n.historyIndex === 0) continue;
      const known = this.history.get(n.historyIndex);
      if (known === undefined) this.history.set(n.historyIndex, n.dataChecksum);
      else if (known !== n.dataChecksum) divergent.push(n.id);
    }
    return divergent;
  }

  /** One step (and the actions recorded at the step it reaches); the new frame. */
  stepForward(): Frame {
    if (this.halted) throw new EmulatorError('halted', `the run stopped at a broken invariant at step ${this.position}: step back to continue`);
    if (this.position >= MAX_STEPS) throw new EmulatorError('too_long', `the page keeps at most ${MAX_STEPS} steps`);
    const before = this.run.step;
    this.run.stepOnce();
    if (this.run.step === before) {
      // An action broke an invariant before the step: the frame at this step shows it.
      this.frameList[before] = this.capture(this.frameList[before]!.event);
      return this.frame;
    }
    if (!this.halted) this.run.runTo(this.run.step);
    this.frameList.push(this.capture(this.currentEvent));
    if (this.position > this.horizon) this.horizon = this.position;
    return this.frame;
  }

  /** One step back: the session re-run from its seed to the step before. */
  stepBack(): void {
    if (this.position === 0) throw new EmulatorError('bad_step', 'already at the initial state');
    this.goto(this.position - 1);
  }

  /** Goes to any step: back by re-running from the seed, forward by running (with the timeline's actions). */
  goto(step: number): void {
    if (!Number.isInteger(step) || step < 0 || step > MAX_STEPS) throw new EmulatorError('bad_step', `a step must be an integer in [0, ${MAX_STEPS}], got ${step}`);
    if (step < this.position) this.rebuild(step);
    while (this.position < step && !this.halted) this.stepForward();
  }

  /** Steps until a breakpoint hits, the run halts, or `limit` steps were taken. */
  runUntilBreakpoint(limit: number): RunResult {
    let steps = 0;
    while (steps < limit && !this.halted && this.position < MAX_STEPS) {
      this.stepForward();
      steps++;
      const hit = this.checkBreakpoints();
      if (hit) return { steps, hit };
    }
    return this.halted ? { steps, hit: `invariant broken: ${this.frame.violation ?? ''}` } : { steps };
  }

  /** Why the current step hits a breakpoint, if it does. */
  checkBreakpoints(): string | undefined {
    const p = this.position;
    if (p === 0 || this.breakpoints.length === 0) return undefined;
    const prev = this.frameList[p - 1]!;
    const cur = this.frameList[p]!;
    const sent = this.log.between(p, p);
    for (const b of this.breakpoints) {
      const why = breakpointHit(b, prev, cur, sent);
      if (why) return why;
    }
    return undefined;
  }

  /**
   * Takes an action now. Earlier in the timeline than its end, this forks: the actions recorded
   * after the current step are dropped (returned count). Refuses, changing nothing, an action
   * that does not fit the cluster as it is.
   */
  act(input: SessionAction): { dropped: number } {
    if (this.halted) throw new EmulatorError('halted', 'the run stopped at a broken invariant: step back before acting');
    let action: SessionAction;
    try {
      action = parseAction(input);
    } catch (e) {
      if (e instanceof SessionError) throw new EmulatorError('bad_action', e.message);
      throw e;
    }
    this.checkFits(action);
    const p = this.position;
    const actions = this.timeline.actions;
    const cut = actions.findIndex((t) => t.step > p);
    const dropped = cut < 0 ? 0 : actions.length - cut;
    if (cut >= 0) actions.splice(cut);
    actions.push({ step: p, action });
    this.horizon = p;
    this.timeline.steps = p;
    this.run.runTo(p);
    const prevFrame = this.frameList[p]!;
    const again = this.capture(prevFrame.event);
    again.lines = [...prevFrame.lines, ...again.lines];
    this.frameList[p] = again;
    return { dropped };
  }

  private checkFits(a: SessionAction): void {
    const sim = this.run.sim;
    const bad = (why: string): never => {
      throw new EmulatorError('bad_action', why);
    };
    const exists = (id: number) => sim.node(id) !== undefined || bad(`there is no node n${id}`);
    const up = (id: number) => {
      exists(id);
      if (!sim.node(id)!.up) bad(`n${id} is down`);
    };
    switch (a.do) {
      case 'propose':
      case 'read':
      case 'campaign':
      case 'compact':
      case 'crash':
        return up(a.node);
      case 'restart':
        exists(a.node);
        if (sim.node(a.node)!.up) bad(`n${a.node} is already up`);
        return;
      case 'clock':
        return void exists(a.node);
      case 'partition':
        return a.groups.flat().forEach(exists);
      case 'one-way':
        return [...a.from, ...a.to].forEach(exists);
      case 'heal':
        return;
      case 'drop':
      case 'delay':
      case 'duplicate':
        if (!sim.inFlightMessages().some((m) => m.id === a.message)) bad(`message #${a.message} is not on its way`);
        return;
      case 'add-learner':
        up(a.leader);
        if (a.node > MAX_SESSION_NODE) bad(`node ids go up to ${MAX_SESSION_NODE}`);
        return;
      case 'promote':
      case 'remove':
        up(a.leader);
        return void exists(a.node);
      case 'joint':
        up(a.leader);
        return a.remove.forEach(exists);
      case 'leave-joint':
        return up(a.leader);
      case 'transfer':
        up(a.leader);
        return void exists(a.to);
    }
  }

  /** The session up to the current step, with what it produced: replays in `npm run sim -- --session`. */
  exportSession(): Session {
    const p = this.position;
    const s: Session = {
      format: SESSION_FORMAT,
      seed: this.timeline.seed,
      nodes: this.timeline.nodes,
      driver: this.timeline.driver,
      actions: this.timeline.actions.filter((t) => t.step <= p).map((t) => ({ step: t.step, action: { ...t.action } })),
      steps: p,
      expect: this.outcome(),
    };
    if (this.timeline.mutation) s.mutation = this.timeline.mutation;
    return s;
  }

  /** Message records sent in steps [from, to]. */
  messagesBetween(from: number, to: number): MessageRecord[] {
    return this.log.between(from, to);
  }
}
