// The virtual network: decides each message's fate (lost, delayed, duplicated) and which links
// are cut. Reordering falls out of independent random delays. The simulation owns the clock and
// the event queue; this class only answers "what happens to a message from a to b".

import type { NodeId } from '../core/types.js';
import type { Prng } from './prng.js';

export interface NetworkConditions {
  minDelay: number;
  maxDelay: number;
  lossRate: number;
  dupRate: number;
  /**
   * Per-link FIFO, as over one TCP connection: a message never overtakes an earlier one on the
   * same link. When false, independent delays reorder messages freely.
   */
  fifo: boolean;
}

interface Partition {
  label: string;
  links: number[];
}

const linkKey = (from: NodeId, to: NodeId): number => from * 65536 + to;

export class Network {
  conditions: NetworkConditions;
  /** Cut links (from -> to) with the number of active partitions that cut each. */
  private cut = new Map<number, number>();
  private partitions = new Map<number, Partition>();
  private nextPartitionId = 1;
  /** Loss rates of single links (from -> to) that override conditions.lossRate. */
  private linkLoss = new Map<number, number>();
  /** Latest arrival time scheduled per link, for FIFO delivery. */
  private lastArrival = new Map<number, number>();

  constructor(
    private readonly rng: Prng,
    conditions: NetworkConditions,
  ) {
    this.conditions = { ...conditions };
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return (this.cut.get(linkKey(from, to)) ?? 0) > 0;
  }

  /** The arrival times of the copies of one message sent now: [] if it is lost. */
  fate(from: NodeId, to: NodeId, now: number): number[] {
    if (this.isCut(from, to)) return [];
    const c = this.conditions;
    const loss = this.linkLoss.get(linkKey(from, to)) ?? c.lossRate;
    if (loss > 0 && this.rng.chance(loss)) return [];
    const copies = c.dupRate > 0 && this.rng.chance(c.dupRate) ? 2 : 1;
    const out: number[] = [];
    for (let i = 0; i < copies; i++) {
      let at = now + this.rng.range(c.minDelay, c.maxDelay);
      if (c.fifo) {
        const k = linkKey(from, to);
        // Equal times keep send order: the event queue breaks ties by insertion.
        at = Math.max(at, this.lastArrival.get(k) ?? 0);
        this.lastArrival.set(k, at);
      }
      out.push(at);
    }
    return out;
  }

  /** Cuts every link between different groups, both ways. Returns the partition's id. */
  partition(groups: NodeId[][]): number {
    const links: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) links.push(linkKey(a, b));
      }
    }
    return this.add(groups.map((g) => `{${g.join(',')}}`).join(' | '), links);
  }

  /** Cuts only the links from `from` to `to`: messages the other way still flow. */
  oneWay(from: NodeId[], to: NodeId[]): number {
    const links: number[] = [];
    for (const a of from) for (const b of to) if (a !== b) links.push(linkKey(a, b));
    return this.add(`{${from.join(',')}} -/-> {${to.join(',')}}`, links);
  }

  heal(id: number): string | undefined {
    const p = this.partitions.get(id);
    if (!p) return undefined;
    this.partitions.delete(id);
    for (const k of p.links) {
      const n = (this.cut.get(k) ?? 0) - 1;
      if (n > 0) this.cut.set(k, n);
      else this.cut.delete(k);
    }
    return p.label;
  }

  healAll(): void {
    for (const id of [...this.partitions.keys()]) this.heal(id);
  }

  /** Makes one link lossy (silently: unlike a cut, the sender's transport notices nothing). */
  setLinkLoss(from: NodeId, to: NodeId, rate: number): void {
    this.linkLoss.set(linkKey(from, to), rate);
  }

  clearLinkLoss(): void {
    this.linkLoss.clear();
  }

  get activePartitions(): number {
    return this.partitions.size;
  }

  private add(label: string, links: number[]): number {
    const id = this.nextPartitionId++;
    this.partitions.set(id, { label, links });
    for (const k of links) this.cut.set(k, (this.cut.get(k) ?? 0) + 1);
    return id;
  }
}
