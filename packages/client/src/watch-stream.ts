import { Backoff, sleep } from './backoff.js';
import type { WatchEvent } from './client-events.js';
import type { Closer } from './closer.js';
import type { ResolvedOptions } from './client-options.js';
import { webSocketUrl } from './endpoints.js';
import type { LeaderRouter } from './leader-router.js';
import { errorFromBody, RaftClientError } from './raft-client-error.js';
import { openWatchSocket, type WatchSocket } from './watch-socket.js';
import type { FetchLikeResponse } from './tls-fetch.js';

export interface WatchOptions {
  /**
   * First log index to deliver. Default: the next index the first node connected to will apply
   * (read from its `/v1/status`), so even a watch that reconnects before its first entry has no gap.
   */
  from?: number;
  /** Ends the iteration (without an error) when it fires. */
  signal?: AbortSignal;
  /** Node only: reconnect when nothing (entry or ping) arrived for this long (default 45 000 ms; 0: never). */
  idleTimeoutMs?: number;
}

/** A connection that lived this long (or delivered an entry) counts as healthy for the reconnect deadline. */
const HEALTHY_MS = 1_000;

/**
 * Applied entries of a group, as an async iterator that survives node failures: when the
 * connection closes or fails it reconnects to another node and resumes from the last index
 * delivered + 1, dropping anything below it, so the consumer sees every entry from `from` on
 * exactly once and in order. `break` (or `close()`) closes the socket.
 *
 * Ends with a RaftClientError: `compacted` (410, `firstIndex`) when every endpoint has compacted
 * the next index away; `deadline_exceeded` when no node could be reached for the client's
 * `deadlineMs`; the server's code for other 4xx refusals (`unauthorized`, `unknown_group`).
 */
export class WatchStream<E> implements AsyncIterableIterator<E> {
  private readonly stop: () => void;
  private readonly gen: AsyncGenerator<E, void, undefined>;
  private last: number | undefined;
  private cleanup: (() => void) | undefined;

  /** @internal Created by GroupClient.watch. */
  constructor(
    private readonly group: string,
    private readonly opts: ResolvedOptions,
    private readonly router: LeaderRouter,
    closer: Closer,
    private readonly watchOpts: WatchOptions,
    onEnd: () => void,
  ) {
    const from = watchOpts.from;
    if (from !== undefined && (!Number.isSafeInteger(from) || from < 1)) throw new RangeError(`watch from must be a log index, an integer >= 1, got ${String(from)}`);
    const { signal, abort, release } = closer.open(watchOpts.signal);
    this.stop = abort;
    this.cleanup = () => {
      this.cleanup = undefined;
      release();
      onEnd();
    };
    this.gen = this.run(signal);
  }

  /** Index of the last entry delivered, if any. */
  get lastIndex(): number | undefined {
    return this.last;
  }

  next(): Promise<IteratorResult<E, undefined>> {
    return this.gen.next() as Promise<IteratorResult<E, undefined>>;
  }

