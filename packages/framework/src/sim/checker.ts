// The invariant checker. The simulation feeds it everything that reaches a disk, every applied
// entry, every acknowledged write and served read, and calls afterStep() after every step. It
// keeps a global record of the run (who led each term, the term committed at each index, the
// checksum of the applied history at each index) and throws a SimViolation on any disagreement.

import { EntryType, Role, type Entry, type NodeId, type Snapshot, type SnapshotMetadata } from '../core/types.js';
import type { RawNode } from '../core/raw-node.js';
import { HASH_START } from './hash.js';
import { LogMatchingChecker } from './log-matching.js';
import { decodeAppState } from './sim-app.js';
import type { SimNode } from './sim-node.js';
import { violation, type Invariant, type RunPosition } from './violation.js';

type LogView = ReturnType<RawNode['inspectLog']>;

/** Sets arr[i], padding with zeros (0 means "unknown": every real entry has a term >= 1). */
function setAt(arr: number[], i: number, v: number): void {
  while (arr.length <= i) arr.push(0);
  arr[i] = v;
}

export class Checker {
  readonly logs: LogMatchingChecker;
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** committedTerm[i]: the term of the entry committed at index i; 0 while unknown. */
  private readonly committedTerm: number[] = [0];
  /** The highest index known to be committed anywhere. */
  globalCommit = 0;
  private readonly commitSeen = new Map<NodeId, number>();
  /** Checksums of the applied history at each index (see sim-app.ts); undefined while unknown. */
  private readonly termChecksums: (number | undefined)[] = [HASH_START];
  private readonly dataChecksums: (number | undefined)[] = [HASH_START];
  private readonly lastApplied = new Map<NodeId, number>();
  private readonly acked = new Map<number, { term: number; write: number }>();
  /** The highest log index of any acknowledged write: a read that starts now must see it. */
  maxAckedIndex = 0;
  /** Distinct terms that had a leader. */
  get leaderTerms(): number {
    return this.leaderOfTerm.size;
  }

  /**
   * `genesis` is the founding snapshot every founder starts from: the empty application state
   * at an index no log entry holds.
   */
  constructor(
    private readonly pos: RunPosition,
    private readonly genesis: Pick<SnapshotMetadata, 'index' | 'term'>,
  ) {
    this.logs = new LogMatchingChecker((detail) => this.fail('log-matching', detail), genesis);
  }

  /** A node was created: its log starts where its storage does. */
  nodeCreated(n: SimNode): void {
    this.logs.nodeCreated(n.id, n.storage);
  }

  fail(invariant: Invariant, detail: string): never {
    throw violation(this.pos, invariant, detail);
  }

  // ---- per step -------------------------------------------------------------------------

  private readonly views: Array<[SimNode, RawNode, LogView]> = [];
  /** Nodes that were a data voter in their applied configuration at some point. */
  private readonly everDataVoter = new Set<NodeId>();
  private readonly voterSeenAt = new Map<NodeId, number>();

  afterStep(nodes: readonly SimNode[]): void {
    const views = this.views;
    views.length = 0;
    for (const n of nodes) {
      const raft = n.raft;
      if (!raft) continue;
      const log = raft.inspectLog();
      views.push([n, raft, log]);
      this.trackCommit(n.id, log);
      if (!n.witness && this.voterSeenAt.get(n.id) !== log.applied) {
        this.voterSeenAt.set(n.id, log.applied);
        const cs = raft.confState();
        if (!cs.witnesses.includes(n.id) && (cs.voters.includes(n.id) || cs.votersOutgoing.includes(n.id))) this.everDataVoter.add(n.id);
      }
    }
    // Leaders after commits: a new leader is held to everything committed up to this step.
    for (const [n, raft, log] of views) {
      if (raft.role === Role.Leader) this.checkLeader(n, raft, log);
    }
  }

  private trackCommit(id: NodeId, log: LogView): void {
    const c = log.committed;
    const seen = this.commitSeen.get(id) ?? 0;
    for (let i = Math.max(seen + 1, log.firstIndex); i <= c; i++) {
      const t = log.term(i);
      if (t > 0) this.recordCommitted(i, t, `node ${id}`);
    }
    // Also when c went down (a restart forgets an unpersisted commit index): re-check from there.
    this.commitSeen.set(id, c);
  }

