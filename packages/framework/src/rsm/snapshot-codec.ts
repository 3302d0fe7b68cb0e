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
  const out: SnapshotEnvelope = { version: env.version, type: env.type, index: env.index, term: env.term, clock: env.clock, sessions: env.sessions, state: env.state };
  if (env.requests !== undefined) out.requests = env.requests;
  return out;
}
