// A targeted scenario generator for the shape of Figure 8 in the Raft paper, the situation in
// which an unsafe commit rule or an unsafe vote rule loses a committed entry. Roles and timings
// are drawn from the seed; the generator never looks for a bug itself: whatever it provokes is
// judged by the same generic checker as every other run. One round:
//
//   1. leader A appends entries that reach only one follower F (A and F are cut off);
//   2. A crashes; the other side elects B, which appends its own entries at the same indexes
//      but is isolated at once, then crashes;
//   3. A restarts and, with F and one more node C (a fourth node D is cut off), a leader L
//      holding A's old entries is elected; it copies them to C;
//   4. the moment L's commit index covers those old entries, L and its partner crash before
//      anything else leaves them;
//   5. B restarts and runs for election with C and D, then everything heals for the next round.
//
// A correct core commits A's entries in step 3 only after L's own no-op reached C, so B cannot
// win in step 5. With 'commit-previous-term' it commits them early and B overwrites them; with
// 'vote-ignores-log' B (or anyone) wins whatever it lacks.

import type { NodeId } from '../core/types.js';
import { Prng } from './prng.js';
import { TICK, type Scenario } from './scenario.js';
import type { Actor, Simulation } from './simulation.js';

type Phase = 'settle' | 'minority-append' | 'elect-b' | 'elect-l' | 'crash-on-commit' | 'b-runs';

export class Figure8Driver implements Actor {
  private readonly rng: Prng;
  private phase: Phase = 'settle';
  private phaseStart = 0;
  private phaseTicks = 0;
  private a: NodeId = 0;
  private f: NodeId = 0;
  private b: NodeId = 0;
  private d: NodeId = 0;
  /** First index A appended on the minority side. */
  private oldIndex = 0;
  private oldTerm = 0;
  private writesLeft = 0;
  rounds = 0;

  constructor(private readonly scenario: Scenario) {
    this.rng = Prng.derive(scenario.seed, 'figure8');
  }

  gap(): number {
    return this.rng.range(this.scenario.driverGap[0], this.scenario.driverGap[1]);
  }

  act(sim: Simulation): void {
    sim.workload.expire(sim.now);
    if (sim.phase !== 'chaos') return;
    const ids = sim.nodes.map((n) => n.id);
    const timedOut = sim.now - this.phaseStart > this.phaseTicks * TICK;
    switch (this.phase) {
      case 'settle': {
        const leader = sim.leader();
        if (!leader) {
          if (timedOut) this.reset(sim);
          return;
        }
        if (this.writesLeft > 0) {
          this.writesLeft--;
          sim.write(leader.id, 1);
          return;
        }
        if (!timedOut) return;
        // 1. Cut the leader off with one follower and let it append on that side alone.
        this.a = leader.id;
        this.oldTerm = leader.raft!.term;
        this.oldIndex = leader.raft!.inspectLog().lastIndex + 1;
        this.f = this.rng.pick(ids.filter((id) => id !== this.a));
        sim.partition([[this.a, this.f], ids.filter((id) => id !== this.a && id !== this.f)]);
        this.writesLeft = this.rng.range(1, 3);
        return this.enter(sim, 'minority-append', this.rng.range(2, 5));
      }
      case 'minority-append':
        if (this.writesLeft > 0) {
          this.writesLeft--;
          sim.write(this.a, 1);
          return;
        }
        if (!timedOut) return;
        // 2. A dies; the majority side elects B.
        sim.crash(this.a);
        return this.enter(sim, 'elect-b', 4 * this.scenario.electionTick);
      case 'elect-b': {
        const leader = sim.leader();
        if (!leader || leader.id === this.f || leader.raft!.term <= this.oldTerm) {
          if (timedOut) this.reset(sim);
          return;
        }
        this.b = leader.id;
        // B appends at A's indexes, isolated, then dies.
        sim.healNetwork();
        sim.partition([[this.b], ids.filter((id) => id !== this.b)]);
        sim.write(this.b, this.rng.range(1, 2));
        sim.at(this.rng.range(1, 2 * TICK), 'figure8: B crashes', () => {
          if (sim.phase !== 'chaos') return; // the final heal has begun: leave it alone
          sim.crash(this.b);
          // 3. A returns; D is cut off so that it stays behind.
          sim.healNetwork();
          this.d = this.rng.pick(ids.filter((id) => id !== this.a && id !== this.b && id !== this.f));
          sim.partition([[this.d], ids.filter((id) => id !== this.d)]);
          sim.restart(this.a);
        });
        return this.enter(sim, 'elect-l', 6 * this.scenario.electionTick);
      }
      case 'elect-l': {
        const leader = sim.leader();
        if (leader && (leader.id === this.a || leader.id === this.f) && leader.raft!.term > this.oldTerm) {
          return this.enter(sim, 'crash-on-commit', 4 * this.scenario.electionTick);
        }
        if (timedOut) this.reset(sim);
        return;
      }
      case 'crash-on-commit': {
        const leader = sim.leader();
        if (leader && leader.raft!.inspectLog().committed >= this.oldIndex) {
          // 4. L and its partner die with the commit; 5. B runs against C and D.
          sim.crash(this.a);
          sim.crash(this.f);
          sim.healNetwork();
          sim.restart(this.b);
          return this.enter(sim, 'b-runs', 4 * this.scenario.electionTick);
        }
        if (timedOut) this.reset(sim);
        return;
      }
      case 'b-runs':
        if (timedOut) this.reset(sim);
        return;
    }
  }

  private enter(sim: Simulation, phase: Phase, ticks: number): void {
    this.phase = phase;
    this.phaseStart = sim.now;
    this.phaseTicks = ticks;
    sim.log(`figure8: ${phase}`);
  }

  /** Heal and restart everything, then start the next round. */
  private reset(sim: Simulation): void {
    sim.healNetwork();
    for (const n of sim.nodes) if (!n.up) sim.restart(n.id);
    this.rounds++;
    this.writesLeft = this.rng.range(0, 3);
    this.enter(sim, 'settle', this.rng.range(2, 3) * this.scenario.electionTick);
  }
}
