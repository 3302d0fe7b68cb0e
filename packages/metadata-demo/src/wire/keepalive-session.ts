// One LeaseKeepAlive stream, whatever carries it: each request renews its lease and gets one
// response, in the order asked (etcd serves a stream's requests one at a time). A lease that does
// not exist is answered with TTL 0, not an error, as etcd does; any other failure ends the stream
// with its status. When the client ends its side, the stream ends once every answer is out.
import type { Logger } from '@raftkit/framework';
import type { MetaBackend } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { encodeLeaseKeepAlive } from './encode.js';
import type { HeaderCache } from './header-cache.js';
import { leaseId, toBigInt } from './int64.js';
import type { WireLeaseIdRequest, WireLeaseKeepAliveResponse } from './wire-types.js';

export interface KeepAliveTransport {
  /** Sends one response; false when the buffer is full (the session waits for drained()). */
  send(response: WireLeaseKeepAliveResponse): boolean;
  /** Ends the stream with an error status. */
  fail(error: MetaError): void;
  /** Ends the stream normally. */
  end(): void;
  /** Stops and restarts reading requests, so a client that floods renewals waits for its answers. */
  pauseInput(): void;
  resumeInput(): void;
}

/** Requests read ahead of the one being served before reading pauses. */
const MAX_QUEUED = 64;

export class KeepAliveSession {
  private readonly queue: bigint[] = [];
  private readonly abort = new AbortController();
  private running = false;
  private inputEnded = false;
  private inputPaused = false;
  private closed = false;
  private onDrain: (() => void) | undefined;

  constructor(
    private readonly backend: MetaBackend,
    private readonly transport: KeepAliveTransport,
    private readonly headers: HeaderCache,
    private readonly logger: Logger,
  ) {}

  request(w: WireLeaseIdRequest): void {
    if (this.closed || this.inputEnded) return;
    this.queue.push(toBigInt(w.ID));
    if (this.queue.length >= MAX_QUEUED && !this.inputPaused) {
      this.inputPaused = true;
      this.transport.pauseInput();
    }
    void this.pump();
  }

  /** The client ended its side. */
  endInput(): void {
    this.inputEnded = true;
    void this.pump();
  }

  drained(): void {
    const resume = this.onDrain;
    this.onDrain = undefined;
    resume?.();
  }

  /** The stream is gone: stops waiting for the backend and answers nothing more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.drained();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const id = this.queue.shift()!;
        if (this.inputPaused && this.queue.length < MAX_QUEUED / 2) {
          this.inputPaused = false;
          this.transport.resumeInput();
        }
        const response = await this.renew(id);
        if (this.closed) return;
        this.headers.note(response.header);
        if (!this.transport.send(response)) await new Promise<void>((resolve) => (this.onDrain = resolve));
      }
      if (!this.closed && this.inputEnded) {
        this.closed = true;
        this.transport.end();
      }
    } catch (e) {
      if (this.closed) return;
      this.closed = true;
      if (!(e instanceof MetaError)) this.logger.error({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'lease keep-alive: the backend failed');
      this.transport.fail(e instanceof MetaError ? e : new MetaError('internal'));
    } finally {
      this.running = false;
    }
  }

  private async renew(id: bigint): Promise<WireLeaseKeepAliveResponse> {
    try {
      return encodeLeaseKeepAlive(await this.backend.leaseKeepAlive(id, { signal: this.abort.signal }));
    } catch (e) {
      if (e instanceof MetaError && e.code === 'lease_not_found') return { header: this.headers.get(), ID: leaseId(id), TTL: '0' };
      throw e;
    }
  }
}
