// Scenarios to load with one click. Each is a seed plus actions: the builder plays it once on the
// emulator (waiting for a leader, say, before partitioning it) and the session it recorded is
// what the page loads, at step 0, so the user steps through it. Rebuilding gives the same
// session every time, as everything else in a run does.

import { SESSION_FORMAT, type Session } from '@raftkit/framework/sim';
import { Emulator, newSession } from './emulator.js';
import { EmulatorError } from './errors.js';

export interface ScenarioDef {
  id: string;
  title: string;
  /** What to look for while stepping through it. */
  description: string;
  build(): Session;
}

function until(em: Emulator, what: string, pred: () => boolean, limit = 5000): void {
  for (let i = 0; !pred(); i++) {
    if (i >= limit || em.halted) throw new EmulatorError('bad_step', `scenario: ${what} did not happen within ${limit} steps`);
    em.stepForward();
  }
}

const leaderOf = (em: Emulator, ok: (id: number) => boolean = () => true): number | undefined => {
  const l = em.leader;
  return l !== undefined && ok(l) ? l : undefined;
};

/** Runs until a leader (passing `ok`) leads and has committed its first entry of the term. */
function awaitLeader(em: Emulator, ok: (id: number) => boolean = () => true): number {
  until(em, 'a leader', () => {
    const id = leaderOf(em, ok);
    const n = id === undefined ? undefined : em.frame.nodes.find((v) => v.id === id);
    return n !== undefined && n.commit >= n.lastIndex && n.lastIndex > 0;
  });
  return em.leader!;
}

function runTicks(em: Emulator, ticks: number): void {
  const until = em.frame.time + ticks;
  while (em.frame.time < until && !em.halted) em.stepForward();
}

function finish(em: Emulator): Session {
  const s = em.exportSession();
  delete s.expect;
  return s;
}

