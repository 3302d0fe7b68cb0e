// What one run looks like: the cluster's shape, the Raft settings, the network's behaviour and
// how often each fault is injected. Everything is drawn from the seed, so `--seed S` (with the
// few flags in replayCommand) is the whole description of a run.

import { Prng } from './prng.js';

/** Virtual time units per node tick. Message delays and fsyncs are finer than a tick. */
export const TICK = 10;

export const MUTATIONS = ['commit-previous-term', 'vote-ignores-log'] as const;
export type Mutation = (typeof MUTATIONS)[number];

export const PROFILES = ['default', 'figure8', 'calm', 'late-proposals'] as const;
/**
 * default: everything, in a random mix per seed (driver.ts).
 * figure8: five voters, one entry per Append, short delays, and a targeted generator that
 *          keeps steering the cluster into the shape of the Raft paper's Figure 8 (figure8.ts),
 *          where an unsafe commit or vote rule loses committed entries.
 * calm:    no faults at all, only clients; scripted tests add their own faults.
 * late-proposals: the default mix of faults, with client writes sent through a simulated
 *          front end that forwards, duplicates, delays and re-sends them, and a request table
 *          on every node that must keep each command applied at most once (late-proposals.ts).
 */
export type ProfileName = (typeof PROFILES)[number];

/**
 * How leaders serve reads: 'safe' is ReadIndex everywhere, 'lease' is lease reads everywhere.
 * 'mixed' (odd ids lease, even ids ReadIndex) is a rolling-configuration state that only
 * scripted tests use: see the lease tests in test/sim/scenarios.test.ts.
 */
export type ReadMode = 'safe' | 'lease' | 'mixed';

/** Relative frequency of each action the driver takes. */
export interface ActionWeights {
  write: number;
  read: number;
  crash: number;
  crashLeader: number;
  partition: number;
  isolateLeader: number;
  oneWay: number;
  membership: number;
  transfer: number;
  compact: number;
}

export interface Scenario {
  seed: number;
  profile: ProfileName;
  /** Driver steps before the final heal phase. */
  steps: number;
  /** Founding voters (a witness counts as one). */
  voters: number;
  /** Founding learners, added after the voters. */
  learners: number;
  /** The highest-numbered founding voter is a witness. */
  witness: boolean;
  mutation?: Mutation;

  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  readMode: ReadMode;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  maxUncommittedEntriesSize: number;

  /** Message delay range in time units (TICK units = one tick). */
  minDelay: number;
  maxDelay: number;
  lossRate: number;
  dupRate: number;
  /** Per-link FIFO delivery (as over TCP); false reorders messages freely. */
  fifo: boolean;
  /** A Ready is persisted (and its messages sent) this many time units after it is taken, at most. */
  maxFsyncDelay: number;

  /** Time units between two driver actions: [min, max]. */
  driverGap: [number, number];
  weights: ActionWeights;
  /** How long a crashed node stays down, in ticks: [min, max]. */
  downtimeTicks: [number, number];
  /** How long a partition lasts, in ticks: [min, max]. */
  partitionTicks: [number, number];
  /** A data node snapshots after this many newly applied entries (0 = only when the driver says). */
  snapshotEvery: number;
  /** Entries kept behind a snapshot when compacting, so followers usually catch up by log. */
  snapshotTail: number;
  /**
   * A leader sends a follower that needs a snapshot its state at its applied index (with that
   * index's term and configuration) instead of the log base the core names, as the host does for
   * an on-disk state machine whose log snapshots hold no state: the follower acknowledges an
   * index past the snapshot the core is waiting for.
   */
  freshSnapshots: boolean;
  /** How many node ids beyond the founders the membership driver may add. */
  spareNodes: number;
  /** A client gives up on a read (or treats a write as unknown) after this many ticks. */
  clientTimeoutTicks: number;
  /** After the final heal, a leader must be elected and a proposal applied everywhere within this. */
  livenessBoundTicks: number;
  /** The full (non-incremental) log-matching check runs every this many steps. */
  fullCheckEvery: number;
  /** The command that replays this run; printed with every violation. */
  replay: string;
}

export interface ScenarioRequest {
  seed: number;
  steps: number;
  /** Founding voters; drawn from the seed (3 or 5) when absent. */
  nodes?: number;
  profile?: ProfileName;
  mutation?: Mutation;
}

export function replayCommand(r: { seed: number; steps: number; voters: number; profile: ProfileName; mutation?: Mutation }): string {
  let cmd = `npm run sim -- --seed ${r.seed} --steps ${r.steps} --nodes ${r.voters}`;
  if (r.profile !== 'default') cmd += ` --profile ${r.profile}`;
  if (r.mutation) cmd += ` --mutation ${r.mutation}`;
  return cmd;
}

const NO_FAULTS: ActionWeights = {
  write: 30,
  read: 20,
  crash: 0,
  crashLeader: 0,
  partition: 0,
  isolateLeader: 0,
  oneWay: 0,
  membership: 0,
  transfer: 0,
  compact: 0,
};

export function scenarioFor(req: ScenarioRequest): Scenario {
  const profile = req.profile ?? 'default';
  const rng = Prng.derive(req.seed, `scenario/${profile}`);
  // Draw first, override after: `--nodes 5` then replays exactly the run the seed chose.
  const drawnVoters = rng.pick([3, 5]);
  const base = profile === 'figure8' ? figure8(rng) : profile === 'calm' ? calm(rng) : mixed(rng);
  const voters = req.nodes ?? (profile === 'figure8' ? 5 : drawnVoters);
  const s: Scenario = {
    ...base,
    seed: req.seed,
    profile,
    steps: req.steps,
    voters,
    mutation: req.mutation,
    fullCheckEvery: 250,
    livenessBoundTicks: 10 * base.electionTick + 40,
    clientTimeoutTicks: 4 * base.electionTick,
    replay: '',
  };
  if (s.witness && s.voters < 3) s.witness = false;
  s.replay = replayCommand(s);
  return s;
}

