import type { Message, NodeId } from './types.js';

/** A ReadIndex request waiting for a quorum of heartbeat acknowledgements. */
interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<NodeId>;
}

export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

/**
 * Pending ReadIndex requests of a leader (safe mode). A request is answered once a quorum has
 * acknowledged a heartbeat carrying its context, which proves that this node was still leader
 * when the request arrived. Acknowledging one request acknowledges every earlier one.
 */
export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  add(index: number, req: Message): void {
    const key = contextKey(req.context!);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records an ack for the request with ctx; returns who has acked it, or undefined if unknown. */
  recvAck(id: NodeId, ctx: Uint8Array): Set<NodeId> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Dequeues every request up to and including ctx and returns them in order. */
  advance(ctx: Uint8Array): { req: Message; index: number }[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.splice(0, at + 1);
    const out: { req: Message; index: number }[] = [];
    for (const k of done) {
      const rs = this.pending.get(k)!;
      this.pending.delete(k);
      out.push({ req: rs.req, index: rs.index });
    }
    return out;
  }

  lastPendingContext(): Uint8Array | undefined {
    const k = this.queue[this.queue.length - 1];
    return k === undefined ? undefined : this.pending.get(k)!.req.context;
  }

  get size(): number {
    return this.queue.length;
  }

  clear(): void {
    this.pending.clear();
    this.queue = [];
  }
}
