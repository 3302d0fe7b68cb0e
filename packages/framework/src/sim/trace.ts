// Readable one-line descriptions of messages and changes for `--trace`: enums print as words.

import type { ConfChange } from '../core/confchange/types.js';
import { EntryType, MessageType, type Entry, type Message } from '../core/types.js';

function entries(es: Entry[]): string {
  if (es.length === 0) return '';
  const kinds = es.map((e) => (e.type === EntryType.Normal ? (e.data.length === 0 ? 'noop' : 'w') : EntryType[e.type]));
  const first = es[0]!;
  const last = es[es.length - 1]!;
  const range = es.length === 1 ? `${first.index}@${first.term}` : `${first.index}..${last.index}@${first.term}..${last.term}`;
  return ` entries=${range}[${kinds.join(',')}]`;
}

export function describeMessage(m: Message): string {
  let s = `${MessageType[m.type] ?? m.type} ${m.from}->${m.to} term=${m.term}`;
  switch (m.type) {
    case MessageType.Append:
      s += ` prev=${m.index}@${m.logTerm} commit=${m.commit}${entries(m.entries)}`;
      break;
    case MessageType.AppendResponse:
      s += m.reject ? ` reject index=${m.index} hint=${m.rejectHint}@${m.logTerm}` : ` match=${m.index}`;
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      s += ` last=${m.index}@${m.logTerm}${m.transfer ? ' transfer' : ''}`;
      break;
    case MessageType.VoteResponse:
    case MessageType.PreVoteResponse:
      s += m.reject ? ' reject' : ' grant';
      break;
    case MessageType.Snapshot:
      if (m.snapshot) s += ` snapshot=${m.snapshot.metadata.index}@${m.snapshot.metadata.term} bytes=${m.snapshot.data.length}`;
      break;
    case MessageType.Heartbeat:
      s += ` commit=${m.commit}`;
      break;
    case MessageType.ReadIndexResponse:
      s += ` index=${m.index}`;
      break;
    default:
      break;
  }
  return s;
}

export function describeConfChange(cc: ConfChange): string {
  if (cc.changes.length === 0) return `leave-joint (${cc.transition})`;
  return `${cc.changes.map((c) => `${c.type} ${c.nodeId}`).join(', ')} (${cc.transition})`;
}
