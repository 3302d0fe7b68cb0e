// Log matching, checked incrementally. Every entry that reaches any node's disk is registered
// under its (index, term) with a hash of the terms of the whole log up to it (a "chain") and a
// hash of its content. In Raft an (index, term) pair is created once, by one leader, on top of
// one prefix, so over the whole run every (index, term) must map to one chain and one content.
// A mismatch is caught the moment the offending entry is persisted, at O(entries appended) cost.

import { EntryType, type Entry, type NodeId, type Snapshot } from '../core/types.js';
import type { MemoryStorage } from '../core/memory-storage.js';
import { HASH_START, mix, mixBytes } from './hash.js';

/** What the first sighting of an (index, term) recorded. */
interface EntryRecord {
  chain: number;
  /** Hash of type and data; undefined while only witnesses (Metadata copies) have been seen. */
  content: number | undefined;
  type: EntryType | undefined;
}

/** A node's persisted log as the checker mirrors it: terms and chains after a base index. */
class ShadowLog {
  base = 0;
  baseChain = HASH_START;
  terms: number[] = [];
  chains: number[] = [];

  get last(): number {
    return this.base + this.terms.length;
  }

  chainAt(i: number): number {
    return i === this.base ? this.baseChain : this.chains[i - this.base - 1]!;
  }
}

export type Fail = (detail: string) => never;

const TERM_LIMIT = 2 ** 21;
const key = (index: number, term: number): number => index * TERM_LIMIT + term;
const contentHash = (e: Entry): number => mixBytes(mix(HASH_START, e.type), e.data);

export class LogMatchingChecker {
  private records = new Map<number, EntryRecord>();
  private logs = new Map<NodeId, ShadowLog>();
  /** (index, term) pairs a witness holds as Metadata: the real entry must be Normal. */
  private metadataSeen = new Set<number>();

  constructor(
    private readonly fail: Fail,
    genesis: { index: number; term: number },
  ) {
    this.records.set(key(0, 0), { chain: HASH_START, content: undefined, type: undefined });
    // The founding snapshot stands for a log prefix no entry holds: give it a chain of its own.
    if (genesis.index > 0) {
      this.records.set(key(genesis.index, genesis.term), { chain: mix(HASH_START, genesis.term), content: undefined, type: undefined });
    }
  }

  /** Starts the mirror of a new node's log at its storage's snapshot. */
  nodeCreated(id: NodeId, storage: MemoryStorage): void {
    const snap = storage.snapshot();
    if (storage.lastIndex() !== snap.metadata.index) this.fail(`node ${id} was created with a non-empty log`);
    this.snapshotInstalled(id, snap);
  }

  private log(id: NodeId): ShadowLog {
    let l = this.logs.get(id);
    if (!l) {
      l = new ShadowLog();
      this.logs.set(id, l);
    }
    return l;
  }

