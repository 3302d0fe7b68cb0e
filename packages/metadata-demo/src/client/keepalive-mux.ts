// Every keep-alive of a client on one LeaseKeepAlive stream: a request carries a lease id, the
// server answers each request once and in order, so an answer goes to the oldest request of its
// lease still waiting. A renewal may be sent again (renewing twice is renewing), so when the
// stream breaks, or an answer takes longer than the attempt timeout (the node may be paused),
// the stream is dropped and the waiting renewals go out again on the next endpoint, until their
// deadline.
import { Metadata, type ClientDuplexStream } from '@grpc/grpc-js';
import type { LeaseKeepAliveResponse } from '../api/etcd-types.js';
import type { CallOptions } from '../api/meta-backend.js';
import { GrpcStatus, MetaError } from '../api/meta-error.js';
import { decodeLeaseKeepAliveResponse } from '../wire/decode-responses.js';
import { leaseId } from '../wire/int64.js';
import type { Endpoints } from './endpoints.js';
import { isStatusLike, mayRetry, metaErrorOfStatus, type StatusLike } from './errors.js';
import { CYCLE_PAUSE_MS, closedError, methodOf, sleep, type CallSettings } from './unary.js';

interface Waiter {
  resolve(r: LeaseKeepAliveResponse): void;
  reject(e: unknown): void;
}

interface OpenStream {
  call: ClientDuplexStream<object, unknown>;
  endpoint: number;
  waiting: Map<string, Waiter[]>;
  broken: boolean;
}

/** The stream broke (or was dropped) under a waiting renewal: send it again elsewhere. */
class StreamBroken extends Error {
  constructor(readonly status: StatusLike) {
    super(status.details);
  }
}

export class KeepAliveMux {
  private current: OpenStream | undefined;
  private opening: Promise<OpenStream | undefined> | undefined;
  private closed = false;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly settings: CallSettings,
  ) {}

  close(): void {
    this.closed = true;
    if (this.current) this.drop(this.current, { code: GrpcStatus.CANCELLED, details: 'the client was closed' });
  }

  async renew(id: bigint, o: CallOptions | undefined): Promise<LeaseKeepAliveResponse> {
    const deadline = o?.deadline ?? Date.now() + this.settings.callTimeoutMs;
    const signal = o?.signal;
    let failuresInRow = 0;
    let last: StatusLike | undefined;
    for (;;) {
      if (this.closed) throw closedError();
      if (signal?.aborted) throw new MetaError('canceled');
      const now = Date.now();
      if (now >= deadline) throw last ? metaErrorOfStatus(last) : new MetaError('timeout');
      if (failuresInRow > 0 && failuresInRow % this.endpoints.size === 0) await sleep(Math.min(CYCLE_PAUSE_MS, deadline - now));
      const s = await this.stream(deadline);
      if (!s) {
        last = { code: GrpcStatus.UNAVAILABLE, details: 'No connection established' };
        failuresInRow++;
        continue;
      }
      const attemptDeadline = Math.min(deadline, Date.now() + this.settings.attemptTimeoutMs);
      try {
        return await this.send(s, id, attemptDeadline, signal);
      } catch (e) {
        if (!(e instanceof StreamBroken)) throw e;
        if (!mayRetry(e.status, 'renew')) throw metaErrorOfStatus(e.status);
        last = e.status;
        failuresInRow++;
      }
    }
  }

  private send(s: OpenStream, id: bigint, deadline: number, signal: AbortSignal | undefined): Promise<LeaseKeepAliveResponse> {
    return new Promise((resolve, reject) => {
      const key = leaseId(id);
      const queue = s.waiting.get(key) ?? [];
      s.waiting.set(key, queue);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
      };
      const waiter: Waiter = {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = () => waiter.reject(new MetaError('canceled'));
      // No answer in time: the node may be stuck; the stream is dropped and the renewal tried elsewhere.
      const timer = setTimeout(
        () => {
          const status = { code: GrpcStatus.UNAVAILABLE, details: `no keep-alive answer from ${this.endpoints.addresses[s.endpoint]} in time` };
          this.drop(s, status);
          waiter.reject(new StreamBroken(status));
        },
        Math.max(0, deadline - Date.now()),
      );
      if (s.broken) return waiter.reject(new StreamBroken({ code: GrpcStatus.UNAVAILABLE, details: 'the keep-alive stream broke' }));
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      s.call.write({ ID: key });
    });
  }

  /** The open stream, or a new one on the current endpoint (undefined when it has no connection). */
  private stream(deadline: number): Promise<OpenStream | undefined> {
    if (this.current && !this.current.broken) return Promise.resolve(this.current);
    this.opening ??= this.open(deadline).finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(deadline: number): Promise<OpenStream | undefined> {
    const i = this.endpoints.current;
    const ok = await this.endpoints.ready(i, Math.min(this.settings.connectTimeoutMs, deadline - Date.now()));
    if (this.closed) return undefined;
    if (!ok) {
      this.endpoints.failover(i);
      return undefined;
    }
    const method = methodOf('Lease', 'LeaseKeepAlive');
    const call = this.endpoints.client(i).makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, new Metadata(), {});
    const s: OpenStream = { call, endpoint: i, waiting: new Map(), broken: false };
    call.on('data', (raw: unknown) => {
      const r = decodeLeaseKeepAliveResponse(raw);
      s.waiting.get(leaseId(r.id))?.[0]?.resolve(r);
    });
    call.on('error', (e: unknown) => this.drop(s, isStatusLike(e) ? e : { code: GrpcStatus.UNAVAILABLE, details: String(e) }));
    call.on('end', () => this.drop(s, { code: GrpcStatus.UNAVAILABLE, details: 'the server ended the keep-alive stream' }));
    call.on('close', () => this.drop(s, { code: GrpcStatus.UNAVAILABLE, details: 'the keep-alive stream closed' }));
    this.current = s;
    return s;
  }

  /** Ends a stream: its waiting renewals are sent again (or fail, by `status`). */
  private drop(s: OpenStream, status: StatusLike): void {
    if (s.broken) return;
    s.broken = true;
    if (this.current === s) this.current = undefined;
    if (!this.closed) this.endpoints.failover(s.endpoint);
    s.call.cancel();
    for (const queue of s.waiting.values()) for (const w of [...queue]) w.reject(this.closed ? closedError() : new StreamBroken(status));
  }
}