export const SCENARIOS: ScenarioDef[] = [
  {
    id: 'split-vote',
    title: 'Split vote',
    description:
      'Five nodes, n3 down. n1 and n2 campaign at the same moment; one-way cuts make n4 hear only n1 and n5 only n2, so each candidate gets two votes of the three it needs. Watch the term rise with no leader until a randomised timeout breaks the tie.',
    build() {
      const em = new Emulator(newSession(2, 5));
      em.act({ do: 'crash', node: 3 });
      em.act({ do: 'one-way', from: [2], to: [4] });
      em.act({ do: 'one-way', from: [1], to: [5] });
      // Past the boot lease (an election timeout), so that votes are granted.
      runTicks(em, 10);
      em.act({ do: 'campaign', node: 1 });
      em.act({ do: 'campaign', node: 2 });
      awaitLeader(em);
      em.act({ do: 'heal' });
      em.act({ do: 'restart', node: 3 });
      runTicks(em, 10);
      return finish(em);
    },
  },
  {
    id: 'figure8',
    title: 'Figure 8',
    description:
      "The Raft paper's Figure 8 generator on five nodes: old-term entries reach a majority under a new leader. The correct commit rule waits for the new leader's own entry, so nothing committed is ever lost.",
    build: () => ({ format: SESSION_FORMAT, seed: 42, nodes: 5, driver: 'figure8', actions: [], steps: 1500 }),
  },
  {
    id: 'figure8-bug',
    title: 'Figure 8, buggy commit rule',
    description:
      'The same generator with a test-only core bug (commit-previous-term: a leader counts replicas of an old-term entry to commit it). Run to the "invariant broken" breakpoint: the checker catches a leader elected without a committed entry.',
    build: () => ({ format: SESSION_FORMAT, seed: 42, nodes: 5, driver: 'figure8', mutation: 'commit-previous-term', actions: [], steps: 1500 }),
  },
  {
    id: 'partition-heal',
    title: 'Partition and heal',
    description:
      'Three nodes. The leader is cut off from the others: it keeps its term until check-quorum makes it step down, the majority elects a new leader in a higher term and commits; after the heal the old leader learns the new term and its log is repaired.',
    build() {
      const em = new Emulator(newSession(7, 3));
      const old = awaitLeader(em);
      em.act({ do: 'propose', node: old, count: 2 });
      runTicks(em, 5);
      const others = [1, 2, 3].filter((id) => id !== old);
      em.act({ do: 'partition', groups: [[old], others] });
      em.act({ do: 'propose', node: old });
      const fresh = awaitLeader(em, (id) => id !== old);
      em.act({ do: 'propose', node: fresh, count: 3 });
      runTicks(em, 10);
      em.act({ do: 'heal' });
      runTicks(em, 20);
      return finish(em);
    },
  },
  {
    id: 'leader-transfer',
    title: 'Leader transfer',
    description: 'Three nodes. The leader hands leadership to a follower: it brings the target up to date, then sends TimeoutNow, and the target wins the next term at once.',
    build() {
      const em = new Emulator(newSession(11, 3));
      const leader = awaitLeader(em);
      em.act({ do: 'propose', node: leader, count: 2 });
      runTicks(em, 3);
      const to = leader === 3 ? 1 : leader + 1;
      em.act({ do: 'transfer', leader, to });
      awaitLeader(em, (id) => id === to);
      runTicks(em, 10);
      return finish(em);
    },
  },
  {
    id: 'membership',
    title: 'Membership change',
    description:
      'Three nodes. n4 joins as a learner (it catches up by snapshot and log), is promoted to voter, then a joint configuration replaces n1 with n5; the cluster leaves the joint configuration explicitly.',
    build() {
      const em = new Emulator(newSession(5, 3));
      const leader = () => awaitLeader(em);
      em.act({ do: 'propose', node: leader(), count: 3 });
      em.act({ do: 'add-learner', leader: leader(), node: 4 });
      until(em, 'n4 catching up', () => (em.frame.nodes.find((n) => n.id === 4)?.applied ?? 0) >= 4);
      em.act({ do: 'promote', leader: leader(), node: 4 });
      until(em, 'n4 a voter', () => em.frame.nodes.find((n) => n.id === em.leader)?.conf.startsWith('voters 1,2,3,4') === true);
      em.act({ do: 'joint', leader: leader(), add: [5], remove: [1] });
      until(em, 'the joint configuration', () => em.frame.nodes.find((n) => n.id === em.leader)?.conf.includes('outgoing') === true);
      em.act({ do: 'leave-joint', leader: leader() });
      until(em, 'leaving the joint configuration', () => {
        const conf = em.frame.nodes.find((n) => n.id === em.leader)?.conf ?? '';
        return conf.startsWith('voters 2,3,4,5') && !conf.includes('outgoing');
      });
      runTicks(em, 10);
      return finish(em);
    },
  },
  {
    id: 'snapshot-install',
    title: 'Snapshot install',
    description:
      'Three nodes. A follower is down while the leader commits entries and compacts its log behind a snapshot. When the follower comes back, the entries it needs are gone: the leader sends it a Snapshot message instead.',
    build() {
      const em = new Emulator(newSession(9, 3));
      const leader = awaitLeader(em);
      const lagging = leader === 3 ? 1 : 3;
      em.act({ do: 'crash', node: lagging });
      for (let i = 0; i < 4; i++) {
        em.act({ do: 'propose', node: leader, count: 3 });
        runTicks(em, 2);
      }
      runTicks(em, 5);
      // A node snapshots between Readies only: step until its disk is idle.
      until(
        em,
        'the compaction',
        () => {
          em.act({ do: 'compact', node: leader });
          return em.frame.lines.some((l) => l.includes(`n${leader} snapshots at`));
        },
        50,
      );
      em.act({ do: 'restart', node: lagging });
      until(em, 'the snapshot install', () => em.messages.list.some((m) => m.type === 'Snapshot' && m.deliveredStep !== undefined));
      runTicks(em, 10);
      return finish(em);
    },
  },
];

export function scenario(id: string): ScenarioDef {
  const s = SCENARIOS.find((d) => d.id === id);
  if (!s) throw new EmulatorError('bad_session', `no scenario "${id}"; one of ${SCENARIOS.map((d) => d.id).join(', ')}`);
  return s;
}
