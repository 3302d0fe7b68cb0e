// Peer messages the core dropped because what they claim does not fit what this node knows
// (core/message-check.ts): each is counted, and each kind is logged once per group and sender,
// so a peer (or an impostor) repeating a bad message cannot flood the log.
import type { Counter } from 'prom-client';
import { MessageType, type Message } from '../core/types.js';
import type { Logger } from '../common/logger.js';

/** Distinct (group, sender, kind) triples remembered for logging once; beyond it, every one is logged again. */
const MAX_REMEMBERED = 4096;

export class DroppedMessages {
  private readonly logged = new Set<string>();

  constructor(
    private readonly counter: Counter<'group'>,
    private readonly log: Logger,
  ) {}

  record(group: string, m: Message, reason: string): void {
    this.counter.inc({ group });
    // The kind of problem, without the numbers that change from one message to the next.
    const key = `${group}\u0000${m.from}\u0000${reason.replace(/\d+/g, '#')}`;
    if (this.logged.has(key)) return;
    if (this.logged.size >= MAX_REMEMBERED) this.logged.clear();
    this.logged.add(key);
    this.log.warn(
      { group, from: m.from, type: MessageType[m.type], reason },
      'peer message dropped (logged once per group, sender and kind; counted in raftkit_peer_messages_refused_total)',
    );
  }
}
