/**
 * Where to send requests: the known leader of each group (learned from 421 answers) and a
 * sticky "current" endpoint for everything else, which moves on when it fails. Nodes that failed
 * at the connection level are skipped for `downMs` unless every node is down.
 *
 * Invariant: `current` indexes `endpoints`; a cached leader URL is one that answered or was named
 * by a 421 since it last failed.
 */
export class LeaderRouter {
  private readonly leaders = new Map<string, string>();
  private readonly downUntil = new Map<string, number>();
  private current = 0;

  constructor(
    readonly endpoints: readonly string[],
    private readonly downMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached leader URL of a group, if any. */
  leaderOf(group: string): string | undefined {
    return this.leaders.get(group);
  }

  /** The node for a leader-only request: the cached leader, else the current endpoint. */
  leaderTarget(group: string): string {
    return this.leaders.get(group) ?? this.anyTarget();
  }

  /** The node for a request any member can serve (local reads, watches, forwarded requests). */
  anyTarget(): string {
    return this.endpoints[this.current]!;
  }

  learnLeader(group: string, url: string): void {
    this.leaders.set(group, url);
    this.downUntil.delete(url);
  }

  /** Forgets the group's leader (only if it is still `url`, when given). */
  forgetLeader(group: string, url?: string): void {
    if (url === undefined || this.leaders.get(group) === url) this.leaders.delete(group);
  }

  /**
   * Records that `url` failed. `down`: at the connection level (refused, reset, timed out), so
   * it is skipped for a while and forgotten as a leader of every group.
   */
  failed(url: string, down: boolean): void {
    if (down) {
      this.downUntil.set(url, this.now() + this.downMs);
      for (const [group, leader] of this.leaders) if (leader === url) this.leaders.delete(group);
    }
    if (this.endpoints[this.current] === url) this.advance();
  }

  isDown(url: string): boolean {
    const until = this.downUntil.get(url);
    return until !== undefined && until > this.now();
  }

  /** Moves the current endpoint to the next one that is not down (or the next one, if all are). */
  advance(): void {
    const n = this.endpoints.length;
    for (let step = 1; step <= n; step++) {
      const i = (this.current + step) % n;
      if (!this.isDown(this.endpoints[i]!)) {
        this.current = i;
        return;
      }
    }
    this.current = (this.current + 1) % n;
  }
}
