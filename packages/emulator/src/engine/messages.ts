// Every message copy of the run, from the simulator's hooks: who sent it when, and whether and
// when it arrived or died. The sequence diagram is drawn from these records.

import { TICK, describeMessage, type SimHooks } from '@raftkit/framework/sim';
import type { Message } from '@raftkit/framework/core';
import { MessageType } from '@raftkit/framework/core';

export interface MessageRecord {
  /** The simulator's id for a copy on its way; negative for a message the network lost at once. */
  id: number;
  type: string;
  from: number;
  to: number;
  term: number;
  label: string;
  sentStep: number;
  /** Virtual time in ticks. */
  sentTime: number;
  /** Planned arrival, in ticks (absent when lost at once). */
  arriveTime?: number;
  deliveredStep?: number;
  /** Arrival time in ticks when it is not a step's (the live view's messages, timed by the wall clock). */
  deliveredTime?: number;
  droppedStep?: number;
  /** Why it died: 'lost' (random loss or a cut link when sent), 'link cut', 'target down', 'by hand'. */
  dropReason?: string;
}

export const typeName = (t: MessageType): string => MessageType[t] ?? String(t);

/** Collects records through the simulator's hooks; `clock` gives the current step and time. */
export class MessageLog {
  readonly records = new Map<number, MessageRecord>();
  /** Every record in send order (sentStep never decreases). */
  readonly list: MessageRecord[] = [];
  private lostIds = 0;

  constructor(private readonly clock: () => { step: number; time: number }) {}

  readonly hooks: SimHooks = {
    sent: (m, copies) => this.sent(m, copies),
    delivered: (_m, id) => {
      const r = this.records.get(id);
      if (r) r.deliveredStep = this.clock().step;
    },
    dropped: (_m, id, why) => {
      const r = this.records.get(id);
      if (r) {
        r.droppedStep = this.clock().step;
        r.dropReason = why;
      }
    },
  };

  private sent(m: Message, copies: Array<{ id: number; at: number }>): void {
    const { step, time } = this.clock();
    const base = { type: typeName(m.type), from: m.from, to: m.to, term: m.term, label: describeMessage(m), sentStep: step, sentTime: time };
    if (copies.length === 0) {
      const id = -++this.lostIds;
      this.add({ ...base, id, droppedStep: step, dropReason: 'lost' });
      return;
    }
    for (const c of copies) {
      const prev = this.records.get(c.id);
      // A delayed copy keeps its id (and its send); a duplicate by hand gets a new one.
      if (prev) continue;
      this.add({ ...base, id: c.id, arriveTime: c.at / TICK });
    }
  }

  private add(r: MessageRecord): void {
    this.records.set(r.id, r);
    this.list.push(r);
  }

  /** Records sent in steps [from, to], in send order. */
  between(from: number, to: number): MessageRecord[] {
    const l = this.list;
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (l[mid]!.sentStep < from) lo = mid + 1;
      else hi = mid;
    }
    const out: MessageRecord[] = [];
    for (let i = lo; i < l.length && l[i]!.sentStep <= to; i++) out.push(l[i]!);
    return out;
  }
}
