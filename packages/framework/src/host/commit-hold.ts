// A leader tells followers a new commit index in an Append without entries as soon as it moves.
// Under load the next Append, which carries the commit index too, follows within a millisecond,
// so each of those empty Appends is a socket write on the leader, a receive, a round and an
// answer on the follower, and another receive and round on the leader, for nothing. While a group
// has proposals in flight they are held here for a short while instead and dropped when a later
// Append to the same follower of the same group goes out first. A group with nothing in flight
// sends them at once: no later Append is coming, and an idle follower should know the commit
// index (for its local reads) by the time the client has its answer. Holding is only a delay,
// which Raft tolerates for every message; persist-before-send is unaffected (what is held was
// already free to go).
import { MessageType, type NodeId } from '../core/types.js';
import type { Envelope } from '../transport/transport.js';

export class CommitHold {
  /** group -> follower -> the latest empty Append held for it. */
  private readonly held = new Map<string, Map<NodeId, Envelope>>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param delayMs how long an empty Append may wait for a later one (0: never held).
   * @param send sends what the hold lets go when its time is up.
   */
  constructor(
    private readonly delayMs: number,
    private readonly send: (envs: Envelope[]) => void,
  ) {}

  /**
   * A round's outgoing messages; returns those to send now, keeping back the empty Appends of the
   * groups `mayHold` names (those with more Appends certain to follow: proposals in flight).
   */
  filter(envs: Envelope[], mayHold: (group: string) => boolean): Envelope[] {
    if (this.delayMs <= 0) return envs;
    let out: Envelope[] | undefined;
    for (let i = 0; i < envs.length; i++) {
      const env = envs[i]!;
      const m = env.message;
      if (m.type !== MessageType.Append) {
        out?.push(env);
        continue;
      }
      if (m.entries.length > 0 || !mayHold(env.group)) {
        // Carries a commit index at least as new as any held for this follower, which it replaces.
        this.held.get(env.group)?.delete(m.to);
        out?.push(env);
        continue;
      }
      out ??= envs.slice(0, i);
      let byPeer = this.held.get(env.group);
      if (!byPeer) this.held.set(env.group, (byPeer = new Map()));
      byPeer.set(m.to, env);
    }
    if (out && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.delayMs);
      this.timer.unref();
    }
    return out ?? envs;
  }

  /** Sends everything held now (its time is up, or the node is stopping). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const envs: Envelope[] = [];
    for (const byPeer of this.held.values()) for (const env of byPeer.values()) envs.push(env);
    this.held.clear();
    if (envs.length > 0) this.send(envs);
  }

  /** Drops what is held for a group that left this node. */
  forget(group: string): void {
    this.held.delete(group);
  }
}
