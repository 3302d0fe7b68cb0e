import type { AppliedEntry } from './applied-entry.js';
import type { Entry } from '../core/types.js';
import type { GroupStateMachine } from '../host/state-machine.js';
import { AppliedRing } from './applied-ring.js';
import { decodeCommand, encodeCommand, type CommandPayload } from './command-codec.js';
import type { CommandContext } from './command-context.js';
import { CommandErrorResult, DuplicateCommand, errorResultOf } from './command-result.js';
import type { PreparedArgs, ReplicatedMachine } from './replicated-machine.js';
import { RequestTable, type RequestKey } from './request-table.js';
import { RsmError } from './rsm-error.js';
import { SessionTable } from './session-table.js';
import { parseSnapshot, serializeSnapshot, SNAPSHOT_VERSION, type SnapshotEnvelope } from './snapshot-codec.js';
import { randomBytes } from 'node:crypto';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnDiskStateMachine } from './on-disk-state-machine.js';
import { IndexWaiters } from './index-waiters.js';
import { memoryReader, type SnapshotReader } from '../host/snapshot-files.js';
import { SnapshotPin, diskSnapshotChunks, diskSnapshotHead, readDiskSnapshotHead } from './disk-snapshot.js';

export interface StateMachineManagerOptions {
  /**
   * A client session idle for longer than this (in entry time, ms) is dropped as entries apply;
   * a retry after that is applied again. Must be the same on every replica. Default 1 hour.
   */
  sessionTtlMs?: number;
  /** How many applied entries are kept for watches that resume from a recent index. Default 10,000. */
  recentEntries?: number;
  /**
   * How many of the latest applied entries a snapshot carries (up to HISTORY_BYTES of them), so a
   * node restarted from it still shows a watch the entries its log kept behind the snapshot (the
   * host's retained entries). Default 0.
   */
  snapshotHistory?: number;
}

export const DEFAULT_SESSION_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_RECENT_ENTRIES = 10_000;
/** Most bytes (JSON of args and results) of history a snapshot carries; older entries are left out. */
export const HISTORY_BYTES = 4 << 20;

/** A state captured at an applied index; serialising it may take a while and does not block. */
export interface CapturedSnapshot {
  /** Index and term of the last command entry in the captured state (0 when none). */
  readonly index: number;
  readonly term: number;
  /**
   * False for an on-disk machine's metadata-only snapshot (sessions, requests, clock, history:
   * no state), which only this node's restart can use; true otherwise.
   */
  readonly full: boolean;
  /** The snapshot whole (an on-disk machine's too: use it only where it is small). */
  serialize(): Promise<Uint8Array>;
  /** The snapshot in pieces, for a store that writes them as they come; call it or serialize(), once. */
  chunks(): AsyncIterable<Uint8Array>;
  /**
   * Gives up a capture that will not be written (the store failed before reading it): an
   * on-disk machine's pin is released. Harmless after chunks() or serialize() started.
   */
  abandon(): void;
}

/** The result an entry gets when it was applied before a restart, by an on-disk machine's earlier run. */
const REPLAYED = new CommandErrorResult('result_unavailable', 'this entry was applied before the node restarted (its on-disk state already held it); its result was not kept');

/** Exactly-once options of a proposal. */
export interface ProposalSession {
  clientId?: string;
  sequence?: number;
  /** Without a client id: the internal key that makes the command at-most-once (see RequestTable). */
  request?: RequestKey;
}

export type AppliedListener = (entry: AppliedEntry) => void;
export type RestoredListener = (index: number) => void;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Runs `f` once `p` has settled, whichever way: queued work does not depend on the work before it. */
function after<T>(p: Promise<unknown>, f: () => T | Promise<T>): Promise<T> {
  return p.then(f, f);
}

/** A result as it travels, with the length of its JSON (what the watch history is bounded by). */
interface PlainResult {
  value: unknown;
  bytes: number;
}

/** Roughly what an error result's JSON takes. */
const errorBytes = (r: CommandErrorResult): number => r.error.code.length + r.error.message.length + 64;

