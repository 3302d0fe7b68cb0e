// Where new members listen, learned from applied membership changes: the address travels in the
// change's context, so every member learns it at the same log index and a node that restarts
// finds it again in its address book.
import { decodeConfChange } from '../core/confchange/codec.js';
import { ConfChangeType, type ConfChange } from '../core/confchange/types.js';
import { EntryType, type Entry, type NodeId } from '../core/types.js';
import type { PeerTransport } from '../transport/transport.js';
import type { AddressBook } from './address-book.js';
import type { Logger } from './logger.js';

/**
 * The addresses a change carries for the members it adds: its context is {"address":"host:port"}
 * (every member the change adds) or {"addresses":{"4":"host:port",...}} (per member).
 */
export function addressesOf(cc: ConfChange, self: NodeId): Map<NodeId, unknown> {
  const out = new Map<NodeId, unknown>();
  if (!cc.context) return out;
  let ctx: { address?: unknown; addresses?: unknown };
  try {
    ctx = JSON.parse(cc.context) as typeof ctx;
  } catch {
    return out;
  }
  const perMember = typeof ctx.addresses === 'object' && ctx.addresses !== null ? (ctx.addresses as Record<string, unknown>) : {};
  for (const ch of cc.changes) {
    if (ch.type === ConfChangeType.RemoveNode || ch.nodeId === self) continue;
    const address = perMember[String(ch.nodeId)] ?? ctx.address;
    if (address !== undefined) out.set(ch.nodeId, address);
  }
  return out;
}

/** Records the addresses of the membership changes among applied `entries`. */
export function learnMemberAddresses(group: string, entries: readonly Entry[], o: { self: NodeId; transport: PeerTransport; addresses: AddressBook; log: Logger }): void {
  for (const e of entries) {
    if (e.type !== EntryType.ConfChange) continue;
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch {
      continue;
    }
    o.log.info({ group, index: e.index, changes: cc.changes }, 'membership change applied');
    for (const [id, address] of addressesOf(cc, o.self)) {
      try {
        if (typeof address !== 'string') throw new Error('not a string');
        o.transport.setPeer(id, address);
        void o.addresses.set(id, address);
      } catch (err) {
        // Replicated data: every node sees the same bad address; log it and keep applying.
        o.log.warn({ group, node: id, address, err: (err as Error).message }, 'membership change carries an unusable address');
      }
    }
  }
}
