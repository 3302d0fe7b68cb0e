// The interpreter behind the golden traces: a cluster of RawNodes over MemoryStorage whose every
// step is driven by a command from a testdata file and reported as text. Nothing happens on its
// own: ticks, Ready handling and message delivery are each a command, and `stabilize` runs the
// last two to quiescence. Messages wait in one FIFO network queue until delivered.
//
// Commands (ids are node ids; "..." is one or more):
//   add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [prevote=false] [checkquorum=false] [read-only=lease]
//       N new nodes, ids continuing from the highest so far. With voters/learners: founding
//       members, starting from a snapshot at index I (default 1, as MemoryStorage.bootstrap).
//       Without: nodes with an empty configuration that join by getting a snapshot.
//   campaign ID | propose ID DATA | read-index ID CTX | transfer-leadership from=ID to=ID
//   propose-conf-change ID [transition=auto|joint-implicit|joint-explicit] [v4 l4 w4 r4 ...]
//       (no changes: leave the joint configuration)
//   tick-heartbeat ID... | tick-election ID...      heartbeatTick / electionTick ticks each
//   process-ready ID... | deliver-msgs [ID...] | stabilize [ID...]
//   isolate ID... | heal                            drop every message to or from isolated nodes
//   status ID... | raft-log ID... | raft-state
//   output off | output on                          silence the commands in between (scene setting)
//
// Every node uses electionTick 3, heartbeatTick 1 and random() = 0: its election timeout is
// exactly 3 ticks, so `tick-election` makes a follower campaign. Its leader lease (check-quorum's
// leader stickiness) ends on the same tick, so a follower that should grant a vote must have
// had its own timeout first. Errors the core returns to callers (RaftError) are printed as
// "error: code: message"; any other exception fails the test at the command's line.
import { emptyConfState } from '../../src/core/conf-state.js';
import type { RaftConfig } from '../../src/core/config.js';
import { ConfChangeTransition, type ConfChangeType, type ConfChange } from '../../src/core/confchange/types.js';
import { RaftError } from '../../src/core/errors.js';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RawNode } from '../../src/core/raw-node.js';
import { ReadOnlyOption, type ConfState, type Message, type NodeId } from '../../src/core/types.js';
import { CHANGE_LETTERS, renderConfState, renderEntry, renderMessage, renderNodeLine, renderReady, renderSnapshot, renderStatus } from './render.js';

const ELECTION_TICK = 3;
const HEARTBEAT_TICK = 1;

interface Node {
  id: NodeId;
  rn: RawNode;
  storage: MemoryStorage;
}

/** A command line: positional arguments and key=value options (values may be (1,2,3) lists). */
interface Command {
  name: string;
  args: string[];
  opts: Map<string, string>;
}

function parseCommand(line: string): Command {
  const [name = '', ...words] = line.split(/\s+/);
  const args: string[] = [];
  const opts = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) opts.set(w.slice(0, eq), w.slice(eq + 1));
    else args.push(w);
  }
  return { name, args, opts };
}

const enc = (s: string) => new TextEncoder().encode(s);

function parseId(s: string | undefined): NodeId {
  const id = Number(s);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`not a node id: ${s}`);
  return id;
}

function parseIdList(s: string | undefined): NodeId[] {
  if (s === undefined) return [];
  const m = /^\((.*)\)$/.exec(s);
  if (!m) throw new Error(`expected a list like (1,2,3), got ${s}`);
  return m[1]!
    .split(',')
    .filter((x) => x.trim() !== '')
    .map(parseId);
}

function parseBool(s: string | undefined, dflt: boolean): boolean {
  if (s === undefined) return dflt;
  if (s !== 'true' && s !== 'false') throw new Error(`expected true or false, got ${s}`);
  return s === 'true';
}

const LETTER_TYPES = new Map(Object.entries(CHANGE_LETTERS).map(([type, letter]) => [letter, type as ConfChangeType]));

export class Env {
  private readonly nodes = new Map<NodeId, Node>();
  /** Messages sent and not yet delivered, in send order. */
  private queue: Message[] = [];
  private readonly isolated = new Set<NodeId>();
  private out: string[] = [];
  private indent = '';
  /** `output off`: commands print nothing (to set a scene without its trace). */
  private silent = false;