const failed = (err: unknown): PlainResult => {
  const value = errorResultOf(err);
  return { value, bytes: errorBytes(value) };
};

/** The result as it travels: plain JSON (undefined becomes null), a copy no later change can touch. */
function plainResult(v: unknown): PlainResult {
  if (v === undefined) return { value: null, bytes: 4 };
  if (v instanceof CommandErrorResult) return { value: v, bytes: errorBytes(v) };
  try {
    const s = JSON.stringify(v);
    return s === undefined ? { value: null, bytes: 4 } : { value: JSON.parse(s) as unknown, bytes: s.length };
  } catch (e) {
    const value = new CommandErrorResult('command_failed', `the command's result is not JSON-serialisable: ${(e as Error).message}`);
    return { value, bytes: errorBytes(value) };
  }
}

/**
 * The state machine of one group, as the host sees it: applies committed command entries in
 * order to a ReplicatedMachine, with client sessions for exactly-once commands, snapshots that
 * carry those sessions, queries on the current state, and a feed of applied entries for watches.
 *
 * Apply never throws for a bad entry or a failing handler: each gives a deterministic error
 * result `{ error: { code, message } }` (a CommandErrorResult) that travels to the proposer.
 */
export class StateMachineManager implements GroupStateMachine {
  private sessions: SessionTable;
  /** Internal request keys of commands without a session: a second copy in the log is not applied. */
  private requests: RequestTable;
  private readonly ring: AppliedRing;
  private readonly snapshotHistory: number;
  private readonly sessionTtlMs: number;
  private readonly appliedListeners = new Set<AppliedListener>();
  private readonly indexWaiters = new IndexWaiters();
  private readonly restoredListeners = new Set<RestoredListener>();
  /** Index and term of the last command entry applied (or restored). */
  private lastIndex = 0;
  private lastTerm = 0;
  /** Entry clock: the largest entry timestamp applied; never decreases. */
  private clock = 0;
  /**
   * What this node decoded and converted when it proposed an entry, keyed by the entry's data
   * (the host applies the very bytes it proposed): applying it skips the decode and the
   * conversion. Entries that never apply here (lost leadership) are collected with their bytes.
   */
  private readonly proposed = new WeakMap<Uint8Array, { payload: CommandPayload; prepared: PreparedArgs | undefined }>();
  /** Set while an apply or restore with asynchronous work is running; later calls queue behind it. */
  private pending: Promise<unknown> | undefined;
  /** An on-disk machine's folder, once opened. */
  private diskDir: string | undefined;
  /**
   * The last index an on-disk machine's own state holds: entries up to it are not applied again
   * (only the sessions learn them), since its state already has their effects.
   */
  private diskApplied = 0;
  /**
   * An on-disk machine: the index its own state records now (what `open` answers once that is
   * durable): the last entry whose handler returned, or what open or a restore reported. The
   * entries after it changed nothing (duplicates, bad entries, handlers that threw).
   */
  private stateIndex = 0;

