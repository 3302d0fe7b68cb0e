import { CommandErrorResult, type CommandErrorBody } from './command-result.js';
import { RsmError } from './rsm-error.js';

/**
 * The internal idempotency key of a command sent without a client session. The first node that
 * receives such a command gives it one: `origin` names that node's incarnation (node id and a
 * random part, so a restart never reuses keys), `seq` counts its commands, and `floor` is the
 * lowest sequence the origin was still waiting on when it sent this one: every sequence below
 * it has been answered or given up, so its record can be dropped.
 */
export interface RequestKey {
  readonly origin: string;
  readonly seq: number;
  readonly floor: number;
}

/** Origins are 1-64 characters of [A-Za-z0-9._-]. */
export const ORIGIN_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Most records kept for one origin: a runaway origin cannot grow the table without bound. */
export const MAX_RECORDS_PER_ORIGIN = 65_536;

/** Why a request key is malformed, or undefined when it is well formed. */
export function requestKeyProblem(origin: unknown, seq: unknown, floor: unknown): string | undefined {
  if (typeof origin !== 'string' || !ORIGIN_PATTERN.test(origin)) return 'the request origin must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"';
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) return 'the request sequence must be a positive integer';
  if (typeof floor !== 'number' || !Number.isSafeInteger(floor) || floor < 0 || floor > seq) return 'the request floor must be an integer from 0 to the sequence';
  return undefined;
}

/** `origin:seq:floor`, as carried by the X-Raft-Request-Id header between nodes. */
export function formatRequestKey(k: RequestKey): string {
  return `${k.origin}:${k.seq}:${k.floor}`;
}

/** Parses `origin:seq:floor`; undefined when malformed. */
export function parseRequestKey(text: string): RequestKey | undefined {
  const m = /^([A-Za-z0-9._-]{1,64}):([1-9][0-9]{0,15}):(0|[1-9][0-9]{0,15})$/.exec(text);
  if (!m) return undefined;
  const key = { origin: m[1]!, seq: Number(m[2]), floor: Number(m[3]) };
  return requestKeyProblem(key.origin, key.seq, key.floor) ? undefined : key;
}

interface Applied {
  readonly index: number;
  readonly result: unknown;
}

interface OriginWindow {
  readonly origin: string;
  floor: number;
  lastUsed: number;
  /** Sequences >= floor applied so far, in apply order. */
  readonly applied: Map<number, Applied>;
}

/**
 * Drops records below the floor from the front of the window (records are kept in apply order,
 * which is mostly sequence order): amortised O(1) per entry. A record below the floor that sits
 * behind a newer one stays until the front reaches it; it still answers "not applied again".
 */
function prune(w: OriginWindow): void {
  for (const seq of w.applied.keys()) {
    if (seq >= w.floor) return;
    w.applied.delete(seq);
  }
}

/** What the table says of an entry's key before the entry is applied. */
export type RequestVerdict =
  | { kind: 'new' }
  /** The same key was applied before: answer its first result and index, change nothing. */
  | { kind: 'duplicate'; index: number; result: unknown }
  /** The origin stopped waiting for this key before it committed: it is not applied. */
  | { kind: 'expired'; floor: number };

/** A window as stored in a snapshot: [origin, floor, lastUsed, [[seq, index, result, failed], ...]]. */
export type RequestWindowTuple = [string, number, number, [number, number, unknown, 0 | 1][]];

/**
 * Which internal request keys were applied, so that a second copy of a command in the log (a
 * re-send anywhere inside the cluster) changes nothing: at most once without a client session.
 * Like the session table it changes only through applied entries and their timestamps, so all
 * replicas hold the same table. Unlike a session, the sequences of one origin may commit in any
 * order (the origin sends many at once); the floor each entry carries bounds what is kept.
 *
 * Invariant: the map's iteration order is the order of `lastUsed`, so expiry looks at the front.
 */
export class RequestTable {
  private readonly windows = new Map<string, OriginWindow>();
  /** The window at the end of the map (the last one used), if any. */
  private newest: OriginWindow | undefined;

  constructor(readonly ttlMs: number) {}

  /** Origins with a window. */
  get size(): number {
    return this.windows.size;
  }

  /** Records held over all origins. */
  get records(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.applied.size;
    return n;
  }

  /** Drops the windows of origins last heard of before `now - ttlMs`. */
  expire(now: number): number {
    const horizon = now - this.ttlMs;
    let dropped = 0;
    for (const w of this.windows.values()) {
      if (w.lastUsed >= horizon) break;
      this.windows.delete(w.origin);
      if (w === this.newest) this.newest = undefined;
      dropped++;
    }
    return dropped;
  }

  /** Judges an entry's key, and moves the origin's floor up to the one the entry carries. */
  admit(key: RequestKey, now: number): RequestVerdict {
    let w = this.windows.get(key.origin);
    if (!w) {
      w = { origin: key.origin, floor: 0, lastUsed: now, applied: new Map() };
      this.windows.set(key.origin, w);
    } else if (w !== this.newest) {
      // Move to the end (use order); most entries come from the origin used last, which already is.
      this.windows.delete(key.origin);
      this.windows.set(key.origin, w);
    }
    this.newest = w;
    w.lastUsed = now;
    if (key.floor > w.floor) {
      w.floor = key.floor;
      prune(w);
    }
    const done = w.applied.get(key.seq);
    if (done) return { kind: 'duplicate', index: done.index, result: done.result };
    if (key.seq < w.floor) return { kind: 'expired', floor: w.floor };
    return { kind: 'new' };
  }

