// level=none with freshness: a follower serves its own copy only if it knows that copy to be at
// most `freshness` old. raftkit does not expose when a follower last heard from its leader, so
// the follower confirms instead: a ReadIndex round through the leader, started at t0, proves
// the copy (once it applied that index) current as of t0. A confirmation is reused while it is
// younger than a request's freshness; a round that takes longer than the freshness, or fails,
// makes the read stale, as rqlite's "stale read". The leader is always fresh.
import type { NodeRaftService } from '@raftkit/framework/server';

export class FreshnessGate {
  /** When the last successful confirmation started (ms since the epoch); 0: never. */
  private confirmedAt = 0;

  constructor(
    private readonly service: NodeRaftService,
    private readonly group: string,
  ) {}

  /** Whether this node may serve a read whose data may be at most `freshnessMs` old. */
  async fresh(freshnessMs: number, isLeader: boolean): Promise<boolean> {
    if (isLeader) return true;
    if (Date.now() - this.confirmedAt <= freshnessMs) return true;
    const started = Date.now();
    const confirmed = await this.confirm(freshnessMs);
    if (confirmed) this.confirmedAt = Math.max(this.confirmedAt, started);
    return confirmed && Date.now() - started <= freshnessMs;
  }

  private async confirm(withinMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(1, Math.ceil(withinMs)));
    });
    const round = this.service.query(this.group, 'info', undefined, 'linearizable').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([round, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
