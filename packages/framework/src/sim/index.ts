export { runSeed, sweep, type RunOptions, type RunResult, type SweepOptions, type SweepSummary } from './run.js';
export { SimViolation } from './violation.js';