type Drawn = Omit<Scenario, 'seed' | 'profile' | 'steps' | 'voters' | 'mutation' | 'fullCheckEvery' | 'livenessBoundTicks' | 'clientTimeoutTicks' | 'replay'>;

function mixed(rng: Prng): Drawn {
  const electionTick = rng.range(5, 12);
  const heartbeatTick = rng.range(1, Math.min(3, Math.floor(electionTick / 3)));
  const checkQuorum = rng.chance(0.85);
  const maxFsyncDelay = rng.pick([0, 1, 3, 8]);
  // Raft's timing assumption: a round trip (two deliveries, two fsyncs) well inside an election
  // timeout. Without it elections can collide forever, which is no bug of the core.
  const maxDelay = Math.max(2, Math.min(rng.pick([2, 5, 10, 20, 30]), Math.floor((electionTick * TICK) / 4) - maxFsyncDelay));
  return {
    learners: rng.chance(0.3) ? 1 : 0,
    witness: rng.chance(0.2),
    electionTick,
    heartbeatTick,
    preVote: rng.chance(0.85),
    checkQuorum,
    readMode: checkQuorum ? rng.pick<ReadMode>(['safe', 'lease']) : 'safe',
    maxSizePerMsg: rng.pick([1, 64, 1024, 1 << 20]),
    maxInflightMsgs: rng.pick([1, 2, 4, 256]),
    maxUncommittedEntriesSize: rng.pick([0, 0, 0, 2048]),
    minDelay: 1,
    maxDelay,
    lossRate: rng.pick([0, 0, 0.01, 0.05, 0.1]),
    dupRate: rng.pick([0, 0.01, 0.05]),
    fifo: rng.chance(0.5),
    maxFsyncDelay,
    driverGap: [1, rng.pick([4, 8, 16])],
    weights: {
      write: 30,
      read: 20,
      crash: rng.pick([0, 2, 4]),
      crashLeader: rng.pick([0, 1, 3]),
      partition: rng.pick([0, 2, 4]),
      isolateLeader: rng.pick([0, 1, 2]),
      oneWay: rng.pick([0, 1, 3]),
      membership: rng.pick([0, 2, 5]),
      transfer: rng.pick([0, 1, 3]),
      compact: rng.pick([0, 1, 3]),
    },
    downtimeTicks: [1, rng.pick([3, 2 * electionTick, 5 * electionTick])],
    partitionTicks: [2, rng.pick([electionTick, 3 * electionTick, 6 * electionTick])],
    snapshotEvery: rng.pick([0, 10, 25, 60]),
    snapshotTail: rng.pick([0, 2, 10]),
    spareNodes: 4,
    // Drawn last: the draws above, and so the runs of seeds from before it, stay the same.
    freshSnapshots: rng.chance(0.5),
  };
}

function figure8(rng: Prng): Drawn {
  const electionTick = rng.range(5, 8);
  const checkQuorum = rng.chance(0.5);
  return {
    learners: 0,
    witness: false,
    electionTick,
    heartbeatTick: 1,
    preVote: rng.chance(0.5),
    checkQuorum,
    readMode: 'safe',
    // One entry per Append: an old-term entry can then reach a quorum before the new leader's
    // own first entry does, which is exactly the window an unsafe commit rule needs.
    maxSizePerMsg: 1,
    maxInflightMsgs: rng.pick([1, 256]),
    maxUncommittedEntriesSize: 0,
    minDelay: 1,
    maxDelay: rng.pick([3, 6, 10]),
    // Partitions, not random loss, shape Figure 8 (and silent loss trips a known core stall).
    lossRate: 0,
    dupRate: 0,
    fifo: rng.chance(0.5),
    maxFsyncDelay: rng.pick([0, 2]),
    // The Figure 8 generator picks its own faults and writes, every 1-3 time units.
    driverGap: [1, 3],
    weights: { ...NO_FAULTS },
    downtimeTicks: [1, 2 * electionTick],
    partitionTicks: [2, 3 * electionTick],
    snapshotEvery: 0,
    snapshotTail: 0,
    spareNodes: 0,
    freshSnapshots: false,
  };
}

function calm(rng: Prng): Drawn {
  const electionTick = 10;
  return {
    learners: 0,
    witness: false,
    electionTick,
    heartbeatTick: 2,
    preVote: true,
    checkQuorum: true,
    readMode: rng.pick<ReadMode>(['safe', 'lease']),
    maxSizePerMsg: 1024,
    maxInflightMsgs: 256,
    maxUncommittedEntriesSize: 0,
    minDelay: 1,
    maxDelay: 5,
    lossRate: 0,
    dupRate: 0,
    fifo: true,
    maxFsyncDelay: 1,
    driverGap: [2, 8],
    weights: { ...NO_FAULTS },
    downtimeTicks: [2 * electionTick, 4 * electionTick],
    partitionTicks: [2 * electionTick, 4 * electionTick],
    snapshotEvery: 50,
    snapshotTail: 5,
    spareNodes: 4,
    freshSnapshots: false,
  };
}