  private recordCommitted(i: number, term: number, who: string): void {
    const known = this.committedTerm[i] ?? 0;
    if (known === 0) {
      setAt(this.committedTerm, i, term);
      if (i > this.globalCommit) this.globalCommit = i;
      const a = this.acked.get(i);
      if (a && a.term !== term) this.fail('durability', `write ${a.write} was acknowledged at ${i}@${a.term}, but ${who} has ${i}@${term} committed`);
    } else if (known !== term) {
      this.fail('state-machine-safety', `index ${i} was committed with term ${known}, but ${who} has term ${term} committed there`);
    }
  }

  private checkLeader(n: SimNode, raft: RawNode, log: LogView): void {
    const term = raft.term;
    const prev = this.leaderOfTerm.get(term);
    if (prev === n.id) return;
    if (prev !== undefined) this.fail('election-safety', `nodes ${prev} and ${n.id} were both leader of term ${term}`);
    this.leaderOfTerm.set(term, n.id);

    const cs = raft.confState();
    if (n.witness || cs.witnesses.includes(n.id)) this.fail('role-safety', `witness ${n.id} became leader of term ${term}`);
    // A data voter that applied its own removal may still lead, only to hand off (see
    // Raft.promotable); a node that never was one may not.
    if (!cs.voters.includes(n.id) && !cs.votersOutgoing.includes(n.id) && !this.everDataVoter.has(n.id)) {
      this.fail(
        'role-safety',
        `node ${n.id} became leader of term ${term} but is not a voter (voters ${fmt(cs.voters)}, outgoing ${fmt(cs.votersOutgoing)}, learners ${fmt(cs.learners)})`,
      );
    }

    if (log.lastIndex < this.globalCommit) {
      this.fail('leader-completeness', `node ${n.id} became leader of term ${term} with last index ${log.lastIndex}, below the committed index ${this.globalCommit}`);
    }
    for (let i = Math.max(1, log.firstIndex); i <= this.globalCommit; i++) {
      const c = this.committedTerm[i] ?? 0;
      if (c !== 0 && log.term(i) !== c) {
        this.fail('leader-completeness', `node ${n.id} became leader of term ${term} with term ${log.term(i)} at index ${i}, where term ${c} is committed`);
      }
    }
  }

  // ---- disk ----------------------------------------------------------------------------

  entriesPersisted(n: SimNode, entries: Entry[]): void {
    if (n.witness) {
      for (const e of entries) {
        if (e.type === EntryType.Normal && e.data.length > 0) {
          this.fail('role-safety', `witness ${n.id} persisted user data at ${e.index}@${e.term} (it should get Metadata entries)`);
        }
      }
    }
    this.logs.appended(n.id, entries);
  }

  snapshotPersisted(n: SimNode, snap: Snapshot): void {
    if (n.witness && snap.data.length > 0) this.fail('role-safety', `witness ${n.id} received a snapshot with ${snap.data.length} bytes of data`);
    this.logs.snapshotInstalled(n.id, snap);
  }

  compacted(n: SimNode): void {
    this.logs.compacted(n.id, n.storage);
  }

  fullCheck(nodes: readonly SimNode[]): void {
    this.logs.fullCheck(nodes);
  }

  // ---- state machine -------------------------------------------------------------------

