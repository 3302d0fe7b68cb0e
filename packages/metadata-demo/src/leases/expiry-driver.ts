// The leader's lease expiry driver. Expiry happens only through a committed leaseExpire entry,
// and the machine revokes only the leases whose expiry is at or before that entry's timestamp,
// so a keep-alive committed before it wins. This driver decides when to propose one:
// - only on the leader, every `periodMs`, and only for leases past their expiry by its clock;
// - FIRST a linearizable read (a ReadIndex confirmed by a quorum, then applied here): a deposed
//   leader learns it is one, and the state it then looks at holds every keep-alive committed
//   before the read;
// - never within `graceMs` after a stall: a gap between two checks much longer than the period
//   (SIGSTOP, a blocked event loop) means keep-alives may be waiting in this process's queues;
//   they are applied first. A stall noticed while the read was in flight counts the same.
// The bound this gives is in the package README ("Leases").
import type { Logger } from '@raftkit/framework';

export interface ExpiryDriverOptions {
  /** Whether this node leads the group now (a cheap, local answer). */
  isLeader(): boolean;
  /** Leases past their expiry by `now` in this node's applied state, at most `limit`. */
  candidates(now: number, limit: number): bigint[];
  /** A linearizable read: resolves once a quorum confirmed this leader and the read index is applied here. */
  confirmLeadership(): Promise<void>;
  /** Proposes leaseExpire with these ids and waits for its result. */
  expire(ids: bigint[]): Promise<void>;
  /** How often the leader looks (default 100 ms). */
  periodMs?: number;
  /** How long to hold expiries after a stall (the election timeout). */
  graceMs: number;
  /** A gap between checks longer than this is a stall (default 3 periods). */
  stallMs?: number;
  /** Most leases one entry expires (default 1000). */
  maxBatch?: number;
  clock?: () => number;
  logger?: Logger;
}

export class LeaseExpiryDriver {
  private timer: NodeJS.Timeout | undefined;
  private lastTick: number | undefined;
  private holdUntil = 0;
  private inFlight = false;
  private readonly periodMs: number;
  private readonly stallMs: number;
  private readonly maxBatch: number;
  private readonly clock: () => number;
  /** Expiry entries proposed (for tests and metrics). */
  proposed = 0;

  constructor(private readonly o: ExpiryDriverOptions) {
    this.periodMs = o.periodMs ?? 100;
    this.stallMs = o.stallMs ?? 3 * this.periodMs;
    this.maxBatch = o.maxBatch ?? 1000;
    this.clock = o.clock ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.lastTick = this.clock();
    this.timer = setInterval(() => void this.tick(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether expiries are held back now (after a stall). */
  get holding(): boolean {
    return this.clock() < this.holdUntil;
  }

  /** A gap since the last check longer than a stall: hold expiries for the grace period. Answers whether it was one. */
  private noticeStall(now: number): boolean {
    const gap = this.lastTick === undefined ? 0 : now - this.lastTick;
    if (gap <= this.stallMs) return false;
    this.holdUntil = Math.max(this.holdUntil, now + this.o.graceMs);
    this.o.logger?.warn({ gapMs: gap, holdMs: this.o.graceMs }, 'lease expiry: this node stalled; no lease expires until the keep-alives queued meanwhile are applied');
    return true;
  }

  /** One check (the timer calls it every period). */
  async tick(): Promise<void> {
    const now = this.clock();
    this.noticeStall(now);
    this.lastTick = now;
    if (this.inFlight || now < this.holdUntil || !this.o.isLeader()) return;
    if (this.o.candidates(now, 1).length === 0) return;
    this.inFlight = true;
    try {
      await this.o.confirmLeadership();
      const at = this.clock();
      // The read may have waited through a stall that no tick has seen yet.
      const stalled = this.noticeStall(at);
      this.lastTick = at;
      if (stalled || at < this.holdUntil) return;
      const ids = this.o.candidates(at, this.maxBatch);
      if (ids.length === 0) return;
      this.proposed++;
      await this.o.expire(ids);
    } catch (e) {
      // Not the leader any more, no quorum, a timeout: the next check tries again.
      this.o.logger?.debug({ err: (e as Error).message }, 'lease expiry: check failed');
    } finally {
      this.inFlight = false;
    }
  }
}
