// The "late and re-sent proposals" scenario (profile 'late-proposals'): the chaos driver's
// faults, with client writes replaced by commands that travel the front end's request path
// (front-end.ts), where forwards are late, duplicated and re-sent whenever their outcome is
// unknown. Every data node runs the request table beside the checksums (request-app.ts) and the
// ledger (request-ledger.ts) checks after each applied entry that no command applies twice.
// The front end's settings are drawn from the seed, so `--seed S --profile late-proposals`
// replays a run exactly.

import { ChaosDriver } from './driver.js';
import { FrontEnd, copyLagBound, type FrontEndConfig, type FrontEndStats } from './front-end.js';
import { Prng } from './prng.js';
import { RequestApp } from './request-app.js';
import { RequestLedger, type LedgerStats } from './request-ledger.js';
import { TICK, type Scenario } from './scenario.js';
import { Simulation, type Actor } from './simulation.js';

export type LateProposalStats = FrontEndStats & LedgerStats;

export interface LateProposalsSettings {
  frontEnd: FrontEndConfig;
  /** The request table's time-to-live for an idle origin. */
  ttl: number;
}

export function lateProposalsSettings(s: Scenario): LateProposalsSettings {
  const rng = Prng.derive(s.seed, 'late-proposals/settings');
  const election = s.electionTick * TICK;
  const frontEnd: FrontEndConfig = {
    delay: [s.minDelay, s.maxDelay],
    lateRate: rng.pick([0.02, 0.05, 0.1]),
    lateDelay: [election, rng.pick([2, 4]) * election],
    lossRate: rng.pick([0, 0.02, 0.05]),
    dupRate: rng.pick([0.01, 0.03, 0.08]),
    // As short as a busy commit takes: the timeout often fires on a copy that will commit.
    forwardTimeout: rng.pick([1, 2, 3]) * election,
    maxSends: rng.range(2, 5),
    serverTimeout: rng.pick([1, 2, 4]) * election,
    stallRate: rng.pick([0.02, 0.05, 0.1]),
    stallTicks: [2, rng.pick([2, 4]) * s.electionTick],
    turnGap: s.driverGap[1],
  };
  // The table promises at most once while an origin's window lives: twice the longest a copy can
  // lag (see copyLagBound) is safe, and short enough that runs expire idle windows (those of
  // crashed incarnations, say), so expiry and its snapshot order get exercised too.
  return { frontEnd, ttl: 2 * copyLagBound(frontEnd) };
}

/** The chaos driver, whose client writes become commands arriving at any node (not only the leader). */
class LateProposalsDriver implements Actor {
  private readonly rng: Prng;
  private readonly chaos: ChaosDriver;

  constructor(
    scenario: Scenario,
    private readonly frontEnd: FrontEnd,
  ) {
    this.rng = Prng.derive(scenario.seed, 'late-proposals/driver');
    this.chaos = new ChaosDriver(scenario, (sim) => this.commands(sim));
  }

  gap(): number {
    return this.chaos.gap();
  }

  act(sim: Simulation): void {
    this.frontEnd.turn();
    this.chaos.act(sim);
  }

  private commands(sim: Simulation): void {
    const up = sim.nodes.filter((n) => n.up);
    if (up.length === 0) return;
    const n = this.rng.pick(up);
    const count = this.rng.chance(0.2) ? this.rng.range(2, 3) : 1;
    for (let i = 0; i < count; i++) this.frontEnd.command(n);
  }
}

export interface LateProposalsOptions {
  trace?: (line: string) => void;
  /** false: the control, whose nodes apply every copy (see RequestAppOptions.dedupe). */
  dedupe?: boolean;
}

/** A simulation of the scenario, driver set; run it like any other (see runSeed). */
export function lateProposalsSimulation(scenario: Scenario, options: LateProposalsOptions = {}): { sim: Simulation; stats: () => LateProposalStats } {
  const settings = lateProposalsSettings(scenario);
  const ledger = new RequestLedger((invariant, detail) => sim.checker.fail(invariant, detail));
  const appOptions = { ttl: settings.ttl, dedupe: options.dedupe ?? true };
  const sim: Simulation = new Simulation(scenario, {
    trace: options.trace,
    app: (n) => new RequestApp(n, appOptions, ledger, (node, e, payload, verdict) => frontEnd.applied(node, e, payload, verdict)),
  });
  const frontEnd = new FrontEnd(sim, Prng.derive(scenario.seed, 'late-proposals/front-end'), settings.frontEnd, ledger);
  sim.setActor(new LateProposalsDriver(scenario, frontEnd));
  return { sim, stats: () => ({ ...frontEnd.stats, ...ledger.stats }) };
}
