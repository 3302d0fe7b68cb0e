// What a stage trace (common/stage-trace.ts) records of a round's writes and messages: the log
// indexes they carry, so the trace of one entry can be followed across nodes.
import { MessageType, type Message } from '../core/types.js';
import type { GroupWrite } from '../storage/log-store.js';

/** An Append's entries as `first-last` (empty: `-`), a response's matched index, else nothing. */
export function messageSpan(m: Message): string | undefined {
  if (m.type === MessageType.Append) return m.entries.length === 0 ? '-' : `${m.index + 1}-${m.index + m.entries.length}`;
  if (m.type === MessageType.AppendResponse) return m.reject ? 'reject' : String(m.index);
  return undefined;
}

/** The highest entry index in a round's writes (0 when it writes no entries). */
export function lastWrittenIndex(writes: GroupWrite[]): number {
  let last = 0;
  for (const w of writes) {
    const e = w.entries[w.entries.length - 1];
    if (e && e.index > last) last = e.index;
  }
  return last;
}
