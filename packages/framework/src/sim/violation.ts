// The one error a simulation run throws when something is wrong. Its message names the
// invariant, the step and the seed, and ends with the command that replays the run exactly.

export type Invariant =
  /** At most one leader per term, over the whole run. */
  | 'election-safety'
  /** Same index and term => same entry and same log before it. */
  | 'log-matching'
  /** A new leader's log holds every entry committed before it was elected. */
  | 'leader-completeness'
  /** Every node applies a prefix of one history; committed entries never change. */
  | 'state-machine-safety'
  /** A read sees every write acknowledged before the read began. */
  | 'read-linearizability'
  /** An acknowledged write stays committed. */
  | 'durability'
  /**
   * A command sent without a session is applied at most once, however many copies of it reach
   * the log, and no copy is refused while its origin still waits for it (late-proposals.ts).
   */
  | 'at-most-once'
  /** Witnesses hold no data and never lead; learners never lead. */
  | 'role-safety'
  /** After the final heal, a leader is elected and a proposal commits within the bound. */
  | 'liveness'
  /** The core threw where it must not (an internal invariant, a storage contract breach). */
  | 'core-error';

export class SimViolation extends Error {
  constructor(
    readonly invariant: Invariant,
    readonly detail: string,
    readonly step: number,
    readonly seed: number,
    /** One command that replays the run deterministically. */
    readonly replay: string,
  ) {
    super(`${invariant} violated at step ${step} (seed ${seed}): ${detail}\n  replay: ${replay}`);
    this.name = 'SimViolation';
  }
}

/** Where the checker is in the run, so a violation can say when it happened. */
export interface RunPosition {
  readonly seed: number;
  readonly step: number;
  readonly replay: string;
}

export function violation(pos: RunPosition, invariant: Invariant, detail: string): SimViolation {
  return new SimViolation(invariant, detail, pos.step, pos.seed, pos.replay);
}