  /** The node's app state was replaced from a snapshot: check it against the history. */
  appRestored(n: SimNode, snap: Snapshot): void {
    const s = snap.metadata.index;
    this.lastApplied.set(n.id, s);
    if (s === 0) return;
    this.recordCommitted(s, snap.metadata.term, `a snapshot on node ${n.id}`);
    if (s === this.genesis.index && snap.metadata.term === this.genesis.term) {
      // The founding snapshot: the initial application state, for data nodes and witnesses alike.
      if (snap.data.length > 0) this.fail('state-machine-safety', `node ${n.id} got a founding snapshot with data`);
      this.matchHistory(this.termChecksums, s, HASH_START, n.id);
      this.matchHistory(this.dataChecksums, s, HASH_START, n.id);
      n.app.termChecksum = n.app.dataChecksum = HASH_START;
      return;
    }
    const termCk = this.termChecksums[s];
    if (termCk === undefined) this.fail('state-machine-safety', `node ${n.id} restored a snapshot at ${s}, an index no node has applied`);
    if (n.witness) {
      // A witness has no state of its own: it continues the history everyone agreed on.
      n.app.termChecksum = termCk;
      return;
    }
    const st = decodeAppState(snap.data);
    if (!st) this.fail('state-machine-safety', `node ${n.id} restored snapshot ${s} whose ${snap.data.length}-byte data is not application state`);
    if (st.index !== s) this.fail('state-machine-safety', `snapshot ${s} on node ${n.id} carries the application state of index ${st.index}`);
    if (st.termChecksum !== termCk || st.dataChecksum !== this.dataChecksums[s]) {
      this.fail('state-machine-safety', `snapshot ${s} restored on node ${n.id} does not match the history applied up to ${s} elsewhere`);
    }
  }

  applied(n: SimNode, e: Entry): void {
    const prev = this.lastApplied.get(n.id) ?? 0;
    if (e.index !== prev + 1) this.fail('state-machine-safety', `node ${n.id} applied entry ${e.index} right after ${prev}`);
    this.lastApplied.set(n.id, e.index);
    const committed = this.committedTerm[e.index] ?? 0;
    if (committed === 0) this.recordCommitted(e.index, e.term, `node ${n.id} (applying)`);
    else if (committed !== e.term) {
      this.fail('state-machine-safety', `node ${n.id} applied ${e.index}@${e.term}, but term ${committed} is committed at ${e.index}`);
    }
    if (n.witness) {
      if (e.type === EntryType.Normal && e.data.length > 0) this.fail('role-safety', `witness ${n.id} applied user data at ${e.index}`);
    } else if (e.type === EntryType.Metadata) {
      this.fail('role-safety', `data node ${n.id} applied a Metadata entry at ${e.index}: its data was stripped`);
    }
    this.matchHistory(this.termChecksums, e.index, n.app.termChecksum, n.id);
    if (!n.witness) this.matchHistory(this.dataChecksums, e.index, n.app.dataChecksum, n.id);
  }

  private matchHistory(history: (number | undefined)[], i: number, checksum: number, id: NodeId): void {
    const known = history[i];
    if (known === undefined) {
      while (history.length < i) history.push(undefined);
      history[i] = checksum;
    } else if (known !== checksum) {
      this.fail('state-machine-safety', `node ${id}'s applied history diverges from the others' at index ${i}`);
    }
  }

  // ---- clients -------------------------------------------------------------------------

  writeAcked(n: SimNode, index: number, term: number, write: number): void {
    const c = this.committedTerm[index] ?? 0;
    if (c !== term) this.fail('durability', `write ${write} was acknowledged by node ${n.id} at ${index}@${term}, but term ${c} is committed there`);
    this.acked.set(index, { term, write });
    if (index > this.maxAckedIndex) this.maxAckedIndex = index;
  }

  /** `mustSee` is maxAckedIndex when the read began. */
  readServed(n: SimNode, read: number, readIndex: number, mustSee: number): void {
    if (readIndex < mustSee) {
      this.fail('read-linearizability', `read ${read} on node ${n.id} was served at index ${readIndex}, but a write acknowledged before it began is at index ${mustSee}`);
    }
    if (n.app.index < readIndex) this.fail('read-linearizability', `read ${read} on node ${n.id} served at applied ${n.app.index} < read index ${readIndex}`);
  }

  /** At the end: every acknowledged write is still in the leader's log. */
  finalCheck(leader: SimNode): void {
    const raft = leader.raft;
    if (!raft) return;
    const log = raft.inspectLog();
    for (const [i, a] of this.acked) {
      if (i >= log.firstIndex && log.term(i) !== a.term) {
        this.fail('durability', `write ${a.write} acknowledged at ${i}@${a.term} is not in the final leader ${leader.id}'s log`);
      }
    }
  }

  get ackedWrites(): number {
    return this.acked.size;
  }
}

const fmt = (ids: number[]): string => `[${ids.join(',')}]`;
