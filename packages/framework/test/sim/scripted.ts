// Helpers for scripted scenarios: a fault-free ("calm") simulation with clients running, to
// which a test adds its own faults. Every invariant is still checked after every step.

import type { ConfChange } from '../../src/core/confchange/types.js';
import type { ConfState, NodeId } from '../../src/core/types.js';
import { ChaosDriver } from '../../src/sim/driver.js';
import { TICK, scenarioFor, type Scenario } from '../../src/sim/scenario.js';
import { Simulation } from '../../src/sim/simulation.js';

export function scripted(name: string, overrides: Partial<Scenario> & { voters: number }, seed = 1, clients = true): Simulation {
  const base = scenarioFor({ seed, steps: 0, nodes: overrides.voters, profile: 'calm' });
  const scenario: Scenario = {
    ...base,
    ...overrides,
    replay: `node scripts/run-tests.mjs sim   (scripted test "${name}", seed ${seed})`,
  };
  const sim = new Simulation(scenario);
  if (clients) sim.setActor(new ChaosDriver(scenario)); // the calm profile: clients only
  return sim;
}

/** Runs until some node leads; returns it. */
export function awaitLeader(sim: Simulation, ticks = 100, accept: (id: NodeId) => boolean = () => true): NodeId {
  let id: NodeId | undefined;
  const ok = sim.runUntil(() => {
    const l = sim.leader();
    if (l && accept(l.id)) id = l.id;
    return id !== undefined;
  }, ticks);
  if (!ok || id === undefined) throw new Error(`no acceptable leader within ${ticks} ticks: ${sim.describeNodes()}`);
  return id;
}

/** The leader's applied configuration. */
export function leaderConf(sim: Simulation): ConfState | undefined {
  return sim.leader()?.raft?.confState();
}

/**
 * Proposes a membership change on whoever leads until `done` holds for the leader's applied
 * configuration (a proposal is refused while another change is pending, or lost with a leader).
 */
export function changeMembership(sim: Simulation, cc: ConfChange, done: (cs: ConfState) => boolean, ticks = 200): void {
  const deadline = sim.now + ticks * TICK;
  let lastTry = -Infinity;
  for (;;) {
    const cs = leaderConf(sim);
    if (cs && done(cs)) return;
    if (sim.now > deadline) throw new Error(`membership change did not apply within ${ticks} ticks: ${sim.describeNodes()}`);
    const leader = sim.leader();
    if (leader && sim.now - lastTry > 5 * TICK) {
      lastTry = sim.now;
      sim.proposeConfChange(leader.id, cc);
    }
    sim.stepOnce();
  }
}
