// A session: a seed plus the actions a person (or a test) took, each at the step it was taken.
// It is the whole description of an emulator run, as a seed is of a sweep run: replayed by
// `npm run sim -- --session FILE`, by the tests and by the browser emulator, it takes the same
// steps and gives the same trace and the same per-node history checksums everywhere.

import type { NodeId } from '../core/types.js';
import { MUTATIONS, type Mutation } from './scenario.js';

export const SESSION_FORMAT = 'raftkit-sim-session/1';

/** Who acts besides the session's own actions: nobody, the calm profile's clients, the chaos driver, or the Figure 8 generator. */
export const SESSION_DRIVERS = ['none', 'clients', 'chaos', 'figure8'] as const;
export type SessionDriver = (typeof SESSION_DRIVERS)[number];

/** The highest node id a session may name (founders are 1..nodes; the rest join by membership change). */
export const MAX_SESSION_NODE = 9;

export type SessionAction =
  | { do: 'propose'; node: NodeId; count?: number }
  | { do: 'read'; node: NodeId; lease?: boolean }
  | { do: 'campaign'; node: NodeId }
  | { do: 'crash'; node: NodeId }
  | { do: 'restart'; node: NodeId }
  | { do: 'partition'; groups: NodeId[][] }
  | { do: 'one-way'; from: NodeId[]; to: NodeId[] }
  | { do: 'heal' }
  | { do: 'drop'; message: number }
  | { do: 'delay'; message: number; by: number }
  | { do: 'duplicate'; message: number }
  | { do: 'add-learner'; leader: NodeId; node: NodeId }
  | { do: 'promote'; leader: NodeId; node: NodeId }
  | { do: 'remove'; leader: NodeId; node: NodeId }
  | { do: 'joint'; leader: NodeId; add: NodeId[]; remove: NodeId[] }
  | { do: 'leave-joint'; leader: NodeId }
  | { do: 'transfer'; leader: NodeId; to: NodeId }
  | { do: 'clock'; node: NodeId; rate: number }
  | { do: 'compact'; node: NodeId };

export type SessionActionKind = SessionAction['do'];

/** One action, taken after `step` events were handled (before the next). */
export interface TimedAction {
  step: number;
  action: SessionAction;
}

export interface NodeChecksum {
  id: NodeId;
  /** The last applied index the checksums cover. */
  applied: number;
  /** Chained checksum of (index, term) of every applied entry (hex). */
  termChecksum: string;
  /** Chained checksum of (index, term, type, data) of every applied entry (hex). */
  dataChecksum: string;
}

/** What a run of the session produced, recorded on export so a replay can be compared. */
export interface SessionOutcome {
  /** hashTrace of the trace lines, 8 hex digits. */
  traceHash: string;
  traceLines: number;
  checksums: NodeChecksum[];
  /** The first invariant broken, if any ("<invariant> at step N"). */
  violation?: string;
}

export interface Session {
  format: typeof SESSION_FORMAT;
  seed: number;
  /** Founding voters. */
  nodes: 3 | 5;
  driver: SessionDriver;
  /** A test-only core bug, to watch the invariant checker catch it. */
  mutation?: Mutation;
  /** Sorted by step; several may share a step (taken in order). */
  actions: TimedAction[];
  /** How many steps the session runs. */
  steps: number;
  expect?: SessionOutcome;
}

export class SessionError extends Error {
  readonly code = 'bad_session';
  constructor(message: string) {
    super(message);
    this.name = 'SessionError';
  }
}

