// A lease kept alive for as long as the session lives (etcd's concurrency.Session): what the
// mutex, the election and the registry hang their keys on, so a crashed holder's keys go when
// its lease expires. Keep-alives go every ttl/3; a keep-alive that finds the lease gone (or
// failures past the lease's expiry) ends the session, and `done` tells the owner it lost
// everything bound to it.
//
// The session's idea of when its lease expires errs early: it counts the TTL from when the last
// acknowledged keep-alive was *sent*, which is no later than when the store renewed the lease.
// So the session ends (by its own clock) no later than the store expires the lease; whatever it
// did while `closed` was false it did while its keys were still there, as far as this process can
// tell. (A process paused past its TTL learns it only when it runs again: guard writes made under
// a lock with the lock's ownership, see Mutex.isOwner.)
import type { MetaBackend } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';

export interface SessionOptions {
  /** Seconds (default 60, as etcd's). */
  ttl?: number;
  /** Use this lease instead of granting one (it is still revoked by close()). */
  lease?: bigint;
}

/** The shortest wait for one keep-alive before it is given up and sent again (the backend may move to another endpoint). */
const MIN_ATTEMPT_MS = 1000;
/** The pause before sending a keep-alive again after a failed one. */
const RETRY_MS = 200;

export class Session {
  /** Resolves when the session ends: closed, or its lease expired or was revoked. */
  readonly done: Promise<void>;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private finish!: () => void;
  /** When the lease expires at the earliest the store may expire it, by this process's clock: the last acknowledged keep-alive's send time + the TTL. */
  private expiresAt: number;

  private constructor(
    private readonly backend: MetaBackend,
    readonly lease: bigint,
    readonly ttl: number,
    renewedAt: number,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.expiresAt = renewedAt + ttl * 1000;
    this.schedule();
  }

  static async create(backend: MetaBackend, o: SessionOptions = {}): Promise<Session> {
    const ttl = o.ttl ?? 60;
    const sent = Date.now();
    if (o.lease !== undefined) {
      const t = await backend.leaseTimeToLive({ id: o.lease, keys: false });
      if (t.ttl <= 0) throw new MetaError('lease_not_found');
      // The lease has t.ttl seconds left, not its whole TTL: renew it at once.
      return new Session(backend, o.lease, t.grantedTtl, sent - (t.grantedTtl - t.ttl) * 1000);
    }
    const granted = await backend.leaseGrant({ ttl, id: 0n });
    if (granted.error) throw new MetaError('internal', granted.error);
    return new Session(backend, granted.id, granted.ttl, sent);
  }

  /**
   * The session no longer counts on its lease: it was closed, its lease is gone, or the time the
   * lease may expire has come (even before the keep-alive timer notices). Once true, stays true.
   */
  get closed(): boolean {
    if (!this.ended && Date.now() >= this.expiresAt) this.end();
    return this.ended;
  }

  /** The latest time (ms since the epoch, this process's clock) the session still counts on its lease. */
  get validUntil(): number {
    return this.expiresAt;
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
    // Never past the point where the lease may be gone: a late keep-alive is an expired session.
    const due = Math.min(delayMs, Math.max(0, this.expiresAt - Date.now() - 1));
    this.timer = setTimeout(() => void this.keepAlive(), due);
    this.timer.unref?.();
  }

  private async keepAlive(): Promise<void> {
    if (this.ended) return;
    const sent = Date.now();
    if (sent >= this.expiresAt) return this.end();
    try {
      // One attempt is bounded well before the expiry, so a stuck node leaves time to try another.
      const attemptMs = Math.max(MIN_ATTEMPT_MS, (this.ttl * 1000) / 3);
      const r = await this.backend.leaseKeepAlive(this.lease, { deadline: Math.min(this.expiresAt, sent + attemptMs) });
      if (this.ended) return;
      // Answered too late: the session has counted its lease as possibly gone already.
      if (r.ttl <= 0 || Date.now() >= this.expiresAt) return this.end();
      this.expiresAt = sent + r.ttl * 1000;
      this.schedule();
    } catch {
      if (this.ended) return;
      // A failover or a slow node: keep trying while the lease can still be alive.
      if (Date.now() >= this.expiresAt) return this.end();
      this.schedule(RETRY_MS);
    }
  }
}
