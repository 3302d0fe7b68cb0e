export { Emulator, MAX_STEPS, newSession, type RunResult } from './emulator.js';
export { EmulatorError, type EmulatorErrorCode } from './errors.js';
export { BREAKPOINT_KINDS, breakpointHit, describeBreakpoint, parseBreakpoint, type Breakpoint } from './breakpoints.js';
export { LOG_KEPT, type Frame, type NodeView, type ProgressView } from './frame.js';
export { MessageLog, typeName, type MessageRecord } from './messages.js';
export { URL_KEY, decodeSessionParam, encodeSessionParam, sessionFromJson } from './url.js';
export { SCENARIOS, scenario, type ScenarioDef } from './scenarios.js';
