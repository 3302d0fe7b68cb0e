// Entry points shared by the CLI and the tests: run one seed, or sweep a range of seeds.

import { ChaosDriver } from './driver.js';
import { Figure8Driver } from './figure8.js';
import { lateProposalsSimulation, type LateProposalStats } from './late-proposals.js';
import { healAndCheckLiveness } from './liveness.js';
import { TICK, scenarioFor, type Scenario, type ScenarioRequest } from './scenario.js';
import { Simulation, type EngineStats } from './simulation.js';
import { SimViolation } from './violation.js';
import type { WorkloadStats } from './workload.js';

export interface RunOptions extends ScenarioRequest {
  trace?: (line: string) => void;
}

export interface RunResult {
  scenario: Scenario;
  /** All steps, the final heal's included. */
  steps: number;
  ticks: number;
  commitTicks: number;
  convergeTicks: number;
  stats: EngineStats &
    WorkloadStats &
    Partial<LateProposalStats> & {
      leaderTerms: number;
      committed: number;
    };
}

/** Runs one seed to the end; throws a SimViolation if any invariant breaks. */
export function runSeed(opts: RunOptions): RunResult {
  const scenario = scenarioFor(opts);
  let sim: Simulation | undefined;
  let extra: (() => LateProposalStats) | undefined;
  try {
    if (scenario.profile === 'late-proposals') {
      ({ sim, stats: extra } = lateProposalsSimulation(scenario, { trace: opts.trace }));
    } else {
      sim = new Simulation(scenario, { trace: opts.trace });
      sim.setActor(scenario.profile === 'figure8' ? new Figure8Driver(scenario) : new ChaosDriver(scenario));
    }
    while (sim.step < scenario.steps) sim.stepOnce();
    const live = healAndCheckLiveness(sim);
    return {
      scenario,
      steps: sim.step,
      ticks: Math.ceil(sim.now / TICK),
      commitTicks: live.commitTicks,
      convergeTicks: live.convergeTicks,
      stats: { ...sim.stats, ...sim.workload.stats, ...extra?.(), leaderTerms: sim.checker.leaderTerms, committed: sim.checker.globalCommit },
    };
  } catch (e) {
    if (e instanceof SimViolation) throw e;
    // Outside a step (start-up, the heal's restarts and probes): still a replayable failure.
    const what = e instanceof Error ? (e.stack ?? e.message) : String(e);
    throw new SimViolation('core-error', `unexpected exception: ${what}`, sim?.step ?? 0, scenario.seed, scenario.replay);
  }
}

export interface SweepOptions extends Omit<RunOptions, 'seed' | 'trace'> {
  start: number;
  count: number;
  /** Called after each seed, with its result or its violation. */
  onSeed?: (seed: number, outcome: RunResult | SimViolation) => void;
  /** Stop at the first violation (a mutation search). */
  stopAtFirst?: boolean;
}

export interface SweepSummary {
  runs: number;
  failures: Array<{ seed: number; violation: SimViolation }>;
  totalSteps: number;
  /** How many runs exercised each feature at least once: evidence the sweep covers what it claims. */
  coverage: Record<string, number>;
}

export function sweep(opts: SweepOptions): SweepSummary {
  const summary: SweepSummary = { runs: 0, failures: [], totalSteps: 0, coverage: {} };
  const cover = (key: string, hit: boolean) => {
    summary.coverage[key] = (summary.coverage[key] ?? 0) + (hit ? 1 : 0);
  };
  for (let seed = opts.start; seed < opts.start + opts.count; seed++) {
    summary.runs++;
    let outcome: RunResult | SimViolation;
    try {
      outcome = runSeed({ ...opts, seed });
    } catch (e) {
      if (!(e instanceof SimViolation)) throw e;
      outcome = e;
    }
    opts.onSeed?.(seed, outcome);
    if (outcome instanceof SimViolation) {
      summary.failures.push({ seed, violation: outcome });
      if (opts.stopAtFirst) break;
      continue;
    }
    const st = outcome.stats;
    summary.totalSteps += outcome.steps;
    cover('crash', st.crashes > 0);
    cover('partition', st.partitions > 0);
    cover('snapshot installed', st.snapshotsInstalled > 0);
    cover('snapshot sent past the base', st.snapshotsSentPastBase > 0);
    cover('conf change applied', st.confChangesApplied > 0);
    cover('leadership transfer', st.transfers > 0);
    cover('several leaders', st.leaderTerms > 2);
    cover('write acked', st.writesAcked > 0);
    cover('read served', st.readsServed > 0);
    cover('witness', outcome.scenario.witness);
    cover('learner', outcome.scenario.learners > 0);
    cover('lease reads', outcome.scenario.readMode !== 'safe');
    if (st.commands !== undefined) {
      cover('command re-sent', (st.resends ?? 0) > 0);
      cover('command proposed twice', (st.multiplyProposed ?? 0) > 0);
      cover('copy refused as duplicate', (st.duplicatesRefused ?? 0) > 0);
      cover('copy refused as expired', (st.expiredRefused ?? 0) > 0);
      cover('leader stalled', (st.stalls ?? 0) > 0);
    }
  }
  return summary;
}
