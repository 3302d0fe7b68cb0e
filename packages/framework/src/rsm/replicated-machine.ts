import type { CommandContext } from './command-context.js';
import type { OnDiskStateMachine } from './on-disk-state-machine.js';

/**
 * The application state that a StateMachineManager replicates. The decorator layer
 * (fsm/decorated-machine.ts) adapts a decorated class to it; tests may implement it directly.
 *
 * Contract: `executeCommand` is deterministic (same state + same name, args and context give the
 * same new state and result on every replica); it may not read clocks, randomness or I/O.
 */
/** Converted command args, made once on the proposing node and used when it applies the entry. */
export interface PreparedArgs {
  readonly value: unknown;
}

export interface ReplicatedMachine {
  /** The state machine type (the `@StateMachine` name); recorded in snapshots. */
  readonly type: string;
  /**
   * Proposer side, before anything is proposed: throws RaftkitError 'unknown_command' or
   * 'bad_request' (naming the field) for a command that would be refused. `args` is what the
   * entry will carry (plain JSON). May return a {@link PreparedArgs}: the converted args, which
   * the proposing node hands back to `executeCommand` when it applies that very entry.
   */
  checkCommand(name: string, args: unknown): PreparedArgs | void;
  /**
   * Apply side: converts and validates `args` (plain JSON from the entry) and runs the handler.
   * Throws for refused args or a failed handler; the manager turns that into an error result.
   * With `prepared` (from `checkCommand` on the same name and args) the conversion is skipped:
   * converting is deterministic, so it gives what converting again would.
   */
  executeCommand(name: string, args: unknown, ctx: CommandContext, prepared?: PreparedArgs): unknown;
  /**
   * Optional, before a query waits for anything (a read index): throws RaftkitError
   * 'unknown_query' / 'bad_request' for a query that would be refused, and may return the
   * converted args for `executeQuery`.
   */
  checkQuery?(name: string, args: unknown): PreparedArgs | void;
  /** Runs a read-only query on the current state; throws RaftkitError 'unknown_query' / 'bad_request'. */
  executeQuery(name: string, args: unknown, prepared?: PreparedArgs): unknown;
  /**
   * The state as a JSON-serialisable value, captured synchronously at the applied index. The
   * value must not change afterwards (a copy or an immutable structure): it is serialised later.
   */
  captureState(): unknown;
  /** Replaces the state with one that `captureState` produced (after a JSON round trip). */
  restoreState(state: unknown): void | PromiseLike<void>;
  /**
   * Set for a machine that keeps its own durable state (fsm/on-disk-state-machine.ts): the
   * manager opens it, skips the entries it already holds, and snapshots its files instead of
   * calling captureState/restoreState.
   */
  readonly disk?: OnDiskStateMachine;
}
