import { Backoff, sleep } from './backoff.js';
import type { AttemptEvent } from './client-events.js';
import type { ResolvedOptions } from './client-options.js';
import { httpAttempt, type AnswerReader } from './http-attempt.js';
import type { Closer } from './closer.js';
import type { LeaderRouter } from './leader-router.js';
import { RaftClientError } from './raft-client-error.js';

/** One call (a command, a query or a schema read), as the retry loop sees it. */
export interface CallSpec<T> {
  kind: 'command' | 'query' | 'schema';
  group: string;
  /** The operation's name (`schema` for a schema read). */
  name: string;
  /** Path and query string, e.g. `/v1/groups/kv/queries/get?consistency=lease`. */
  path: string;
  /** POST: the arguments, sent as JSON (`{}` when undefined). GET: sends no body. */
  method: 'POST' | 'GET';
  args?: unknown;
  answer: AnswerReader<T>;
  /** Commands and linearizable/lease reads: sent to the leader with `X-Raft-No-Forward: 1`. */
  leaderOnly: boolean;
  /** Exactly-once session of a command: the same on every attempt of the call. */
  session?: { clientId: string; sequence: number };
  deadlineMs: number;
  signal?: AbortSignal;
}

/** After this many 421s in a row the loop stops following hints at once and backs off. */
const FREE_REDIRECTS = 2;

/**
 * The retry loop of commands and queries: leader routing from 421 hints, failover to other
 * endpoints on connection errors and 503s, exponential backoff with jitter, one deadline for
 * the whole call. A command's retries carry the same client id and sequence, so the server
 * applies it at most once.
 */
export class RequestRunner {
  constructor(
    private readonly opts: ResolvedOptions,
    private readonly router: LeaderRouter,
    private readonly closer: Closer,
  ) {}

  async run<T>(spec: CallSpec<T>): Promise<T> {
    if (this.closer.closed) throw closedError();
    const body = spec.method === 'POST' ? encodeArgs(spec.args) : undefined;
    const start = Date.now();
    const deadline = start + spec.deadlineMs;
    const backoff = new Backoff(this.opts.backoff.initialMs, this.opts.backoff.maxMs);
    const { signal, release } = this.closer.open(spec.signal);
    let attempt = 0;
    let last: RaftClientError | undefined;
    let redirects = 0;
    /** The leader named by the hints is unreachable from here: let a live node forward instead. */
    let forward = false;
    try {
      for (;;) {
        if (signal.aborted) throw this.abortError(spec.signal);
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw deadlineExceeded(spec, attempt, last);
        const noForward = spec.leaderOnly && !forward;
        const url = noForward ? this.router.leaderTarget(spec.group) : this.router.anyTarget();
        const headers: Record<string, string> = body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' };
        if (this.opts.token !== undefined) headers['authorization'] = `Bearer ${this.opts.token}`;
        if (noForward) headers['x-raft-no-forward'] = '1';
        if (spec.session) {
          headers['x-raft-client-id'] = spec.session.clientId;
          headers['x-raft-sequence'] = String(spec.session.sequence);
        }
        attempt++;
        const t0 = Date.now();
        const cutByDeadline = remaining <= this.opts.attemptTimeoutMs;
        const out = await httpAttempt({
          url: url + spec.path,
          headers,
          body,
          answer: spec.answer,
          timeoutMs: Math.min(remaining, this.opts.attemptTimeoutMs),
          signal,
          fetch: this.opts.sender.fetch,
        });
        this.emit({
          type: 'attempt',
          kind: spec.kind,
          group: spec.group,
          name: spec.name,
          url,
          attempt,
          outcome: out.kind,
          ...(out.status !== undefined ? { status: out.status } : {}),
          ...(out.kind !== 'ok' ? { code: out.error.code } : {}),
          noForward,
          ...(out.kind === 'ok' && out.forwardedTo !== undefined ? { forwardedTo: out.forwardedTo } : {}),
          ...(spec.session ? { clientId: spec.session.clientId, sequence: spec.session.sequence } : {}),
          durationMs: Date.now() - t0,
        });
        switch (out.kind) {
          case 'ok':
            if (noForward) this.router.learnLeader(spec.group, url);
            return out.value;
          case 'fail':
            if (out.error.code === 'aborted') throw this.abortError(spec.signal);
            throw out.error;
          case 'redirect': {
            last = out.error;
            forward = false;
            this.router.forgetLeader(spec.group, url);
            const hint = out.leaderUrl;
            if (hint !== undefined && hint !== url) {
              if (this.router.isDown(hint)) forward = true;
              else this.router.learnLeader(spec.group, hint);
              if (++redirects <= FREE_REDIRECTS) continue;
            } else {
              // No usable hint (no leader known right now): ask another node after a pause.
              this.router.failed(url, false);
            }
            break;
          }
          case 'retry':
            // Cut short by the call's own deadline: that says nothing about the node, and the
            // error before it (a 503, say) explains the failure better.
            if (out.timedOut && cutByDeadline) throw deadlineExceeded(spec, attempt, last ?? out.error);
            last = out.error;
            forward = false;
            this.router.failed(url, out.down);
            this.router.forgetLeader(spec.group, url);
            break;
        }
        redirects = 0;
        await sleep(Math.min(backoff.next(), deadline - Date.now()), signal);
      }
    } finally {
      release();
    }
  }

  private abortError(callerSignal: AbortSignal | undefined): RaftClientError {
    if (this.closer.closed) return closedError();
    return new RaftClientError('aborted', 'the call was aborted by its signal', { cause: callerSignal?.reason });
  }

  private emit(e: AttemptEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // a diagnostics hook must not break calls
    }
  }
}

function encodeArgs(args: unknown): string {
  try {
    return JSON.stringify(args === undefined ? {} : args);
  } catch (e) {
    throw new TypeError(`the arguments are not JSON-serialisable: ${(e as Error).message}`);
  }
}

export function closedError(): RaftClientError {
  return new RaftClientError('closed', 'the RaftClient was closed; create a new one');
}

function deadlineExceeded(spec: CallSpec<unknown>, attempts: number, last: RaftClientError | undefined): RaftClientError {
  const what = spec.kind === 'schema' ? `the schema of group ${JSON.stringify(spec.group)}` : `${spec.kind} ${JSON.stringify(spec.name)} of group ${JSON.stringify(spec.group)}`;
  const maybe = spec.kind === 'command' ? ' (it may still be applied: its outcome is unknown)' : '';
  const lastText = last ? `; last error: ${last.code}: ${last.message}` : '';
  return new RaftClientError('deadline_exceeded', `${what} did not succeed within ${spec.deadlineMs} ms after ${attempts} attempt(s)${maybe}${lastText}`, {
    ...(last?.status !== undefined ? { status: last.status } : {}),
    details: { attempts, ...(last ? { lastCode: last.code } : {}) },
    cause: last,
    retryable: true,
  });
}
