// The chaos driver: on each turn it picks one action by the scenario's weights: a client write
// or read, a crash, a partition (symmetric, one-way, isolating the leader), a membership
// change, a leadership transfer or a snapshot. During the final heal only clients act.

import { confStateMembers } from '../core/conf-state.js';
import type { NodeId } from '../core/types.js';
import { chooseMembershipChange } from './membership.js';
import { Prng } from './prng.js';
import type { ActionWeights, Scenario } from './scenario.js';
import type { Actor, Simulation } from './simulation.js';
import type { SimNode } from './sim-node.js';

/** At most this many partitions (of any kind) at once. */
const MAX_PARTITIONS = 2;

export class ChaosDriver implements Actor {
  private readonly rng: Prng;
  private nextId: number;
  private readonly lastId: number;
  /** Nodes whose removal was proposed: never re-added, stopped once every member applied it. */
  private readonly retired = new Set<NodeId>();

  constructor(
    private readonly scenario: Scenario,
    /** Replaces the client write: late-proposals.ts sends commands through its front end. */
    private readonly writer?: (sim: Simulation) => void,
  ) {
    this.rng = Prng.derive(scenario.seed, 'driver');
    this.nextId = scenario.voters + scenario.learners + 1;
    this.lastId = this.nextId + scenario.spareNodes - 1;
  }

  gap(): number {
    return this.rng.range(this.scenario.driverGap[0], this.scenario.driverGap[1]);
  }

  act(sim: Simulation): void {
    sim.workload.expire(sim.now);
    this.decommissionRemoved(sim);
    const w = this.scenario.weights;
    // The final heal keeps readers going but stops writers: its probe must not queue behind an
    // ever-growing backlog. Partitions are capped so that the cluster is not always shredded.
    const cut = sim.network.activePartitions >= MAX_PARTITIONS ? 0 : 1;
    const weights: ActionWeights =
      sim.phase === 'chaos'
        ? { ...w, partition: w.partition * cut, isolateLeader: w.isolateLeader * cut, oneWay: w.oneWay * cut }
        : { write: 0, read: w.read, crash: 0, crashLeader: 0, partition: 0, isolateLeader: 0, oneWay: 0, membership: 0, transfer: 0, compact: 0 };
    switch (this.rng.weighted(weights)) {
      case 'write':
        return this.writer ? this.writer(sim) : this.write(sim);
      case 'read':
        return this.read(sim);
      case 'crash':
        return this.crash(sim, this.pickUp(sim));
      case 'crashLeader':
        return this.crash(sim, sim.leader());
      case 'partition':
        return this.partition(sim);
      case 'isolateLeader':
        return this.isolateLeader(sim);
      case 'oneWay':
        return this.oneWay(sim);
      case 'membership':
        return this.membership(sim);
      case 'transfer':
        return this.transfer(sim);
      case 'compact': {
        const n = this.pickUp(sim);
        if (n) sim.snapshot(n.id, this.rng.pick([0, this.scenario.snapshotTail]));
        return;
      }
      case undefined:
        return;
    }
  }

  private live(sim: Simulation): SimNode[] {
    return sim.nodes.filter((n) => !n.decommissioned);
  }

  private pickUp(sim: Simulation, dataOnly = false): SimNode | undefined {
    const up = sim.nodes.filter((n) => n.up && !(dataOnly && n.witness));
    return up.length > 0 ? this.rng.pick(up) : undefined;
  }

  private write(sim: Simulation): void {
    const leader = sim.leader();
    const n = leader && this.rng.chance(0.7) ? leader : this.pickUp(sim, true);
    if (!n) return;
    const count = this.rng.chance(0.2) ? this.rng.range(2, 4) : 1;
    // A client that hits a follower retries once at the leader the follower names.
    if (sim.write(n.id, count) === 'not-leader') {
      const lead = n.raft?.lead;
      if (lead && lead !== n.id) sim.write(lead, count);
    }
  }

  private read(sim: Simulation): void {
    const leader = sim.leader();
    const n = leader && this.rng.chance(0.5) ? leader : this.pickUp(sim, true);
    if (n) sim.read(n.id);
  }

