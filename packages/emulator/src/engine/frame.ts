// What the page shows for one step: every node's state after it (and after the actions taken
// there), the event the step handled, and the trace lines it printed. Frames are plain data,
// captured from the real core through its read-only views.

import type { SessionRun } from '@raftkit/framework/sim';

export interface ProgressView {
  id: number;
  match: number;
  next: number;
  state: string;
}

export interface NodeView {
  id: number;
  up: boolean;
  decommissioned: boolean;
  witness: boolean;
  role: string;
  term: number;
  vote: number;
  lead: number;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  /** Terms of the log's entries from `logFrom` to lastIndex (the last LOG_KEPT at most). */
  logFrom: number;
  logTerms: number[];
  electionElapsed: number;
  electionTimeout: number;
  /** The leader's view of each peer; [] on other roles. */
  progress: ProgressView[];
  /** How fast this node's clock runs against the others' (clock skew). */
  clockRate: number;
  /** The applied configuration, in words. */
  conf: string;
  /** The execution history: the applied index and the chained checksums up to it (hex). */
  historyIndex: number;
  termChecksum: string;
  dataChecksum: string;
}

export interface Frame {
  step: number;
  /** Virtual time, in ticks. */
  time: number;
  /** The event this step handled ("initial state" for step 0). */
  event: string;
  /** Actions taken after the step's event, before the next. */
  actions: string[];
  nodes: NodeView[];
  /** The trace lines of the step (and its actions). */
  lines: string[];
  /** Nodes whose applied history disagrees with what another node applied at the same index. */
  divergent: number[];
  /** A broken invariant, when this step broke one. */
  violation?: string;
}

/** Log entries kept per node in a frame: enough to draw, bounded so long runs stay small. */
export const LOG_KEPT = 40;

const hex = (n: number): string => n.toString(16).padStart(8, '0');

function describeConf(cs: { voters: number[]; votersOutgoing: number[]; learners: number[]; learnersNext: number[]; witnesses: number[] }): string {
  let s = `voters ${cs.voters.join(',') || '-'}`;
  if (cs.votersOutgoing.length) s += ` | outgoing ${cs.votersOutgoing.join(',')}`;
  if (cs.learners.length) s += `; learners ${cs.learners.join(',')}`;
  if (cs.learnersNext.length) s += `; learnersNext ${cs.learnersNext.join(',')}`;
  if (cs.witnesses.length) s += `; witnesses ${cs.witnesses.join(',')}`;
  return s;
}

export function captureNodes(run: SessionRun, clockRates: ReadonlyMap<number, number>): NodeView[] {
  return run.sim.nodes.map((n): NodeView => {
    const raft = n.raft;
    const base = {
      id: n.id,
      clockRate: clockRates.get(n.id) ?? 1,
      decommissioned: n.decommissioned,
      witness: n.witness,
      historyIndex: n.app.index,
      termChecksum: hex(n.app.termChecksum),
      dataChecksum: hex(n.app.dataChecksum),
    };
    if (!raft) {
      const hs = n.storage.initialState().hardState;
      const first = n.storage.firstIndex();
      const last = n.storage.lastIndex();
      const logFrom = Math.max(first, last - LOG_KEPT + 1);
      const logTerms: number[] = [];
      for (let i = logFrom; i <= last; i++) logTerms.push(n.storage.term(i));
      return {
        ...base,
        up: false,
        role: 'down',
        term: hs.term,
        vote: hs.vote,
        lead: 0,
        commit: hs.commit,
        applied: 0,
        firstIndex: first,
        lastIndex: last,
        logFrom,
        logTerms,
        electionElapsed: 0,
        electionTimeout: 0,
        progress: [],
        conf: '',
      };
    }
    const st = raft.status();
    const log = raft.inspectLog();
    const logFrom = Math.max(log.firstIndex, log.lastIndex - LOG_KEPT + 1);
    const logTerms: number[] = [];
    for (let i = logFrom; i <= log.lastIndex; i++) logTerms.push(log.term(i));
    const timer = raft.electionTimer();
    return {
      ...base,
      up: true,
      role: raft.role,
      term: raft.term,
      vote: st.hardState.vote,
      lead: raft.lead,
      commit: log.committed,
      applied: log.applied,
      firstIndex: log.firstIndex,
      lastIndex: log.lastIndex,
      logFrom,
      logTerms,
      electionElapsed: timer.elapsed,
      electionTimeout: timer.timeout,
      progress: st.progress.map((p) => ({ id: p.id, match: p.match, next: p.next, state: String(p.state) })),
      conf: describeConf(st.confState),
    };
  });
}

/** True when two views of a node show the same state (a frame then shares the older one). */
export function sameView(a: NodeView, b: NodeView): boolean {
  for (const k of Object.keys(b) as Array<keyof NodeView>) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      const p = x[i] as number | ProgressView;
      const q = y[i] as number | ProgressView;
      if (p === q) continue;
      if (typeof p !== 'object' || typeof q !== 'object' || p.id !== q.id || p.match !== q.match || p.next !== q.next || p.state !== q.state) return false;
    }
  }
  return true;
}
