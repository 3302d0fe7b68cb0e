import { CommandErrorResult, type CommandErrorBody } from './command-result.js';
import { RsmError } from './rsm-error.js';

/** A client's session: the last sequence applied for it and that command's result. */
export interface Session {
  readonly clientId: string;
  sequence: number;
  /** Entry time (ms) of the session's last use; sessions idle for longer than the TTL are dropped. */
  lastUsed: number;
  result: unknown;
  /** Log index of the entry that applied `sequence` (0 when restored from an old snapshot). */
  index: number;
}

/** A session as stored in a snapshot: [clientId, sequence, lastUsed, result, 1 if result is an error, index]. */
export type SessionTuple = [string, number, number, unknown, 0 | 1, number];

/**
 * Client sessions for exactly-once commands. Every change is driven by applied entries and their
 * timestamps only, so all replicas hold the same table.
 *
 * Invariant: the map's iteration order is the order of `lastUsed` (each use moves a session to
 * the end, and entry time never decreases), so expiry only looks at the front.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(readonly ttlMs: number) {}

  get size(): number {
    return this.sessions.size;
  }

  get(clientId: string): Session | undefined {
    return this.sessions.get(clientId);
  }

  /** Drops the sessions last used before `now - ttlMs`; returns how many. */
  expire(now: number): number {
    const horizon = now - this.ttlMs;
    let dropped = 0;
    for (const s of this.sessions.values()) {
      if (s.lastUsed >= horizon) break;
      this.sessions.delete(s.clientId);
      dropped++;
    }
    return dropped;
  }

  /** Marks a session used at `now` (a duplicate keeps its session alive too). */
  touch(session: Session, now: number): void {
    session.lastUsed = now;
    this.sessions.delete(session.clientId);
    this.sessions.set(session.clientId, session);
  }

  /** Records the result of a newly applied sequence. */
  record(clientId: string, sequence: number, result: unknown, now: number, index: number): void {
    this.sessions.delete(clientId);
    this.sessions.set(clientId, { clientId, sequence, lastUsed: now, result, index });
  }

  /** A copy for a snapshot, in use order. */
  toTuples(): SessionTuple[] {
    const out: SessionTuple[] = [];
    for (const s of this.sessions.values()) {
      const failed = s.result instanceof CommandErrorResult;
      out.push([s.clientId, s.sequence, s.lastUsed, failed ? (s.result as CommandErrorResult).error : s.result, failed ? 1 : 0, s.index]);
    }
    return out;
  }

  /** Rebuilds a table from a snapshot's tuples; throws RsmError 'bad_snapshot' naming the bad one. */
  static fromTuples(ttlMs: number, tuples: unknown): SessionTable {
    if (!Array.isArray(tuples)) throw new RsmError('bad_snapshot', 'snapshot sessions must be an array');
    const parsed: Session[] = [];
    tuples.forEach((t: unknown, i) => {
      const bad = (why: string) => new RsmError('bad_snapshot', `snapshot session #${i} ${why}`);
      if (!Array.isArray(t) || (t.length !== 5 && t.length !== 6)) throw bad('must be [clientId, sequence, lastUsed, result, failed, index]');
      const [clientId, sequence, lastUsed, result, failed, index = 0] = t as unknown[];
      if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw bad('has a bad index');
      if (typeof clientId !== 'string' || clientId.length === 0) throw bad('has no client id');
      if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence <= 0) throw bad('has a bad sequence');
      if (typeof lastUsed !== 'number' || !Number.isFinite(lastUsed)) throw bad('has a bad last-use time');
      if (failed !== 0 && failed !== 1) throw bad('has a bad error flag');
      let value = result;
      if (failed === 1) {
        const body = result as Partial<CommandErrorBody> | null;
        if (typeof body !== 'object' || body === null || typeof body.code !== 'string' || typeof body.message !== 'string') {
          throw bad('has a malformed error result');
        }
        value = new CommandErrorResult(body.code, body.message, body.details);
      }
      parsed.push({ clientId, sequence, lastUsed, result: value, index });
    });
    const table = new SessionTable(ttlMs);
    // Stable sort keeps the invariant even for a table written by hand.
    parsed.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const s of parsed) {
      if (table.sessions.has(s.clientId)) throw new RsmError('bad_snapshot', `snapshot holds two sessions of client "${s.clientId}"`);
      table.sessions.set(s.clientId, s);
    }
    return table;
  }
}
