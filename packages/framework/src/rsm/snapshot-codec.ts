import type { AppliedEntry } from './applied-entry.js';
import { serializeJson } from './json-serializer.js';
import { RsmError } from './rsm-error.js';
import type { RequestWindowTuple } from './request-table.js';
import type { SessionTuple } from './session-table.js';

/** The snapshot format this build writes and reads. */
export const SNAPSHOT_VERSION = 1;

/** A state machine snapshot: the user's state plus what the rsm layer itself replicates. */
export interface SnapshotEnvelope {
  version: number;
  /** The state machine type, checked on restore. */
  type: string;
  /** Index and term of the last command entry applied into this state (0 when none). */
  index: number;
  term: number;
  /** The entry clock (ms): the largest entry timestamp applied so far. */
  clock: number;
  /** Client sessions, in use order. */
  sessions: SessionTuple[];
  /** Applied internal request keys (absent in snapshots written before they existed). */
  requests?: RequestWindowTuple[];
  /**
   * The latest applied command entries as the watch shows them, and the lowest index from which
   * they are complete: a node restarted from this snapshot (or installing it) can still show a
   * watch the recent history the log kept behind the snapshot (the log holds commands, not their
   * results, and a restart reads it from the snapshot on). Absent in snapshots written before it
   * existed.
   */
  history?: { from: number; entries: AppliedEntry[] };
  /**
   * On-disk machines: the index the machine's own state records at this snapshot (what `open`
   * answers once it is durable), <= index. The entries after it up to `index` changed nothing
   * (duplicates, commands that threw). Absent in snapshots written before it existed: `index`.
   */
  stateIndex?: number;
  /** The user's snapshot (`@Snapshot` or the default instanceToPlain); undefined when it had none. */
  state: unknown;
}

export function serializeSnapshot(envelope: SnapshotEnvelope): Promise<Uint8Array> {
  return serializeJson(envelope);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and checks a snapshot for a state machine of `type`. Throws RsmError 'bad_snapshot'
 * that names the problem; the sessions are checked by SessionTable.fromTuples.
 */
export function parseSnapshot(data: Uint8Array, type: string): SnapshotEnvelope {
  if (data.length === 0) throw new RsmError('bad_snapshot', `snapshot for state machine "${type}" is empty`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (e) {
    throw new RsmError('bad_snapshot', `snapshot of ${data.length} bytes is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RsmError('bad_snapshot', 'snapshot is not a JSON object');
  }
  const env = parsed as Partial<SnapshotEnvelope>;
  if (env.version !== SNAPSHOT_VERSION) {
    throw new RsmError('bad_snapshot', `snapshot version ${JSON.stringify(env.version)} is not supported; this build reads version ${SNAPSHOT_VERSION}`);
  }
  if (env.type !== type) {
    throw new RsmError('bad_snapshot', `snapshot of state machine type ${JSON.stringify(env.type)} cannot restore a "${type}" state machine`);
  }
  if (!isCount(env.index) || !isCount(env.term)) throw new RsmError('bad_snapshot', 'snapshot index and term must be integers >= 0');
  if (typeof env.clock !== 'number' || !Number.isFinite(env.clock)) throw new RsmError('bad_snapshot', 'snapshot clock must be a finite number');
  if (!Array.isArray(env.sessions)) throw new RsmError('bad_snapshot', 'snapshot sessions must be an array');
  if (env.requests !== undefined && !Array.isArray(env.requests)) throw new RsmError('bad_snapshot', 'snapshot requests must be an array');
  if (env.stateIndex !== undefined && (!isCount(env.stateIndex) || env.stateIndex > env.index)) {
    throw new RsmError('bad_snapshot', `snapshot stateIndex must be an integer between 0 and its index ${env.index}`);
  }
  const problem = env.history === undefined ? undefined : historyProblem(env.history, env.index);
  if (problem) throw new RsmError('bad_snapshot', `snapshot history ${problem}`);
  const out: SnapshotEnvelope = { version: env.version, type: env.type, index: env.index, term: env.term, clock: env.clock, sessions: env.sessions, state: env.state };
  if (env.requests !== undefined) out.requests = env.requests;
  if (env.history !== undefined) out.history = env.history;
  if (env.stateIndex !== undefined) out.stateIndex = env.stateIndex;
  return out;
}

function historyProblem(history: unknown, index: number): string | undefined {
  if (typeof history !== 'object' || history === null) return 'must be an object';
  const { from, entries } = history as Partial<NonNullable<SnapshotEnvelope['history']>>;
  if (!isCount(from) || from > index + 1) return `"from" must be an integer between 0 and ${index + 1}`;
  if (!Array.isArray(entries)) return '"entries" must be an array';
  let last = from - 1;
  for (const e of entries as unknown[]) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'entries must be objects';
    const { index: at, term, command } = e as Partial<AppliedEntry>;
    if (!isCount(at) || at <= last || at > index) return `entry index ${JSON.stringify(at)} is out of order or outside ${from}..${index}`;
    if (!isCount(term) || typeof command !== 'string' || !('args' in e) || !('result' in e)) return `entry ${at} needs a term, a command, args and a result`;
    last = at;
  }
  return undefined;
}
