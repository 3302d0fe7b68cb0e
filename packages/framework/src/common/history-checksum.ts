// Chained checksums of an applied history: every entry a replica applies, in order, folded into
// two 32-bit values. Replicas that applied the same entries from the same starting point have
// equal checksums, so comparing them finds a divergent replica without comparing states. The
// simulator's checker and the emulator use the same folds, so a live node's figures and a
// simulated run's are computed alike. Not cryptographic: only accidental collisions matter here.

/** The fields of a log entry the checksums cover (core's Entry has them). */
export interface ChecksummedEntry {
  index: number;
  term: number;
  type: number;
  data: Uint8Array;
}

export const HASH_START = 0x9747b28c;

/** Folds one 32-bit value into h (the murmur3 round). */
export function mix(h: number, x: number): number {
  let k = Math.imul(x | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** Folds a byte string (its length first, so "" and "\0" differ). */
export function mixBytes(h: number, bytes: Uint8Array): number {
  h = mix(h, bytes.length);
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    h = mix(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  let tail = 0;
  for (let s = 0; i < bytes.length; i++, s += 8) tail |= bytes[i]! << s;
  return mix(h, tail);
}

/** Folds (index, term) of an entry: comparable between data nodes and witnesses. */
export const foldTerm = (checksum: number, e: ChecksummedEntry): number => mix(mix(checksum, e.index), e.term);

/** Folds (index, term, type, data) of an entry: comparable between data nodes. */
export const foldData = (checksum: number, e: ChecksummedEntry): number => mixBytes(mix(mix(mix(checksum, e.index), e.term), e.type), e.data);

const hex = (n: number): string => n.toString(16).padStart(8, '0');

/** A chain's state at some index, as a snapshot carries it (core's SnapshotMetadata.history has this shape). */
export interface HistoryChain {
  from: number;
  termChecksum: number;
  dataChecksum: number;
}

/** What a replica reports: the chain's start, the last index folded, both checksums in hex. */
export interface HistoryChecksumView {
  /** The index the chain starts after (its start: a snapshot, or the group's founding state). */
  from: number;
  /** The last applied index folded in. */
  index: number;
  termChecksum: string;
  dataChecksum: string;
}

/**
 * One replica's running checksums. The chain starts at the state the replica started from. A
 * snapshot carries the chain at its index (SnapshotMetadata.history), so a replica that restarts
 * from or installs a snapshot continues it; only a snapshot made without it (before the field
 * existed) starts a new chain at its index. Replicas with the same `from` are comparable.
 */
export class HistoryChecksum {
  private start = 0;
  private last = 0;
  private term = HASH_START;
  private data = HASH_START;

  /** A chain at `index`: the one `carried` describes, or a new one starting there. */
  constructor(index: number, carried?: HistoryChain) {
    this.restart(index, carried);
  }

  /**
   * Folds applied entries in order. An entry that does not follow the last one folded (the state
   * came from elsewhere meanwhile) starts a new chain before it: the checksums never describe a
   * history with a hole in it.
   */
  fold(entries: readonly ChecksummedEntry[]): void {
    let term = this.term;
    let data = this.data;
    for (const e of entries) {
      if (e.index !== this.last + 1) {
        this.start = e.index - 1;
        term = data = HASH_START;
      }
      term = foldTerm(term, e);
      data = foldData(data, e);
      this.last = e.index;
    }
    this.term = term;
    this.data = data;
  }

  /** The state was replaced by a snapshot at `index`: its chain, or a new one starting there. */
  restart(index: number, carried?: HistoryChain): void {
    this.last = index;
    this.start = carried ? carried.from : index;
    this.term = carried ? carried.termChecksum : HASH_START;
    this.data = carried ? carried.dataChecksum : HASH_START;
  }

  /** The chain as a snapshot at `index` carries it; undefined unless `index` is the last index folded. */
  at(index: number): HistoryChain | undefined {
    if (index !== this.last) return undefined;
    return { from: this.start, termChecksum: this.term, dataChecksum: this.data };
  }

  view(): HistoryChecksumView {
    return { from: this.start, index: this.last, termChecksum: hex(this.term), dataChecksum: hex(this.data) };
  }
}
