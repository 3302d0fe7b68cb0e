// Text renderings of the core's values for the golden traces: one line per entry, message,
// read state or progress, fields in a fixed order, zero-valued fields left out. Index/term pairs
// are written term/index, as etcd does ("Log:1/2" is the entry at index 2 of term 1).
import { decodeConfChange } from '../../src/core/confchange/codec.js';
import { ConfChangeTransition, ConfChangeType, type ConfChange } from '../../src/core/confchange/types.js';
import { EntryType, MessageType, type ConfState, type Entry, type Message, type ProgressStatus, type ReadState, type Ready, type Snapshot } from '../../src/core/types.js';
import type { RawNode } from '../../src/core/raw-node.js';

const text = new TextDecoder();
export const quote = (b: Uint8Array): string => JSON.stringify(text.decode(b));

/** Conf changes as etcd writes them: v4 (add voter), l4 (learner), w4 (witness), r4 (remove). */
export const CHANGE_LETTERS: Record<ConfChangeType, string> = {
  [ConfChangeType.AddVoter]: 'v',
  [ConfChangeType.AddLearner]: 'l',
  [ConfChangeType.AddWitness]: 'w',
  [ConfChangeType.RemoveNode]: 'r',
};

export function renderConfChange(cc: ConfChange): string {
  const changes = cc.changes.length === 0 ? 'leave-joint' : cc.changes.map((c) => `${CHANGE_LETTERS[c.type]}${c.nodeId}`).join(' ');
  const transition = cc.transition === ConfChangeTransition.Auto ? '' : `${cc.transition} `;
  return transition + changes + (cc.context !== undefined ? ` Ctx:${JSON.stringify(cc.context)}` : '');
}

export function renderEntry(e: Entry): string {
  const at = `${e.term}/${e.index}`;
  if (e.type === EntryType.Normal) return `${at} EntryNormal ${quote(e.data)}`;
  if (e.type === EntryType.Metadata) return `${at} EntryMetadata`;
  try {
    return `${at} EntryConfChange ${renderConfChange(decodeConfChange(e.data))}`;
  } catch {
    return `${at} EntryConfChange <invalid> ${quote(e.data)}`;
  }
}

const ids = (xs: number[]) => `(${xs.join(' ')})`;

/** As etcd: voters=(1 2 3)&&(1 2) in a joint configuration (incoming&&outgoing). */
export function renderConfState(cs: ConfState): string {
  let s = `voters=${ids(cs.voters)}`;
  if (cs.votersOutgoing.length > 0) s += `&&${ids(cs.votersOutgoing)}`;
  if (cs.learners.length > 0) s += ` learners=${ids(cs.learners)}`;
  if (cs.learnersNext.length > 0) s += ` learners_next=${ids(cs.learnersNext)}`;
  if (cs.witnesses.length > 0) s += ` witnesses=${ids(cs.witnesses)}`;
  if (cs.autoLeave) s += ' autoleave';
  return s;
}

export function renderSnapshot(s: Snapshot): string {
  const data = s.data.length > 0 ? ` Data:${quote(s.data)}` : '';
  return `${s.metadata.term}/${s.metadata.index} ${renderConfState(s.metadata.confState)}${data}`;
}

// Fields every message line shows up front, and the rest in the order they are tried.
type Field = keyof Message;
const HEAD: Field[] = ['type', 'from', 'to', 'term'];
const REST: [Field, (m: Message) => string | undefined][] = [
  ['logTerm', (m) => (m.logTerm !== 0 ? `LogTerm:${m.logTerm}` : undefined)],
  ['index', (m) => (m.index !== 0 ? `Index:${m.index}` : undefined)],
  ['commit', (m) => (m.commit !== 0 ? `Commit:${m.commit}` : undefined)],
  ['reject', (m) => (m.reject ? 'Rejected' : undefined)],
  ['rejectHint', (m) => (m.rejectHint !== 0 ? `RejectHint:${m.rejectHint}` : undefined)],
  ['entries', (m) => (m.entries.length > 0 ? `Entries:[${m.entries.map(renderEntry).join(', ')}]` : undefined)],
  ['snapshot', (m) => (m.snapshot ? `Snapshot:[${renderSnapshot(m.snapshot)}]` : undefined)],
  ['context', (m) => (m.context ? `Ctx:${quote(m.context)}` : undefined)],
  ['leaseTick', (m) => (m.leaseTick !== undefined ? `LeaseTick:${m.leaseTick}` : undefined)],
  ['transfer', (m) => (m.transfer ? 'Transfer' : undefined)],
  ['lease', (m) => (m.lease ? 'Lease' : undefined)],
];