/** The most steps a session may ask for: a replay must finish in reasonable time. */
export const MAX_SESSION_STEPS = 1_000_000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new SessionError(`${what} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

const nodeId = (v: unknown, what: string): NodeId => int(v, what, 1, MAX_SESSION_NODE);

function ids(v: unknown, what: string): NodeId[] {
  if (!Array.isArray(v) || v.length === 0) throw new SessionError(`${what} must be a non-empty list of node ids`);
  const out = v.map((x, i) => nodeId(x, `${what}[${i}]`));
  if (new Set(out).size !== out.length) throw new SessionError(`${what} names a node twice`);
  return out;
}

/** Checks one action's shape; returns a clean copy (unknown fields dropped). */
export function parseAction(v: unknown, where = 'action'): SessionAction {
  if (!isObj(v) || typeof v.do !== 'string') throw new SessionError(`${where} must be an object with a string "do"`);
  const n = (k: string) => nodeId(v[k], `${where}.${k}`);
  switch (v.do) {
    case 'propose':
      return { do: 'propose', node: n('node'), count: v.count === undefined ? 1 : int(v.count, `${where}.count`, 1, 100) };
    case 'read':
      if (v.lease !== undefined && typeof v.lease !== 'boolean') throw new SessionError(`${where}.lease must be a boolean`);
      return { do: 'read', node: n('node'), lease: v.lease === true };
    case 'campaign':
    case 'crash':
    case 'restart':
    case 'compact':
      return { do: v.do, node: n('node') };
    case 'partition': {
      if (!Array.isArray(v.groups) || v.groups.length < 2) throw new SessionError(`${where}.groups must list at least two groups`);
      const groups = v.groups.map((g, i) => ids(g, `${where}.groups[${i}]`));
      if (new Set(groups.flat()).size !== groups.flat().length) throw new SessionError(`${where}.groups overlap`);
      return { do: 'partition', groups };
    }
    case 'one-way':
      return { do: 'one-way', from: ids(v.from, `${where}.from`), to: ids(v.to, `${where}.to`) };
    case 'heal':
      return { do: 'heal' };
    case 'drop':
    case 'duplicate':
      return { do: v.do, message: int(v.message, `${where}.message`, 1, Number.MAX_SAFE_INTEGER) };
    case 'delay':
      return { do: 'delay', message: int(v.message, `${where}.message`, 1, Number.MAX_SAFE_INTEGER), by: int(v.by, `${where}.by`, 1, 100_000) };
    case 'add-learner':
    case 'promote':
    case 'remove':
      return { do: v.do, leader: n('leader'), node: n('node') };
    case 'joint': {
      const add = v.add === undefined ? [] : Array.isArray(v.add) && v.add.length === 0 ? [] : ids(v.add, `${where}.add`);
      const remove = v.remove === undefined ? [] : Array.isArray(v.remove) && v.remove.length === 0 ? [] : ids(v.remove, `${where}.remove`);
      if (add.length + remove.length === 0) throw new SessionError(`${where} must add or remove at least one node`);
      if (add.some((id) => remove.includes(id))) throw new SessionError(`${where} both adds and removes a node`);
      return { do: 'joint', leader: n('leader'), add, remove };
    }
    case 'leave-joint':
      return { do: 'leave-joint', leader: n('leader') };
    case 'transfer':
      return { do: 'transfer', leader: n('leader'), to: n('to') };
    case 'clock': {
      const rate = v.rate;
      if (typeof rate !== 'number' || !(rate >= 0.1 && rate <= 10)) throw new SessionError(`${where}.rate must be a number in [0.1, 10], got ${JSON.stringify(rate)}`);
      return { do: 'clock', node: n('node'), rate };
    }
    default:
      throw new SessionError(`${where}: unknown action "${v.do}"`);
  }
}

/** Checks a session read from a file or a URL; throws a SessionError that says what is wrong. */
export function parseSession(v: unknown): Session {
  if (!isObj(v)) throw new SessionError('a session must be a JSON object');
  if (v.format !== SESSION_FORMAT) throw new SessionError(`format must be "${SESSION_FORMAT}", got ${JSON.stringify(v.format)}`);
  const seed = int(v.seed, 'seed', 0, 0xffffffff);
  const nodes = int(v.nodes, 'nodes', 3, 5);
  if (nodes !== 3 && nodes !== 5) throw new SessionError('nodes must be 3 or 5');
  const driver = v.driver ?? 'none';
  if (!SESSION_DRIVERS.includes(driver as SessionDriver)) throw new SessionError(`driver must be one of ${SESSION_DRIVERS.join(', ')}`);
  if (driver === 'figure8' && nodes !== 5) throw new SessionError('the figure8 driver needs 5 nodes');
  const mutation = v.mutation;
  if (mutation !== undefined && !MUTATIONS.includes(mutation as Mutation)) throw new SessionError(`mutation must be one of ${MUTATIONS.join(', ')}`);
  const steps = int(v.steps, 'steps', 0, MAX_SESSION_STEPS);
  if (!Array.isArray(v.actions)) throw new SessionError('actions must be a list');
  let last = 0;
  const actions = v.actions.map((t, i): TimedAction => {
    if (!isObj(t)) throw new SessionError(`actions[${i}] must be an object { step, action }`);
    const step = int(t.step, `actions[${i}].step`, 0, steps);
    if (step < last) throw new SessionError(`actions[${i}].step ${step} comes before the previous action's step ${last}`);
    last = step;
    return { step, action: parseAction(t.action, `actions[${i}].action`) };
  });
  const s: Session = { format: SESSION_FORMAT, seed, nodes, driver: driver as SessionDriver, actions, steps };
  if (mutation !== undefined) s.mutation = mutation as Mutation;
  if (v.expect !== undefined) s.expect = parseOutcome(v.expect);
  return s;
}