  /** Called by `break`: closes the socket and ends the iteration. */
  async return(): Promise<IteratorResult<E, undefined>> {
    this.stop();
    await this.gen.return(undefined);
    this.cleanup?.(); // a generator that never started skips its finally
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Closes the socket; a pending or later `next()` ends the iteration. */
  close(): void {
    void this.return();
  }

  private emit(e: Omit<WatchEvent, 'type' | 'group'>): void {
    try {
      this.opts.onEvent?.({ type: 'watch', group: this.group, ...e });
    } catch {
      // diagnostics only
    }
  }

  private async *run(signal: AbortSignal): AsyncGenerator<E, void, undefined> {
    const endpoints = this.router.endpoints;
    const backoff = new Backoff(this.opts.backoff.initialMs, this.opts.backoff.maxMs);
    const idleTimeoutMs = this.watchOpts.idleTimeoutMs ?? 45_000;
    let next = this.watchOpts.from;
    let url = this.router.anyTarget();
    /** Endpoints that answered `compacted` for the current `next`. */
    const compacted = new Set<string>();
    let failingSince: number | undefined;
    let last: RaftClientError | undefined;
    const failed = (e: RaftClientError, healthy: boolean, down: boolean) => {
      last = e;
      if (failingSince === undefined || healthy) failingSince = Date.now();
      this.router.failed(url, down);
      url = this.pick(url, compacted);
    };
    try {
      for (;;) {
        if (signal.aborted) return;
        if (failingSince !== undefined && Date.now() - failingSince >= this.opts.deadlineMs) {
          throw new RaftClientError(
            'deadline_exceeded',
            `watch of group ${JSON.stringify(this.group)} could not reach any node within ${this.opts.deadlineMs} ms; last error: ${last?.code}: ${last?.message}`,
            {
              ...(last?.status !== undefined ? { status: last.status } : {}),
              details: { ...(next !== undefined ? { from: next } : {}), ...(last ? { lastCode: last.code } : {}) },
              cause: last,
              retryable: true,
            },
          );
        }
        let sock: WatchSocket;
        let from: number;
        try {
          from = next ?? (await this.startIndex(url, signal));
          sock = await openWatchSocket(webSocketUrl(url, `/v1/groups/${encodeURIComponent(this.group)}/watch?from=${from}`), {
            token: this.opts.token,
            ...(this.opts.tls ? { tls: this.opts.tls } : {}),
            openTimeoutMs: this.opts.attemptTimeoutMs,
            idleTimeoutMs,
          });
        } catch (e) {
          if (signal.aborted) return;
          const err = e instanceof RaftClientError ? e : new RaftClientError('network', String(e), { cause: e, retryable: true });
          this.emit({ url, outcome: 'fail', from: next ?? 0, ...(err.status !== undefined ? { code: err.status } : {}), reason: err.message });
          if (!err.retryable) throw err;
          failed(err, false, err.status === undefined);
          await sleep(backoff.next(), signal);
          continue;
        }
        next = from;
        this.emit({ url, outcome: 'open', from });
        const openedAt = Date.now();
        let delivered = false;
        try {
          for (;;) {
            const ev = await sock.next(signal);
            if (ev.type === 'aborted') return;
            if (ev.type === 'message') {
              const entry = parseEntry(ev.data);
              if (entry.index < next) continue;
              next = entry.index + 1;
              this.last = entry.index;
              delivered = true;
              failingSince = undefined;
              compacted.clear();
              backoff.reset();
              yield entry as E;
              continue;
            }
            this.emit({ url, outcome: 'close', from, code: ev.code, reason: ev.reason });
            const err = closeError(ev.code, ev.reason, url);
            if (ev.code === 4410) {
              compacted.add(url);
              if (compacted.size >= endpoints.length) throw err;
              // Another node may still hold the entries (this one restarted from a snapshot).
              last = err;
              url = this.pick(url, compacted);
              break;
            }
            if (!err.retryable) throw err;
            failed(err, delivered || Date.now() - openedAt >= HEALTHY_MS, ev.code === 1006);
            break;
          }
        } finally {
          sock.close();
        }
        await sleep(backoff.next(), signal);
      }
    } finally {
      this.cleanup?.();
    }
  }

  /** The next endpoint after `from` that is neither down nor known to have compacted `next`. */
  private pick(from: string, compacted: Set<string>): string {
    const endpoints = this.router.endpoints;
    const start = Math.max(0, endpoints.indexOf(from));
    const candidates = endpoints.map((_, k) => endpoints[(start + 1 + k) % endpoints.length]!).filter((u) => !compacted.has(u));
    return candidates.find((u) => !this.router.isDown(u)) ?? candidates[0] ?? from;
  }

  /** The node's applied index + 1 for this group, from `GET /v1/status`. */
  private async startIndex(url: string, signal: AbortSignal): Promise<number> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token !== undefined) headers['authorization'] = `Bearer ${this.opts.token}`;
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    const timer = setTimeout(onAbort, this.opts.attemptTimeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    let res: FetchLikeResponse;
    let body: unknown;
    try {
      res = await this.opts.sender.fetch(`${url}/v1/status`, { headers, signal: controller.signal });
      body = await res.json().catch(() => undefined);
    } catch (e) {
      throw new RaftClientError('network', `${url}/v1/status: ${(e as Error).message}`, { cause: e, retryable: true });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    if (res.status !== 200) throw errorFromBody(res.status, body, res.status === 408 || res.status >= 500);
    const groups = (body as { groups?: { group?: unknown; applied?: unknown }[] } | undefined)?.groups;
    const g = Array.isArray(groups) ? groups.find((x) => x.group === this.group) : undefined;
    if (!g) throw new RaftClientError('unknown_group', `node ${url} has no group ${JSON.stringify(this.group)}`, { status: 404 });
    if (typeof g.applied !== 'number') throw new RaftClientError('bad_response', `${url}/v1/status has no applied index for group ${JSON.stringify(this.group)}`);
    return g.applied + 1;
  }
}

function parseEntry(text: string): { index: number } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || typeof (v as { index?: unknown }).index !== 'number') {
    throw new RaftClientError('bad_response', `the watch stream sent something that is not an entry: ${text.slice(0, 200)}`);
  }
  return v as { index: number };
}

/**
 * The error of a close. Codes 4000 + HTTP status carry the server's JSON error as the reason;
 * 4xx (but 408) are final, everything else (4408 slow consumer, 4503, 1001 going away, 1006
 * abnormal closure, ...) is worth a reconnect.
 */
function closeError(code: number, reason: string, url: string): RaftClientError {
  let body: unknown;
  try {
    body = JSON.parse(reason);
  } catch {
    body = undefined;
  }
  if (code === 4408) return errorFromBody(503, body ?? { error: 'slow_consumer', message: 'the watch fell behind' }, true);
  if (code >= 4000 && code < 5000) {
    const status = code - 4000;
    const retryable = !(status >= 400 && status < 500) || status === 408;
    if (body !== undefined) return errorFromBody(status, body, retryable);
    return new RaftClientError(retryable ? 'unavailable' : `http_${status}`, `watch ${url} closed with ${code}`, { status, retryable });
  }
  return new RaftClientError('network', `watch ${url} closed with ${code}${reason ? `: ${reason}` : ''}`, { retryable: true });
}