  constructor(
    readonly machine: ReplicatedMachine,
    options: StateMachineManagerOptions = {},
  ) {
    const ttl = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
      throw new RsmError('bad_option', `sessionTtlMs must be a positive number of milliseconds, got ${ttl}`);
    }
    const recent = options.recentEntries ?? DEFAULT_RECENT_ENTRIES;
    if (!Number.isSafeInteger(recent) || recent < 0) {
      throw new RsmError('bad_option', `recentEntries must be an integer >= 0, got ${recent}`);
    }
    const history = options.snapshotHistory ?? 0;
    if (!Number.isSafeInteger(history) || history < 0) {
      throw new RsmError('bad_option', `snapshotHistory must be an integer >= 0, got ${history}`);
    }
    this.snapshotHistory = history;
    this.sessionTtlMs = ttl;
    this.sessions = new SessionTable(ttl);
    this.requests = new RequestTable(ttl);
    this.ring = new AppliedRing(recent, 0);
  }

  get type(): string {
    return this.machine.type;
  }

  /** Index of the last command entry applied (0 before any). */
  get appliedIndex(): number {
    return this.lastIndex;
  }

  /** The entry clock: the largest entry timestamp applied so far. */
  get entryClock(): number {
    return this.clock;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Request keys remembered (over all origins), for metrics and tests. */
  get requestRecordCount(): number {
    return this.requests.records;
  }

  // ------------------------------------------------------------------ proposer side

  /**
   * Checks a command (RaftkitError 'unknown_command' / 'bad_request' naming the field) and
   * encodes its entry; `timestamp` is this leader's clock. Nothing is proposed when it throws.
   */
  prepareCommand(name: string, args: unknown, session: ProposalSession = {}, timestamp = Date.now()): Uint8Array {
    const payload: CommandPayload = { command: name, args, timestamp };
    if (session.clientId !== undefined) payload.clientId = session.clientId;
    if (session.sequence !== undefined) payload.sequence = session.sequence;
    if (session.request !== undefined && session.clientId === undefined) payload.request = session.request;
    const bytes = encodeCommand(payload);
    // Checked as every replica will see it: the entry's JSON, not the caller's object (a Date or
    // an undefined field would convert differently).
    const entry = decodeCommand(bytes);
    const prepared = this.machine.checkCommand(name, entry.args);
    this.proposed.set(bytes, { payload: entry, prepared: prepared ?? undefined });
    return bytes;
  }

  // ------------------------------------------------------------------ apply

  apply(entries: readonly Entry[]): unknown[] | Promise<unknown[]> {
    if (this.pending) return this.track(after(this.pending, () => this.applyNow(entries)));
    const r = this.applyNow(entries);
    return Array.isArray(r) ? r : this.track(r);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending = p;
    const clear = () => {
      if (this.pending === p) this.pending = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private applyNow(entries: readonly Entry[]): unknown[] | Promise<unknown[]> {
    const results: unknown[] = new Array<unknown>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const r = this.applyEntry(entries[i]!);
      if (r instanceof Promise) return this.applyRest(entries, i, r, results);
      results[i] = r;
    }
    this.indexWaiters.release(this.lastIndex);
    return results;
  }

  /** Goes on after the first asynchronous handler: each entry waits for the one before it. */
  private async applyRest(entries: readonly Entry[], at: number, first: Promise<unknown>, results: unknown[]): Promise<unknown[]> {
    results[at] = await first;
    for (let i = at + 1; i < entries.length; i++) results[i] = await this.applyEntry(entries[i]!);
    this.indexWaiters.release(this.lastIndex);
    return results;
  }

  private applyEntry(e: Entry): unknown {
    let payload: CommandPayload;
    const own = this.proposed.get(e.data);
    if (own) {
      this.proposed.delete(e.data);
      payload = own.payload;
    } else {
      try {
        payload = decodeCommand(e.data);
      } catch (err) {
        const bad = new CommandErrorResult('bad_entry', (err as Error).message);
        return this.finish(e, '', null, { value: bad, bytes: errorBytes(bad) });
      }
    }
    this.clock = Math.max(this.clock, payload.timestamp);
    this.sessions.expire(this.clock);
    this.requests.expire(this.clock);
    const { clientId, sequence, request } = payload;
    if (request !== undefined) {
      const verdict = this.requests.admit(request, this.clock);
      if (verdict.kind !== 'new') {
        // Not applied, and not shown to watchers: it changed nothing.
        this.lastIndex = e.index;
        this.lastTerm = e.term;
        if (verdict.kind === 'duplicate') return new DuplicateCommand(verdict.index, verdict.result);
        return new CommandErrorResult(
          'request_expired',
          `request ${request.origin}:${request.seq} committed after its origin had stopped waiting for it (floor ${verdict.floor}); it was not applied`,
        );
      }
    }
    if (clientId !== undefined) {
      const s = this.sessions.get(clientId);
      if (s && sequence! <= s.sequence) {
        this.sessions.touch(s, this.clock);
        // Not applied again, and not shown to watchers: it changed nothing.
        this.lastIndex = e.index;
        this.lastTerm = e.term;
        if (sequence === s.sequence) return new DuplicateCommand(s.index, s.result);
        return new CommandErrorResult('stale_sequence', `sequence ${sequence} of client "${clientId}" is older than its last applied sequence ${s.sequence}`);
      }
    }
    if (e.index <= this.diskApplied) return this.complete(e, payload, { value: REPLAYED, bytes: errorBytes(REPLAYED) });
    const ctx: CommandContext = { index: e.index, term: e.term, timestamp: this.clock };
    let out: unknown;
    try {
      out = this.machine.executeCommand(payload.command, payload.args, ctx, own?.prepared);
    } catch (err) {
      return this.complete(e, payload, failed(err));
    }
    if (isThenable(out)) {
      return Promise.resolve(out).then(
        (v) => this.returned(e, payload, v),
        (err: unknown) => this.complete(e, payload, failed(err)),
      );
    }
    return this.returned(e, payload, out);
  }

  /** A handler returned: an on-disk machine's state records the entry's index (see stateIndex). */
  private returned(e: Entry, payload: CommandPayload, v: unknown): unknown {
    this.stateIndex = e.index;
    return this.complete(e, payload, plainResult(v));
  }

  private complete(e: Entry, payload: CommandPayload, result: PlainResult): unknown {
    if (payload.clientId !== undefined) this.sessions.record(payload.clientId, payload.sequence!, result.value, this.clock, e.index);
    else if (payload.request !== undefined) this.requests.record(payload.request, result.value, e.index);
    return this.finish(e, payload.command, payload.args, result);
  }

  private finish(e: Entry, command: string, args: unknown, plain: PlainResult): unknown {
    const result = plain.value;
    this.lastIndex = e.index;
    this.lastTerm = e.term;
    if (e.index <= this.diskApplied) {
      // Its result is gone: watches start after it rather than show a made-up one.
      this.ring.reset(e.index + 1);
      return result;
    }
    const applied: AppliedEntry = { index: e.index, term: e.term, command, args: args ?? null, result };
    // The entry's bytes hold its args (as JSON) and a little more: a bound without a second stringify.
    this.ring.push(applied, e.data.length + plain.bytes);
    for (const listener of this.appliedListeners) {
      try {
        listener(applied);
      } catch {
        // A watcher's failure must not stop replication; the watcher owns its errors.
      }
    }
    return result;
  }

  // ------------------------------------------------------------------ snapshots

  /**
   * Whether the snapshots taken to compact the log hold no state: an on-disk machine with
   * `sync()`. A follower that needs a snapshot is then sent one captured with `{ full: true }`.
   */
  get metadataSnapshots(): boolean {
    return typeof this.machine.disk?.sync === 'function';
  }

  /**
   * Captures the state synchronously at the applied index (the user's `@Snapshot`, or the
   * default copy of the instance's fields) together with the sessions; serialising it is
   * asynchronous and does not block the event loop for long. Throws RsmError 'busy' while an
   * asynchronous command is being applied, 'snapshot_failed' when the capture fails.
   *
   * An on-disk machine with `sync()` gives a metadata-only snapshot unless `full` is set: the
   * envelope without the state, written only once `sync()` made the machine's state durable
   * (its chunks call it first). Otherwise it pins its state (`prepareSnapshot`).
   */
  captureSnapshot(o: { full?: boolean } = {}): CapturedSnapshot {
    if (this.pending) {
      throw new RsmError('busy', `state machine "${this.type}" is applying an asynchronous command; capture a snapshot after apply() has settled`);
    }
    const disk = this.machine.disk;
    if (disk && this.lastIndex < this.diskApplied) {
      throw new RsmError('busy', `state machine "${this.type}" is still going over entries its on-disk state holds (up to ${this.diskApplied})`);
    }
    const metadataOnly = disk !== undefined && o.full !== true && this.metadataSnapshots;
    let state: unknown;
    let pinned: unknown;
    try {
      if (metadataOnly) state = undefined;
      else if (disk) pinned = disk.prepareSnapshot();
      else state = this.machine.captureState();
    } catch (e) {
      if (e instanceof RsmError) throw e;
      throw new RsmError('snapshot_failed', `state machine "${this.type}" could not capture its state: ${(e as Error).message}`);
    }
    const envelope: SnapshotEnvelope = {
      version: SNAPSHOT_VERSION,
      type: this.type,
      index: this.lastIndex,
      term: this.lastTerm,
      clock: this.clock,
      sessions: this.sessions.toTuples(),
      requests: this.requests.toTuples(),
      state,
    };
    if (this.snapshotHistory > 0) envelope.history = this.latestHistory();
    if (disk) envelope.stateIndex = Math.min(this.stateIndex, this.lastIndex);
    const { index, term } = envelope;
    const serializeEnvelope = async () => {
      try {
        return await serializeSnapshot(envelope);
      } catch (e) {
        throw new RsmError('snapshot_failed', `snapshot of state machine "${this.type}" is not JSON-serialisable: ${(e as Error).message}`);
      }
    };
    if (disk) {
      const pin = metadataOnly ? undefined : new SnapshotPin(disk, pinned);
      const chunks = () => (pin ? this.diskChunks(disk, pin, index, serializeEnvelope) : this.metadataChunks(disk, serializeEnvelope));
      return {
        index,
        term,
        full: !metadataOnly,
        chunks,
        abandon: () => pin?.abandon(),
        serialize: async () => {
          const parts: Uint8Array[] = [];
          for await (const c of chunks()) parts.push(c);
          return Buffer.concat(parts);
        },
      };
    }
    return {
      index,
      term,
      full: true,
      serialize: serializeEnvelope,
      async *chunks() {
        yield await serializeEnvelope();
      },
      abandon: () => undefined,
    };
  }

  private async *diskChunks(disk: OnDiskStateMachine, pin: SnapshotPin, index: number, envelope: () => Promise<Uint8Array>): AsyncGenerator<Uint8Array> {
    pin.started = true;
    try {
      const dir = this.diskDir;
      if (dir === undefined) throw new RsmError('snapshot_failed', `on-disk state machine "${this.type}" was not opened`);
      const env = await envelope();
      yield* diskSnapshotChunks(env, async () => {
        const file = join(dir, `.snapshot-${index}-${randomBytes(4).toString('hex')}`);
        pin.handOver();
        try {
          await disk.saveSnapshot(pin.pinned, file);
        } catch (e) {
          await unlink(file).catch(() => undefined);
          throw new RsmError('snapshot_failed', `on-disk state machine "${this.type}" could not save its snapshot: ${(e as Error).message}`);
        }
        return file;
      });
    } finally {
      // saveSnapshot releases the pin; if it was never reached, it still must be.
      pin.release();
    }
  }

  /**
   * A metadata-only snapshot's pieces: the machine's state is made durable first (sync), so the
   * snapshot, once written, may become the log's base.
   */
  private async *metadataChunks(disk: OnDiskStateMachine, envelope: () => Promise<Uint8Array>): AsyncGenerator<Uint8Array> {
    const env = await envelope();
    try {
      await disk.sync!();
    } catch (e) {
      throw new RsmError('snapshot_failed', `on-disk state machine "${this.type}" could not make its state durable (sync): ${(e as Error).message}`);
    }
    yield diskSnapshotHead(env, true);
    yield env;
  }

  /** The ring's entries among the latest `snapshotHistory` indexes, newest first up to HISTORY_BYTES. */
  private latestHistory(): NonNullable<SnapshotEnvelope['history']> {
    return this.ring.newest(Math.max(this.lastIndex - this.snapshotHistory + 1, 1), HISTORY_BYTES);
  }

  async snapshot(): Promise<Uint8Array> {
    while (this.pending) await this.pending.catch(() => undefined);
    return this.captureSnapshot().serialize();
  }

  /**
   * Replaces the state (user state, sessions, entry clock) with a snapshot's. The snapshot is
   * checked in full before anything changes; bad data throws RsmError 'bad_snapshot'. The
   * applied-entry ring restarts with the history the snapshot carried (or after its index) and
   * restore listeners are told.
   */
  restore(data: Uint8Array): Promise<void> {
    return this.restoreFrom(memoryReader(data));
  }

  /**
   * As restore(), from a stored snapshot read in pieces: an on-disk machine's state file is
   * copied out of it into the machine's folder and handed to recoverFromSnapshot, never held in
   * memory. With `atStart` (the node restarts from its own snapshot), an on-disk machine whose
   * state already holds the snapshot's state (its stateIndex) keeps its state; only the sessions
   * are restored. A metadata-only snapshot restores only at start, and only a machine whose state
   * holds it (RsmError 'state_behind' otherwise: the entries it lacks are gone).
   */
  restoreFrom(reader: SnapshotReader, o: { atStart?: boolean } = {}): Promise<void> {
    if (this.pending) return this.track(after(this.pending, () => this.restoreNow(reader, o.atStart === true)));
    return this.track(this.restoreNow(reader, o.atStart === true));
  }

  private async restoreNow(reader: SnapshotReader, atStart: boolean): Promise<void> {
    const head = await readDiskSnapshotHead(reader);
    const disk = this.machine.disk;
    if ((head !== undefined) !== (disk !== undefined)) {
      throw new RsmError(
        'bad_snapshot',
        `snapshot of ${head ? 'an on-disk' : 'an in-memory'} state machine cannot restore "${this.type}", which is ${disk ? 'on disk' : 'in memory'}`,
      );
    }
    const env = parseSnapshot(head ? head.envelope : await reader.read(0, reader.length), this.type);
    const sessions = SessionTable.fromTuples(this.sessionTtlMs, env.sessions);
    const requests = RequestTable.fromTuples(this.sessionTtlMs, env.requests);
    // What the state of a snapshot written before stateIndex existed records: its index at most.
    const stateIndex = env.stateIndex ?? env.index;
    if (disk && head?.metadataOnly) this.checkStateHolds(env.index, stateIndex, atStart);
    try {
      if (disk && head) {
        if (head.metadataOnly || (atStart && this.diskApplied >= stateIndex)) this.stateIndex = this.diskApplied;
        else await this.recoverDisk(disk, reader, head.stateOffset, env.index, stateIndex);
      } else {
        await this.machine.restoreState(env.state);
      }
    } catch (e) {
      if (e instanceof RsmError) throw e;
      throw new RsmError('bad_snapshot', `state machine "${this.type}" could not restore the snapshot's state: ${(e as Error).message}`);
    }
    this.sessions = sessions;
    this.requests = requests;
    this.lastIndex = env.index;
    this.lastTerm = env.term;
    this.clock = env.clock;
    this.ring.reset(env.history ? env.history.from : env.index + 1);
    for (const e of env.history?.entries ?? []) this.ring.push(e, e.command.length + 64 + (JSON.stringify(e.args)?.length ?? 4) + (JSON.stringify(e.result)?.length ?? 4));
    if (this.diskApplied > env.index) this.ring.reset(this.diskApplied + 1);
    for (const listener of this.restoredListeners) {
      try {
        listener(env.index);
      } catch {
        // as for applied listeners
      }
    }
    this.indexWaiters.release(this.lastIndex);
  }

  /** A metadata-only snapshot can stand for the state only at start, and only if the machine's own state holds it. */
  private checkStateHolds(index: number, stateIndex: number, atStart: boolean): void {
    if (!atStart) {
      throw new RsmError(
        'bad_snapshot',
        `snapshot ${index} of on-disk state machine "${this.type}" holds no state (a snapshot taken to compact the log): only the node that took it can restart from it`,
      );
    }
    if (this.diskApplied >= stateIndex) return;
    throw new RsmError(
      'state_behind',
      `on-disk state machine "${this.type}" holds entries up to index ${this.diskApplied} (what open() reported), but the log starts after a snapshot at index ${index} that holds no state and needs the machine's state at index ${stateIndex} or later: the entries in between are gone. Its files were lost or are older than that snapshot; restore them, or remove this node's data and add it to the group again`,
    );
  }

  /** Copies the state file out of the snapshot (checksum verified) and has the machine take it. */
  private async recoverDisk(disk: OnDiskStateMachine, reader: SnapshotReader, from: number, index: number, stateIndex: number): Promise<void> {
    const dir = this.diskDir;
    if (dir === undefined) throw new RsmError('bad_snapshot', `on-disk state machine "${this.type}" was not opened`);
    const file = join(dir, `.restore-${index}-${randomBytes(4).toString('hex')}`);
    try {
      await reader.copyTo(file, from);
      await disk.recoverFromSnapshot(file);
    } finally {
      await unlink(file).catch(() => undefined);
    }
    this.diskApplied = index;
    this.stateIndex = stateIndex;
  }

  /**
   * Opens an on-disk machine's state in `dir` (nothing for an in-memory machine). The entries
   * its state already holds are then not applied again.
   */
  async open(dir: string): Promise<void> {
    const disk = this.machine.disk;
    if (!disk) return;
    let applied: number;
    try {
      await mkdir(dir, { recursive: true });
      applied = await disk.open(dir);
    } catch (e) {
      throw new RsmError('open_failed', `on-disk state machine "${this.type}" could not open ${dir}: ${(e as Error).message}`);
    }
    if (!Number.isSafeInteger(applied) || applied < 0) {
      throw new RsmError('open_failed', `on-disk state machine "${this.type}" reported ${String(applied)} as its applied index; it must be an integer >= 0`);
    }
    this.diskDir = dir;
    this.diskApplied = applied;
    this.stateIndex = applied;
  }

  /** Closes an on-disk machine's state (after what is being applied). */
  async close(): Promise<void> {
    while (this.pending) await this.pending.catch(() => undefined);
    await this.machine.disk?.close();
  }

  /** Whether the machine keeps its own durable state (in files of its own). */
  get keepsFiles(): boolean {
    return this.machine.disk !== undefined;
  }

  // ------------------------------------------------------------------ reads and watches

  /** Runs a `@Query` on the current state (after any command being applied has finished). */
  /**
   * Checks a query before it waits for anything (RaftkitError 'unknown_query' / 'bad_request'),
   * so a query that would be refused costs no read-index round; pass the result to `query`.
   */
  prepareQuery(name: string, args: unknown): PreparedArgs | undefined {
    return this.machine.checkQuery?.(name, args) ?? undefined;
  }

  async query(name: string, args: unknown, prepared?: PreparedArgs): Promise<unknown> {
    while (this.pending) await this.pending.catch(() => undefined);
    return await this.machine.executeQuery(name, args, prepared);
  }

  /**
   * Calls `listener` with every command entry applied from now on, in index order. Subscribing
   * right after `recent(from)` in the same synchronous block leaves no gap. Returns an unsubscribe.
   */
  onApplied(listener: AppliedListener): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  /**
   * Resolves true once a command entry at `index` or later is applied here (at once if it is),
   * false after `timeoutMs`.
   */
  whenApplied(index: number, timeoutMs: number): Promise<boolean> {
    return this.indexWaiters.wait(index, this.lastIndex, timeoutMs);
  }

  /** Calls `listener` with the snapshot's index whenever the state is replaced by a snapshot. */
  onRestored(listener: RestoredListener): () => void {
    this.restoredListeners.add(listener);
    return () => this.restoredListeners.delete(listener);
  }

  /**
   * The applied command entries with index >= from, if the ring still holds all of them (an
   * empty list when none was applied yet from there); undefined when some were evicted.
   */
  recent(from: number): AppliedEntry[] | undefined {
    return this.ring.from(from);
  }

  /** The lowest index `recent()` can answer from. */
  get recentFrom(): number {
    return this.ring.coveredFrom;
  }
}
