export { runSeed, sweep, type RunOptions, type RunResult, type SweepOptions, type SweepSummary } from './run.js';
export { SimViolation, type Invariant } from './violation.js';
// Sessions: a seed plus actions at steps, replayed identically by the CLI and the browser emulator.
export {
  SESSION_FORMAT,
  SESSION_DRIVERS,
  MAX_SESSION_NODE,
  SessionError,
  parseSession,
  parseAction,
  compareOutcomes,
  type Session,
  type SessionAction,
  type SessionActionKind,
  type SessionDriver,
  type SessionOutcome,
  type TimedAction,
  type NodeChecksum,
} from './session.js';
export { SessionRun, runSession, sessionScenario, describeAction, type SessionRunOptions } from './session-run.js';
export { Simulation, type SimHooks, type StepEvent, type InFlightMessage } from './simulation.js';
export type { SimNode } from './sim-node.js';
export { describeMessage } from './trace.js';
export { hashTrace, TraceHasher } from './trace-hash.js';
export { TICK, type Scenario } from './scenario.js';