/**
 * One message: `from->to Type Term:T` and then the fields that mean something for the type,
 * under names that say what they mean; any other field that is set is still shown (under its
 * own name), so nothing the core puts in a message can hide from a trace.
 */
export function renderMessage(m: Message): string {
  const parts = [`${m.from}->${m.to}`, MessageType[m.type] ?? `Type${m.type}`, `Term:${m.term}`];
  const shown = new Set<Field>(HEAD);
  const show = (s: string, ...fields: Field[]) => {
    parts.push(s);
    for (const f of fields) shown.add(f);
  };
  switch (m.type) {
    case MessageType.Append:
      show(`Log:${m.logTerm}/${m.index} Commit:${m.commit}`, 'logTerm', 'index', 'commit');
      break;
    case MessageType.AppendResponse:
      // A rejection names the probe it rejects and hints (term/index) where the leader should look next.
      if (m.reject) show(`Rejected Index:${m.index} Hint:${m.logTerm}/${m.rejectHint}`, 'reject', 'index', 'logTerm', 'rejectHint');
      else show(`Index:${m.index}`, 'index');
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      show(`Log:${m.logTerm}/${m.index}`, 'logTerm', 'index');
      break;
    case MessageType.VoteResponse:
    case MessageType.PreVoteResponse:
      if (m.reject) show('Rejected', 'reject');
      // The voter's commit hint: an entry (term/index) it knows is committed.
      if (m.commit !== 0 || m.logTerm !== 0) show(`Commit:${m.logTerm}/${m.commit}`, 'commit', 'logTerm');
      break;
    case MessageType.Heartbeat:
      show(`Commit:${m.commit}`, 'commit');
      break;
  }
  for (const [field, render] of REST) {
    if (shown.has(field)) continue;
    const s = render(m);
    if (s !== undefined) parts.push(s);
  }
  const known = new Set<string>([...HEAD, ...REST.map(([f]) => f)]);
  for (const key of Object.keys(m).sort()) {
    const v = (m as unknown as Record<string, unknown>)[key];
    if (!known.has(key) && v !== undefined) parts.push(`${key}:${JSON.stringify(v)}`);
  }
  return parts.join(' ');
}

export function renderReadState(rs: ReadState): string {
  return `Index:${rs.index} Ctx:${quote(rs.context)} Term:${rs.term}`;
}

/** A Ready, section by section; empty sections are left out. */
export function renderReady(rd: Ready): string[] {
  const out = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState) out.push(`Lead:${rd.softState.lead} Role:${rd.softState.role}`);
  if (rd.hardState) out.push(`HardState Term:${rd.hardState.term} Vote:${rd.hardState.vote} Commit:${rd.hardState.commit}`);
  if (rd.snapshot) out.push(`Snapshot ${renderSnapshot(rd.snapshot)}`);
  const section = <T>(title: string, xs: T[], render: (x: T) => string) => {
    if (xs.length > 0) out.push(`${title}:`, ...xs.map(render));
  };
  section('Entries', rd.entries, renderEntry);
  section('CommittedEntries', rd.committedEntries, renderEntry);
  section('Messages', rd.messages, renderMessage);
  section('ReadStates', rd.readStates, renderReadState);
  return out;
}

/** One line: role, term, vote, leader, commit, applied, last index, configuration. */
export function renderNodeLine(rn: RawNode): string {
  const st = rn.status();
  const log = rn.inspectLog();
  const hs = st.hardState;
  return (
    `${st.id}: ${st.softState.role} Term:${hs.term} Vote:${hs.vote} Lead:${st.softState.lead} ` +
    `Commit:${hs.commit} Applied:${st.applied} Last:${log.lastIndex} ${renderConfState(st.confState)}`
  );
}

export function renderProgress(p: ProgressStatus): string {
  const flags = [p.learner ? 'learner' : '', p.witness ? 'witness' : '', p.recentActive ? '' : 'inactive'].filter(Boolean);
  const inflight = p.inflight > 0 ? ` inflight=${p.inflight}` : '';
  return `${p.id}: ${p.state} match=${p.match} next=${p.next}${inflight}${flags.length > 0 ? ' ' + flags.join(' ') : ''}`;
}

/** status ID: the node line, a pending transfer, and on a leader one progress line per member. */
export function renderStatus(rn: RawNode): string[] {
  const st = rn.status();
  const out = [renderNodeLine(rn)];
  if (st.leadTransferee !== 0) out.push(`transferring leadership to ${st.leadTransferee}`);
  if (st.progress.length > 0) out.push('progress:', ...st.progress.map((p) => `  ${renderProgress(p)}`));
  return out;
}
