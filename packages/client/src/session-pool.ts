/** One exactly-once session: a client id whose commands run one at a time with increasing sequences. */
export interface SessionLane {
  readonly clientId: string;
  /** The sequence for the next command of this lane (each command takes one; its retries reuse it). */
  nextSequence(): number;
}

class Lane implements SessionLane {
  private sequence: number;

  constructor(
    readonly clientId: string,
    readonly n: number,
    start: number,
  ) {
    this.sequence = start;
  }

  nextSequence(): number {
    return ++this.sequence;
  }
}

/**
 * The server keeps, per client id, only the last applied sequence and its result, and refuses a
 * lower sequence (409 `stale_sequence`). So commands of one id must reach the log in order,
 * which concurrent HTTP requests do not guarantee. The pool gives each in-flight command a lane
 * of its own: lane 0 is the client id itself, further lanes (created only while commands run
 * concurrently) are `<clientId>~<n>`. A lane is reused once its command has settled.
 *
 * Sequences start at `Date.now() * 1000`, so a restarted process that reuses a stable client id
 * starts above the sequences its previous life used (unless it ran over 1 000 commands per
 * millisecond of its lifetime). That stays below 2^53 until the year 2255.
 */
export class SessionPool {
  private readonly free: Lane[] = [];
  private created = 0;

  constructor(
    private readonly clientId: string,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(): SessionLane {
    const lane = this.free.pop();
    if (lane) return lane;
    const n = this.created++;
    return new Lane(n === 0 ? this.clientId : `${this.clientId}~${n}`, n, Math.floor(this.now()) * 1000);
  }

  release(lane: SessionLane): void {
    // Lowest lane first next time, so a sequential client keeps using its plain id.
    this.free.push(lane as Lane);
    this.free.sort((a, b) => b.n - a.n);
  }

  /** Lanes created so far (the largest number of commands that ran at once). */
  get size(): number {
    return this.created;
  }
}
