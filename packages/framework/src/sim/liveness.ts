// The final phase of every run: heal every partition, make the network reliable (no loss,
// per-link FIFO, as a healthy TCP connection is; delays and duplicates stay), restart every node
// that is down, stop the writers, and then demand progress within fixed bounds:
//  1. a leader is elected and a proposal made on it is committed and applied there within
//     scenario.livenessBoundTicks, plus time to replicate the backlog of uncommitted entries
//     it may have to push first (one round trip per entry at worst);
//  2. every member of the leader's configuration then applies that proposal too, within the
//     same base bound plus a round trip per entry it lags behind (so no follower stays stuck,
//     in a snapshot that never completes, say).

import { confStateMembers } from '../core/conf-state.js';
import { ProgressState } from '../core/types.js';
import { TICK } from './scenario.js';
import type { Simulation } from './simulation.js';

export interface LivenessResult {
  /** Ticks from the heal to the first committed proposal. */
  commitTicks: number;
  /** Ticks from the heal until every member applied it. */
  convergeTicks: number;
}

/**
 * Names a stall pattern in a liveness failure: followers whose replication window is full of
 * Appends that were lost, with nothing left to free it, so the leader never sends them again.
 */
export const STALLED_WINDOW = 'replicate window full';

function diagnose(sim: Simulation): string {
  const leader = sim.leader();
  const raft = leader?.raft;
  if (!raft) return '';
  const last = raft.inspectLog().lastIndex;
  const stalled = raft.status().progress.filter((p) => p.id !== leader.id && p.state === ProgressState.Replicate && p.inflight >= sim.scenario.maxInflightMsgs && p.match < last);
  if (stalled.length === 0) return '';
  return ` Diagnosis: ${STALLED_WINDOW} for ${stalled.map((p) => `n${p.id}`).join(', ')} (inflight ${sim.scenario.maxInflightMsgs} of ${sim.scenario.maxInflightMsgs}): its Appends were lost and the leader sends it nothing more.`;
}

export function healAndCheckLiveness(sim: Simulation): LivenessResult {
  const s = sim.scenario;
  sim.phase = 'heal';
  sim.healNetwork();
  sim.network.conditions.lossRate = 0;
  sim.network.clearLinkLoss();
  sim.network.conditions.fifo = true;
  for (const n of sim.nodes) if (!n.up && !n.decommissioned) sim.restart(n.id);

  // One round trip (two deliveries, two fsyncs) in ticks: the slowest a single entry can move.
  const roundTripTicks = Math.ceil((2 * (s.maxDelay + s.maxFsyncDelay)) / TICK) + 1;
  const start = sim.now;
  const backlog = Math.max(0, ...sim.nodes.map((n) => n.storage.lastIndex())) - sim.checker.globalCommit;
  const boundTicks = s.livenessBoundTicks + roundTripTicks * backlog;
  // A probe whose proposer lost leadership (or whose entry was dropped) is simply made again.
  const retryAfter = 2 * s.electionTick * TICK;
  let probe: { node: number; incarnation: number; at: number } | undefined;
  let acked: number | undefined;
  while (acked === undefined) {
    const leader = sim.leader();
    if (leader && (!probe || probe.node !== leader.id || probe.incarnation !== leader.incarnation || sim.now - probe.at > retryAfter)) {
      const attempt = { node: leader.id, incarnation: leader.incarnation, at: sim.now };
      if (sim.write(leader.id, 1, (index) => (acked ??= index)) === 'proposed') probe = attempt;
    }
    if (sim.now - start > boundTicks * TICK) {
      sim.checker.fail('liveness', `no proposal committed within ${boundTicks} ticks of the final heal (backlog ${backlog} entries).${diagnose(sim)} ${sim.describeNodes()}`);
    }
    sim.stepOnce();
  }
  const commitAt = sim.now;
  const commitTicks = Math.ceil((commitAt - start) / TICK);

  const target = acked;
  const laggards = (): number[] => {
    const leader = sim.leader();
    if (!leader?.raft) return [-1];
    return confStateMembers(leader.raft.confState()).filter((id) => {
      const n = sim.node(id);
      if (n?.decommissioned) return false; // the leader has not applied its removal yet
      return n === undefined || !n.up || n.app.index < target;
    });
  };
  const lag = Math.max(0, ...sim.nodes.filter((n) => n.up).map((n) => target - n.app.index));
  const convergeTicks = s.livenessBoundTicks + roundTripTicks * lag;
  while (laggards().length > 0) {
    if (sim.now - commitAt > convergeTicks * TICK) {
      sim.checker.fail(
        'liveness',
        `members ${laggards().join(', ')} did not apply index ${target} within ${convergeTicks} ticks of its commit.${diagnose(sim)} ${sim.describeNodes()}`,
      );
    }
    sim.stepOnce();
  }
  const leader = sim.leader();
  if (leader) sim.checker.finalCheck(leader);
  return { commitTicks, convergeTicks: Math.ceil((sim.now - start) / TICK) };
}
