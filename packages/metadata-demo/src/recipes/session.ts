// A lease kept alive for as long as the session lives (etcd's concurrency.Session): what the
// mutex, the election and the registry hang their keys on, so a crashed holder's keys go when
// its lease expires. Keep-alives go every ttl/3; a keep-alive that finds the lease gone (or
// failures past the lease's expiry) ends the session, and `done` tells the owner it lost
// everything bound to it.
import type { MetaBackend } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';

export interface SessionOptions {
  /** Seconds (default 60, as etcd's). */
  ttl?: number;
  /** Use this lease instead of granting one (it is still revoked by close()). */
  lease?: bigint;
}

export class Session {
  /** Resolves when the session ends: closed, or its lease expired or was revoked. */
  readonly done: Promise<void>;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private finish!: () => void;
  /** When the lease expires at the latest, by this process's clock, as of the last keep-alive answered. */
  private expiresAt: number;

  private constructor(
    private readonly backend: MetaBackend,
    readonly lease: bigint,
    readonly ttl: number,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.expiresAt = Date.now() + ttl * 1000;
    this.schedule();
  }

  static async create(backend: MetaBackend, o: SessionOptions = {}): Promise<Session> {
    const ttl = o.ttl ?? 60;
    if (o.lease !== undefined) {
      const t = await backend.leaseTimeToLive({ id: o.lease, keys: false });
      if (t.ttl <= 0) throw new MetaError('lease_not_found');
      return new Session(backend, o.lease, t.grantedTtl);
    }
    const granted = await backend.leaseGrant({ ttl, id: 0n });
    if (granted.error) throw new MetaError('internal', granted.error);
    return new Session(backend, granted.id, granted.ttl);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Ends the session and revokes its lease (its keys are deleted at once). */
  async close(): Promise<void> {
    if (this.ended) return;
    this.end();
    await this.backend.leaseRevoke({ id: this.lease }).catch((e: unknown) => {
      if (!(e instanceof MetaError && e.code === 'lease_not_found')) throw e;
    });
  }

  /** Ends the session without revoking: its keys stay until the lease expires. */
  orphan(): void {
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.finish();
  }

  private schedule(delayMs = Math.max(100, (this.ttl * 1000) / 3)): void {
    if (this.ended) return;
    this.timer = setTimeout(() => void this.keepAlive(), delayMs);
    this.timer.unref?.();
  }

  private async keepAlive(): Promise<void> {
    const sent = Date.now();
    try {
      const r = await this.backend.leaseKeepAlive(this.lease, { deadline: this.expiresAt });
      if (r.ttl <= 0) return this.end();
      this.expiresAt = sent + r.ttl * 1000;
      this.schedule();
    } catch {
      // A failover or a slow node: keep trying while the lease can still be alive.
      if (Date.now() >= this.expiresAt) return this.end();
      this.schedule(500);
    }
  }
}