  /** Mirrors MemoryStorage.append: skip compacted entries, truncate a conflicting tail, append. */
  appended(id: NodeId, entries: Entry[]): void {
    const log = this.log(id);
    let es = entries;
    if (es.length === 0) return;
    if (es[0]!.index <= log.base) es = es.slice(log.base + 1 - es[0]!.index);
    if (es.length === 0) return;
    const at = es[0]!.index;
    if (at > log.last + 1) this.fail(`node ${id} appended entry ${at} after its last entry ${log.last} (a gap in its log)`);
    log.terms.length = at - 1 - log.base;
    log.chains.length = at - 1 - log.base;
    let chain = log.chainAt(at - 1);
    let prevTerm = at - 1 === log.base ? 0 : log.terms[log.terms.length - 1]!;
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      if (e.index !== at + i) this.fail(`node ${id} got non-contiguous entries (${e.index} where ${at + i} was expected)`);
      if (e.term < prevTerm && at + i - 1 > log.base) {
        this.fail(`node ${id} log terms decrease at index ${e.index} (${prevTerm} then ${e.term})`);
      }
      if (e.term >= TERM_LIMIT) this.fail(`term ${e.term} beyond the checker's limit`);
      chain = mix(chain, e.term);
      this.register(id, e, chain);
      log.terms.push(e.term);
      log.chains.push(chain);
      prevTerm = e.term;
    }
  }

  /** A snapshot replaced the node's log: its chain is the one recorded for (index, term). */
  snapshotInstalled(id: NodeId, snap: Snapshot): void {
    const { index, term } = snap.metadata;
    const rec = this.records.get(key(index, term));
    if (!rec) this.fail(`node ${id} installed a snapshot at ${index}@${term}, an entry no node's log ever held`);
    const log = this.log(id);
    log.base = index;
    log.baseChain = rec.chain;
    log.terms = [];
    log.chains = [];
  }

  /** The node compacted its storage; follow it. */
  compacted(id: NodeId, storage: MemoryStorage): void {
    const log = this.log(id);
    const newBase = storage.firstIndex() - 1;
    if (newBase <= log.base) return;
    if (newBase > log.last) this.fail(`node ${id} compacted to ${newBase}, beyond its last entry ${log.last}`);
    const drop = newBase - log.base;
    log.baseChain = log.chains[drop - 1]!;
    log.terms.splice(0, drop);
    log.chains.splice(0, drop);
    log.base = newBase;
  }

  /** The chain recorded for (index, term), if that entry was ever persisted anywhere. */
  chainOf(index: number, term: number): number | undefined {
    return this.records.get(key(index, term))?.chain;
  }

  private register(id: NodeId, e: Entry, chain: number): void {
    const k = key(e.index, e.term);
    const metadata = e.type === EntryType.Metadata;
    const content = metadata ? undefined : contentHash(e);
    const type = metadata ? undefined : e.type;
    const rec = this.records.get(k);
    if (!rec) {
      this.records.set(k, { chain, content, type });
      if (metadata) this.metadataSeen.add(k);
      return;
    }
    if (rec.chain !== chain) {
      this.fail(`entry ${e.index}@${e.term} on node ${id} sits on a different log prefix than the same entry elsewhere`);
    }
    if (metadata) {
      if (rec.type !== undefined && rec.type !== EntryType.Normal) {
        this.fail(`node ${id} holds a Metadata copy of entry ${e.index}@${e.term}, which is a ${EntryType[rec.type]} entry`);
      }
      this.metadataSeen.add(k);
      return;
    }
    if (rec.content === undefined) {
      if (type !== EntryType.Normal && this.metadataSeen.has(k)) {
        this.fail(`entry ${e.index}@${e.term} is a ${EntryType[type!]} entry but a witness holds a Metadata copy of it`);
      }
      rec.content = content;
      rec.type = type;
    } else if (rec.content !== content) {
      this.fail(`entry ${e.index}@${e.term} on node ${id} differs in content from the same entry elsewhere`);
    }
  }

  /**
   * The non-incremental check, every few hundred steps: the mirror still equals storage, and
   * every pair of persisted logs agrees on everything up to their last common (index, term).
   */
  fullCheck(storages: ReadonlyArray<{ id: NodeId; storage: MemoryStorage }>): void {
    for (const { id, storage } of storages) {
      const log = this.log(id);
      if (storage.firstIndex() - 1 !== log.base || storage.lastIndex() !== log.last) {
        this.fail(`checker's mirror of node ${id}'s log [${log.base}, ${log.last}] drifted from storage [${storage.firstIndex() - 1}, ${storage.lastIndex()}]`);
      }
      for (let i = log.base + 1; i <= log.last; i++) {
        if (storage.term(i) !== log.terms[i - log.base - 1]) this.fail(`checker's mirror of node ${id} has a wrong term at ${i}`);
      }
    }
    for (let a = 0; a < storages.length; a++) {
      for (let b = a + 1; b < storages.length; b++) this.comparePair(storages[a]!, storages[b]!);
    }
  }

  private comparePair(x: { id: NodeId; storage: MemoryStorage }, y: { id: NodeId; storage: MemoryStorage }): void {
    const lo = Math.max(x.storage.firstIndex(), y.storage.firstIndex());
    const hi = Math.min(x.storage.lastIndex(), y.storage.lastIndex());
    if (lo > hi) return;
    let top = 0;
    for (let i = hi; i >= lo; i--) {
      if (x.storage.term(i) === y.storage.term(i)) {
        top = i;
        break;
      }
    }
    if (top === 0) return;
    const xs = x.storage.entries(lo, top + 1, Number.MAX_SAFE_INTEGER);
    const ys = y.storage.entries(lo, top + 1, Number.MAX_SAFE_INTEGER);
    for (let k = 0; k < xs.length; k++) {
      const ex = xs[k]!;
      const ey = ys[k]!;
      if (ex.term !== ey.term) {
        this.fail(`nodes ${x.id} and ${y.id} agree on entry ${top}@${ex.term} but differ at ${ex.index} (terms ${ex.term} and ${ey.term})`);
      }
      if (ex.type === EntryType.Metadata || ey.type === EntryType.Metadata) continue;
      if (contentHash(ex) !== contentHash(ey)) {
        this.fail(`nodes ${x.id} and ${y.id} hold different entries at ${ex.index}@${ex.term}`);
      }
    }
  }
}
