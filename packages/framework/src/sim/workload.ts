// Simulated clients: they propose writes and issue linearizable reads against the cluster and
// tell the checker when a write is acknowledged (applied on the node that proposed it, with the
// proposer's own data at the returned index) and when a read is served.

import { NotLeaderError, RaftError } from '../core/errors.js';
import type { Entry, NodeId, ReadState } from '../core/types.js';
import type { Checker } from './checker.js';
import type { SimNode } from './sim-node.js';

interface PendingWrite {
  write: number;
  node: NodeId;
  incarnation: number;
  index: number;
  data: Uint8Array;
  startedAt: number;
  onAck?: (index: number) => void;
}

interface PendingRead {
  read: number;
  node: NodeId;
  incarnation: number;
  /** The highest acknowledged write index when the read began: the read must see it. */
  mustSee: number;
  startedAt: number;
  /** Set once the node learned the read index; served when it has applied that far. */
  readIndex?: number;
}

export interface WorkloadStats {
  writesProposed: number;
  writesAcked: number;
  writesSuperseded: number;
  writesRejected: number;
  readsStarted: number;
  readsServed: number;
  readsTimedOut: number;
}

const WRITE_TAG = 0x57; // 'W'
const READ_TAG = 0x52; // 'R'

function encodeId(tag: number, id: number, node: NodeId): Uint8Array {
  const out = new Uint8Array(9);
  const v = new DataView(out.buffer);
  v.setUint8(0, tag);
  v.setUint32(1, id);
  v.setUint32(5, node);
  return out;
}

function decodeReadId(ctx: Uint8Array): number | undefined {
  if (ctx.length !== 9 || ctx[0] !== READ_TAG) return undefined;
  return new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength).getUint32(1);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type ProposeOutcome = 'proposed' | 'not-leader' | 'dropped' | 'down';

export class Workload {
  readonly stats: WorkloadStats = {
    writesProposed: 0,
    writesAcked: 0,
    writesSuperseded: 0,
    writesRejected: 0,
    readsStarted: 0,
    readsServed: 0,
    readsTimedOut: 0,
  };
  private nextWrite = 1;
  private nextRead = 1;
  /** Pending writes by node, then by log index. */
  private writes = new Map<NodeId, Map<number, PendingWrite>>();
  private reads = new Map<number, PendingRead>();

  constructor(
    private readonly checker: Checker,
    private readonly timeout: number,
  ) {}

  /** Proposes `count` writes on the node (a batch if count > 1). */
  write(node: SimNode, now: number, count = 1, onAck?: (index: number) => void): ProposeOutcome {
    const raft = node.raft;
    if (!raft) return 'down';
    const ids: number[] = [];
    const datas: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const id = this.nextWrite++;
      ids.push(id);
      datas.push(encodeId(WRITE_TAG, id, node.id));
    }
    let first: number;
    try {
      first = count === 1 ? raft.propose(datas[0]!) : raft.proposeBatch(datas);
    } catch (e) {
      if (e instanceof NotLeaderError) return 'not-leader';
      if (e instanceof RaftError && e.code === 'proposal_dropped') {
        this.stats.writesRejected += count;
        return 'dropped';
      }
      throw e;
    }
    let byIndex = this.writes.get(node.id);
    if (!byIndex) this.writes.set(node.id, (byIndex = new Map()));
    for (let k = 0; k < count; k++) {
      byIndex.set(first + k, {
        write: ids[k]!,
        node: node.id,
        incarnation: node.incarnation,
        index: first + k,
        data: datas[k]!,
        startedAt: now,
        onAck,
      });
    }
    this.stats.writesProposed += count;
    return 'proposed';
  }

  /** Starts a linearizable read on the node; the answer arrives in a later Ready. */
  read(node: SimNode, now: number, opts: { lease?: boolean } = {}): boolean {
    const raft = node.raft;
    if (!raft || node.witness) return false;
    const read = this.nextRead++;
    this.reads.set(read, { read, node: node.id, incarnation: node.incarnation, mustSee: this.checker.maxAckedIndex, startedAt: now });
    raft.readIndex(encodeId(READ_TAG, read, node.id), opts);
    this.stats.readsStarted++;
    return true;
  }

  /** A write is acknowledged when its proposer applies it at the index propose() returned. */
  applied(node: SimNode, e: Entry): void {
    const byIndex = this.writes.get(node.id);
    const w = byIndex?.get(e.index);
    if (!w || !byIndex) return;
    byIndex.delete(e.index);
    if (w.incarnation !== node.incarnation) return;
    if (sameBytes(e.data, w.data)) {
      this.checker.writeAcked(node, e.index, e.term, w.write);
      this.stats.writesAcked++;
      w.onAck?.(e.index);
    } else {
      // Another leader's entry took the slot: the client would retry; nothing was acknowledged.
      this.stats.writesSuperseded++;
    }
  }

  readStates(node: SimNode, states: ReadState[]): void {
    for (const rs of states) {
      const id = decodeReadId(rs.context);
      if (id === undefined) continue;
      const r = this.reads.get(id);
      // Duplicated responses and answers to a previous incarnation are not this client's.
      if (!r || r.node !== node.id || r.incarnation !== node.incarnation || r.readIndex !== undefined) continue;
      r.readIndex = rs.index;
    }
    this.serveReady(node);
  }

  /** Serves every read whose index the node has applied. */
  serveReady(node: SimNode): void {
    for (const r of this.reads.values()) {
      if (r.node !== node.id || r.readIndex === undefined || r.incarnation !== node.incarnation) continue;
      if (node.app.index < r.readIndex) continue;
      this.checker.readServed(node, r.read, r.readIndex, r.mustSee);
      this.reads.delete(r.read);
      this.stats.readsServed++;
    }
  }

  /** A crash loses the node's clients' pending requests: their outcome is unknown. */
  crashed(node: SimNode): void {
    this.writes.delete(node.id);
    for (const r of [...this.reads.values()]) if (r.node === node.id) this.reads.delete(r.read);
  }

  /** Clients give up on requests older than the timeout (a read dropped by a deposed leader). */
  expire(now: number): void {
    for (const r of [...this.reads.values()]) {
      if (now - r.startedAt > this.timeout) {
        this.reads.delete(r.read);
        this.stats.readsTimedOut++;
      }
    }
    for (const byIndex of this.writes.values()) {
      for (const [i, w] of [...byIndex]) if (now - w.startedAt > this.timeout) byIndex.delete(i);
    }
  }
}