const HEX = /^[0-9a-f]{8}$/;

function parseOutcome(v: unknown): SessionOutcome {
  if (!isObj(v)) throw new SessionError('expect must be an object');
  if (typeof v.traceHash !== 'string' || !HEX.test(v.traceHash)) throw new SessionError('expect.traceHash must be 8 hex digits');
  const traceLines = int(v.traceLines, 'expect.traceLines', 0, Number.MAX_SAFE_INTEGER);
  if (!Array.isArray(v.checksums)) throw new SessionError('expect.checksums must be a list');
  const checksums = v.checksums.map((c, i): NodeChecksum => {
    if (!isObj(c)) throw new SessionError(`expect.checksums[${i}] must be an object`);
    for (const k of ['termChecksum', 'dataChecksum'] as const) {
      if (typeof c[k] !== 'string' || !HEX.test(c[k])) throw new SessionError(`expect.checksums[${i}].${k} must be 8 hex digits`);
    }
    return {
      id: nodeId(c.id, `expect.checksums[${i}].id`),
      applied: int(c.applied, `expect.checksums[${i}].applied`, 0, Number.MAX_SAFE_INTEGER),
      termChecksum: c.termChecksum as string,
      dataChecksum: c.dataChecksum as string,
    };
  });
  const out: SessionOutcome = { traceHash: v.traceHash, traceLines, checksums };
  if (v.violation !== undefined) {
    if (typeof v.violation !== 'string') throw new SessionError('expect.violation must be a string');
    out.violation = v.violation;
  }
  return out;
}

/** Differences between an expected and an actual outcome, one line each; [] when they agree. */
export function compareOutcomes(expected: SessionOutcome, actual: SessionOutcome): string[] {
  const out: string[] = [];
  if (expected.traceHash !== actual.traceHash || expected.traceLines !== actual.traceLines) {
    out.push(`trace: expected ${expected.traceHash} (${expected.traceLines} lines), got ${actual.traceHash} (${actual.traceLines} lines)`);
  }
  const fmt = (c: NodeChecksum | undefined) => (c ? `applied ${c.applied} term ${c.termChecksum} data ${c.dataChecksum}` : 'absent');
  const ids = new Set([...expected.checksums, ...actual.checksums].map((c) => c.id));
  for (const id of [...ids].sort((a, b) => a - b)) {
    const e = expected.checksums.find((c) => c.id === id);
    const a = actual.checksums.find((c) => c.id === id);
    if (fmt(e) !== fmt(a)) out.push(`n${id}: expected ${fmt(e)}, got ${fmt(a)}`);
  }
  if ((expected.violation ?? '') !== (actual.violation ?? '')) out.push(`violation: expected ${expected.violation ?? 'none'}, got ${actual.violation ?? 'none'}`);
  return out;
}