  /** Records the result of a key that `admit` called new. */
  record(key: RequestKey, result: unknown, index: number): void {
    const w = this.windows.get(key.origin);
    if (!w) return;
    w.applied.set(key.seq, { index, result });
    if (w.applied.size > MAX_RECORDS_PER_ORIGIN) {
      // Forget the oldest record and treat everything up to it as answered: a late copy of it is
      // then refused as expired, never applied a second time.
      const [oldest] = w.applied.keys();
      w.applied.delete(oldest!);
      w.floor = Math.max(w.floor, oldest! + 1);
      prune(w);
    }
  }

  /** A copy for a snapshot, in use order. */
  toTuples(): RequestWindowTuple[] {
    const out: RequestWindowTuple[] = [];
    for (const w of this.windows.values()) {
      const applied: [number, number, unknown, 0 | 1][] = [];
      for (const [seq, a] of w.applied) {
        const failed = a.result instanceof CommandErrorResult;
        applied.push([seq, a.index, failed ? (a.result as CommandErrorResult).error : a.result, failed ? 1 : 0]);
      }
      out.push([w.origin, w.floor, w.lastUsed, applied]);
    }
    return out;
  }

  /** Rebuilds a table from a snapshot's tuples (absent in older snapshots: an empty table). */
  static fromTuples(ttlMs: number, tuples: unknown): RequestTable {
    const table = new RequestTable(ttlMs);
    if (tuples === undefined) return table;
    if (!Array.isArray(tuples)) throw new RsmError('bad_snapshot', 'snapshot requests must be an array');
    const parsed: OriginWindow[] = [];
    tuples.forEach((t: unknown, i) => {
      const bad = (why: string) => new RsmError('bad_snapshot', `snapshot request window #${i} ${why}`);
      if (!Array.isArray(t) || t.length !== 4) throw bad('must be [origin, floor, lastUsed, applied]');
      const [origin, floor, lastUsed, applied] = t as unknown[];
      if (typeof origin !== 'string' || !ORIGIN_PATTERN.test(origin)) throw bad('has a bad origin');
      if (typeof floor !== 'number' || !Number.isSafeInteger(floor) || floor < 0) throw bad('has a bad floor');
      if (typeof lastUsed !== 'number' || !Number.isFinite(lastUsed)) throw bad('has a bad last-use time');
      if (!Array.isArray(applied)) throw bad('has no applied list');
      const w: OriginWindow = { origin, floor, lastUsed, applied: new Map() };
      applied.forEach((a: unknown, j) => {
        if (!Array.isArray(a) || a.length !== 4) throw bad(`record #${j} must be [seq, index, result, failed]`);
        const [seq, index, result, failed] = a as unknown[];
        // A record below the floor may remain (see prune); replicas keep it alike.
        if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0 || w.applied.has(seq)) throw bad(`record #${j} has a bad or repeated sequence`);
        if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) throw bad(`record #${j} has a bad index`);
        if (failed !== 0 && failed !== 1) throw bad(`record #${j} has a bad error flag`);
        let value = result;
        if (failed === 1) {
          const body = result as Partial<CommandErrorBody> | null;
          if (typeof body !== 'object' || body === null || typeof body.code !== 'string' || typeof body.message !== 'string')
            throw bad(`record #${j} has a malformed error result`);
          value = new CommandErrorResult(body.code, body.message, body.details);
        }
        w.applied.set(seq, { index, result: value });
      });
      parsed.push(w);
    });
    parsed.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const w of parsed) {
      if (table.windows.has(w.origin)) throw new RsmError('bad_snapshot', `snapshot holds two request windows of origin "${w.origin}"`);
      table.windows.set(w.origin, w);
      table.newest = w;
    }
    return table;
  }
}

/**
 * Hands out the request keys of one origin and tracks which are still open, so each key carries
 * the floor below which the origin waits for nothing. Call `release` once the outcome is known
 * or given up (answered, failed, timed out, the caller went away).
 */
export class RequestKeyAllocator {
  private next = 1;
  private low = 1;
  private readonly open = new Set<number>();

  constructor(readonly origin: string) {
    if (!ORIGIN_PATTERN.test(origin)) throw new RsmError('bad_option', `request origin ${JSON.stringify(origin)} must be 1-64 characters of [A-Za-z0-9._-]`);
  }

  /** Keys handed out and not released yet. */
  get openCount(): number {
    return this.open.size;
  }

  allocate(): { key: RequestKey; release: () => void } {
    const seq = this.next++;
    this.open.add(seq);
    while (this.low < this.next && !this.open.has(this.low)) this.low++;
    const key: RequestKey = { origin: this.origin, seq, floor: this.low };
    let released = false;
    return {
      key,
      release: () => {
        if (released) return;
        released = true;
        this.open.delete(seq);
      },
    };
  }
}