  private crash(sim: Simulation, n: SimNode | undefined): void {
    if (!n) return;
    const [lo, hi] = this.scenario.downtimeTicks;
    sim.crashFor(n.id, this.rng.range(lo, hi));
  }

  private partitionTicks(): number {
    return this.rng.range(this.scenario.partitionTicks[0], this.scenario.partitionTicks[1]);
  }

  private partition(sim: Simulation): void {
    const ids = this.rng.shuffle(this.live(sim).map((n) => n.id));
    if (ids.length < 2) return;
    const k = this.rng.range(1, ids.length - 1);
    sim.partition([ids.slice(0, k).sort(byId), ids.slice(k).sort(byId)], this.partitionTicks());
  }

  private isolateLeader(sim: Simulation): void {
    const leader = sim.leader();
    if (!leader) return;
    const others = this.live(sim)
      .filter((n) => n !== leader)
      .map((n) => n.id);
    if (others.length > 0) sim.partition([[leader.id], others], this.partitionTicks());
  }

  private oneWay(sim: Simulation): void {
    const leader = sim.leader();
    const ids = this.live(sim).map((n) => n.id);
    if (ids.length < 2) return;
    const ticks = this.partitionTicks();
    const mode = leader ? this.rng.int(3) : 2;
    if (mode === 0) {
      // The leader cannot reach anyone but hears everything: followers elect a new leader.
      sim.oneWay([leader!.id], ids, ticks);
    } else if (mode === 1) {
      // The leader is heard but hears nobody: check-quorum must make it step down.
      sim.oneWay(ids, [leader!.id], ticks);
    } else {
      const [a, b] = this.rng.shuffle(ids);
      sim.oneWay([a!], [b!], ticks);
    }
  }

  private membership(sim: Simulation): void {
    const leader = sim.leader();
    const raft = leader?.raft;
    if (!leader || !raft) return;
    const cs = raft.confState();
    const members = new Set(confStateMembers(cs));
    const change = chooseMembershipChange(this.rng, cs, {
      joiners: sim.nodes.filter((n) => n.up && !this.retired.has(n.id) && !members.has(n.id)).map((n) => n.id),
      freshId: () => (this.nextId <= this.lastId ? this.nextId++ : undefined),
      retired: this.retired,
      isWitness: (id) => sim.node(id)?.witness ?? false,
    });
    if (!change) return;
    if (change.spawn) sim.spawn(change.spawn.id, change.spawn.witness);
    sim.log(`membership: ${change.label}`);
    if (sim.proposeConfChange(leader.id, change.cc)) for (const id of change.removes) this.retired.add(id);
  }

  private transfer(sim: Simulation): void {
    const leader = sim.leader();
    const raft = leader?.raft;
    if (!leader || !raft) return;
    const cs = raft.confState();
    const targets = cs.voters.filter((v) => v !== leader.id && !cs.witnesses.includes(v));
    if (targets.length > 0) sim.transferLeader(leader.id, this.rng.pick(targets));
  }

  /**
   * A removed node is stopped once every remaining member has applied a configuration without
   * it. Stopping it earlier could leave a lagging member (still on the old configuration) short
   * of a quorum; never stopping it lets it disrupt elections when pre-vote is off.
   */
  private decommissionRemoved(sim: Simulation): void {
    if (this.retired.size === 0) return;
    const leader = sim.leader();
    const raft = leader?.raft;
    if (!raft) return;
    const members = confStateMembers(raft.confState());
    for (const id of this.retired) {
      const n = sim.node(id);
      if (!n || n.decommissioned || members.includes(id)) continue;
      const everyoneKnows = members.every((m) => {
        const mn = sim.node(m);
        if (!mn || mn.decommissioned) return true;
        return mn.raft !== undefined && !confStateMembers(mn.raft.confState()).includes(id);
      });
      if (everyoneKnows) sim.decommission(id);
    }
  }
}

const byId = (a: number, b: number): number => a - b;