  /** Runs one command and returns its output ("ok" when there is none). */
  run(line: string): string {
    this.out = [];
    this.indent = '';
    const cmd = parseCommand(line);
    this.dispatch(cmd);
    return this.out.length > 0 ? this.out.join('\n') : 'ok';
  }

  private print(...lines: string[]): void {
    if (this.silent) return;
    for (const l of lines) this.out.push(this.indent + l);
  }

  private node(id: NodeId): Node {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  private ids(args: string[]): NodeId[] {
    return args.length > 0 ? args.map(parseId) : [...this.nodes.keys()];
  }

  /**
   * Runs `f` on node `id` and reports what changed about it that the host cannot see until
   * the next Ready: its role, term or leader. (The core writes no log; this stands in for it.)
   */
  private observe(id: NodeId, f: () => void): void {
    const rn = this.node(id).rn;
    const before = `${rn.role}/${rn.term}/${rn.lead}`;
    try {
      f();
    } catch (e) {
      // Errors the core returns to callers are part of the trace; anything else is a bug.
      if (!(e instanceof RaftError)) throw e;
      this.print(`error: ${e.code}: ${e.message}`);
    }
    if (`${rn.role}/${rn.term}/${rn.lead}` === before) return;
    this.print(`${id} is ${rn.role} at term ${rn.term}${rn.lead !== 0 && rn.lead !== id ? `, leader ${rn.lead}` : ''}`);
  }

  private dispatch(c: Command): void {
    const id = () => parseId(c.args[0]);
    switch (c.name) {
      case 'add-nodes':
        return this.addNodes(c);
      case 'campaign':
        return this.observe(id(), () => this.node(id()).rn.campaign());
      case 'propose':
        if (c.args[1] === undefined) throw new Error('propose ID DATA');
        return this.observe(id(), () => void this.node(id()).rn.propose(enc(c.args[1]!)));
      case 'propose-conf-change':
        return this.observe(id(), () => void this.node(id()).rn.proposeConfChange(this.confChange(c)));
      case 'read-index':
        return this.observe(id(), () => this.node(id()).rn.readIndex(enc(c.args[1] ?? '')));
      case 'transfer-leadership': {
        const from = parseId(c.opts.get('from'));
        return this.observe(from, () => this.node(from).rn.transferLeader(parseId(c.opts.get('to'))));
      }
      case 'tick-heartbeat':
      case 'tick-election': {
        const n = c.name === 'tick-heartbeat' ? HEARTBEAT_TICK : ELECTION_TICK;
        for (const i of c.args.map(parseId)) this.observe(i, () => Array.from({ length: n }, () => this.node(i).rn.tick()));
        return;
      }
      case 'process-ready':
        for (const i of this.ids(c.args)) this.processReady(this.node(i));
        return;
      case 'deliver-msgs':
        for (const i of this.ids(c.args)) this.deliver(i);
        return;
      case 'stabilize':
        return this.stabilize(this.ids(c.args));
      case 'isolate':
        for (const i of c.args.map(parseId)) this.isolated.add(i);
        return;
      case 'output':
        if (c.args[0] !== 'on' && c.args[0] !== 'off') throw new Error('output on|off');
        this.silent = c.args[0] === 'off';
        return;
      case 'heal':
        this.isolated.clear();
        return;
      case 'status':
        for (const i of this.ids(c.args)) this.print(...renderStatus(this.node(i).rn));
        return;
      case 'raft-state':
        for (const n of this.nodes.values()) this.print(renderNodeLine(n.rn) + (this.isolated.has(n.id) ? ' (isolated)' : ''));
        return;
      case 'raft-log':
        for (const i of this.ids(c.args)) this.raftLog(this.node(i));
        return;
      default:
        throw new Error(`unknown command ${c.name}`);
    }
  }

  private addNodes(c: Command): void {
    const count = parseId(c.args[0]);
    const voters = parseIdList(c.opts.get('voters'));
    const learners = parseIdList(c.opts.get('learners'));
    const index = Number(c.opts.get('index') ?? 1);
    const cs: ConfState = { ...emptyConfState(), voters, learners };
    const first = Math.max(0, ...this.nodes.keys()) + 1;
    for (let id = first; id < first + count; id++) {
      let storage: MemoryStorage;
      if (voters.length + learners.length === 0) {
        storage = MemoryStorage.bootstrap(emptyConfState());
      } else if (index === 1) {
        storage = MemoryStorage.bootstrap(cs);
      } else {
        // As bootstrap, with the founding snapshot at a later index.
        storage = new MemoryStorage();
        storage.applySnapshot({ metadata: { index, term: 1, confState: cs }, data: new Uint8Array(0) });
        storage.setHardState({ term: 1, vote: 0, commit: index });
      }
      const config: RaftConfig = {
        id,
        electionTick: ELECTION_TICK,
        heartbeatTick: HEARTBEAT_TICK,
        storage,
        random: () => 0,
        preVote: parseBool(c.opts.get('prevote'), true),
        checkQuorum: parseBool(c.opts.get('checkquorum'), true),
        readOnlyOption: c.opts.get('read-only') === 'lease' ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
      };
      const n: Node = { id, rn: new RawNode(config), storage };
      this.nodes.set(id, n);
      this.print(renderNodeLine(n.rn));
    }
  }

  private confChange(c: Command): ConfChange {
    const transition = (c.opts.get('transition') ?? ConfChangeTransition.Auto) as ConfChangeTransition;
    const changes = c.args.slice(1).map((w) => {
      const type = LETTER_TYPES.get(w[0]!);
      if (!type) throw new Error(`bad conf change ${w}: expected v/l/w/r followed by a node id`);
      return { type, nodeId: parseId(w.slice(1)) };
    });
    return { transition, changes };
  }

  /** Handles one Ready as a host would: persist, send, apply, advance. */
  private processReady(n: Node): void {
    this.print(`> ${n.id} handling Ready`);
    this.indent = '  ';
    if (!n.rn.hasReady()) {
      this.print('<empty Ready>');
    } else {
      const rd = n.rn.ready();
      this.print(...renderReady(rd));
      if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
      n.storage.append(rd.entries);
      if (rd.hardState) n.storage.setHardState(rd.hardState);
      this.queue.push(...rd.messages);
      const conf = renderConfState(n.rn.confState());
      this.observe(n.id, () => n.rn.advance(rd));
      const now = renderConfState(n.rn.confState());
      if (now !== conf) this.print(`${n.id} applied the configuration ${now}`);
    }
    this.indent = '';
  }

  /** Delivers (steps) every queued message addressed to `id`, in order. */
  private deliver(id: NodeId): boolean {
    const mine = this.queue.filter((m) => m.to === id);
    if (mine.length === 0) return false;
    this.queue = this.queue.filter((m) => m.to !== id);
    this.print(`> ${id} receiving messages`);
    this.indent = '  ';
    for (const m of mine) {
      if (this.isolated.has(m.from) || this.isolated.has(m.to) || !this.nodes.has(m.to)) {
        this.print(`dropped: ${renderMessage(m)}`);
        continue;
      }
      this.print(renderMessage(m));
      this.observe(id, () => this.node(id).rn.step(m));
    }
    this.indent = '';
    return true;
  }

  /** Rounds of (each node handles one Ready; each node receives its messages) until quiet. */
  private stabilize(ids: NodeId[]): void {
    for (let round = 0; round < 1000; round++) {
      let busy = false;
      for (const id of ids) {
        if (!this.node(id).rn.hasReady()) continue;
        this.processReady(this.node(id));
        busy = true;
      }
      for (const id of ids) busy = this.deliver(id) || busy;
      if (!busy) return;
    }
    throw new Error('stabilize: still busy after 1000 rounds');
  }

  /** The node's stable storage: snapshot, then entries (and how far the core's log goes beyond). */
  private raftLog(n: Node): void {
    const s = n.storage;
    const snap = s.snapshot();
    if (snap.metadata.index > 0) this.print(`snapshot ${renderSnapshot(snap)}`);
    if (s.lastIndex() >= s.firstIndex()) {
      for (const e of s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER)) this.print(renderEntry(e));
    } else {
      this.print(`log is empty: first index ${s.firstIndex()}, last index ${s.lastIndex()}`);
    }
    const last = n.rn.inspectLog().lastIndex;
    if (last > s.lastIndex()) this.print(`(not yet persisted: up to index ${last})`);
  }
}
