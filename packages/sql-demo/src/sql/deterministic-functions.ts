// SQLite's random(), randomblob() and CURRENT_* read the node's entropy and clock wherever they
// run, including inside column defaults, triggers and views that no rewriting can reach. They are
// replaced on the machine's connection (SQLite lets application-defined functions override
// built-in ones) by functions driven by the log entry being applied: a pseudo-random stream keyed
// by the entry's term and index, and the entry's leader-stamped time. Outside an entry (local
// queries) they behave like SQLite's own: real entropy and the real clock.
import { createCipheriv, createHash, randomBytes, type Cipher } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { checkTimestamp, sqliteTimeTexts } from './sqlite-time.js';

/** What identifies a log entry and its time, as the leader stamped it. */
export interface EntryStamp {
  index: number | bigint;
  term: number | bigint;
  timestampMs: number;
}

/** SQLite's limit on a string or blob (SQLITE_MAX_LENGTH in better-sqlite3's build). */
const MAX_BLOB_BYTES = 1_000_000_000;
const INT64_MAGNITUDE = (1n << 63n) - 1n;

/** The entropy and clock of the entry being applied; the machine calls enterEntry before each entry and leaveEntry after it. */
export class DeterministicSource {
  private entry: EntryStamp | undefined;
  /** The entry's stream, made at its first random value: most entries use none, and making it costs more than a small insert. */
  private keystream: Cipher | undefined;

  /**
   * From here on, random values come from AES-256-CTR keyed by the entry's term and index (the
   * same bytes on every node, a different stream for every entry) and the time is the entry's.
   */
  enterEntry(entry: EntryStamp): void {
    checkTimestamp(entry.timestampMs); // rejects a time SQLite cannot represent before it is used
    this.entry = entry;
    this.keystream = undefined;
  }

  leaveEntry(): void {
    this.entry = undefined;
    this.keystream = undefined;
  }

  get inEntry(): boolean {
    return this.entry !== undefined;
  }

  nowMs(): number {
    return this.entry?.timestampMs ?? Date.now();
  }

  bytes(n: number): Buffer {
    const entry = this.entry;
    if (!entry) return randomBytes(n);
    if (!this.keystream) {
      const key = createHash('sha256').update(`raftkit-sql/entropy/v1/${entry.term}/${entry.index}`).digest();
      this.keystream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    }
    return this.keystream.update(Buffer.alloc(n));
  }

  /** A 64-bit signed integer like SQLite's random(): never -2^63, which SQLite folds away so that abs() cannot overflow. */
  int64(): bigint {
    const r = this.bytes(8).readBigInt64LE(0);
    return r < 0n ? -(r & INT64_MAGNITUDE) : r;
  }
}

/** An argument converted to an integer the way sqlite3_value_int64 does: numbers truncate, text reads its leading integer, the rest is 0. */
function int64Argument(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : 0;
  if (typeof v === 'bigint') return Number(v);
  const text = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : '';
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Replaces random(), randomblob(N), current_timestamp, current_date and current_time on `db` by functions of `source`. */
export function installDeterministicFunctions(db: Database, source: DeterministicSource): void {
  // Not flagged deterministic, as SQLite's own are not: SQLite then keeps refusing them in CHECK
  // constraints, generated columns and indexes, and evaluates them on every call.
  const options = { deterministic: false, varargs: false };
  db.function('random', options, () => source.int64());
  db.function('randomblob', options, (n: unknown) => {
    const length = Math.max(1, int64Argument(n));
    if (length > MAX_BLOB_BYTES) throw new RangeError('string or blob too big');
    return source.bytes(length);
  });
  // CURRENT_TIMESTAMP and friends compile to calls of functions with these names.
  db.function('current_timestamp', options, () => sqliteTimeTexts(source.nowMs()).timestamp);
  db.function('current_date', options, () => sqliteTimeTexts(source.nowMs()).date);
  db.function('current_time', options, () => sqliteTimeTexts(source.nowMs()).time);
}
