// Arbitrary peer messages for the fuzz suite: every network type, with any field values
// (indexes, commits and hints up to 2^53), small and forged sender ids.
import fc from 'fast-check';
import { makeMessage } from '../../src/core/raft.js';
import { EntryType, MessageType, type Message } from '../../src/core/types.js';

const NETWORK_TYPES = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22] as MessageType[];
const nodeId = fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(99));
const count = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(2 ** 40), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
/**
 * Terms a sender could reach by elections. A member that is believed may raise the cluster's
 * term (Raft trusts its members; their identity is what the handshake proves), so a term of
 * 2^40 from a member is not an attack the core can tell from a long run of elections; the
 * simulator's checker stops at smaller terms.
 */
const term = fc.integer({ min: 0, max: 200 });

export const message = fc
  .record({
    type: fc.constantFrom(...NETWORK_TYPES),
    from: nodeId,
    to: fc.constantFrom(1, 2, 3),
    term,
    logTerm: fc.oneof(term, count),
    index: count,
    commit: count,
    reject: fc.boolean(),
    rejectHint: count,
    leaseTick: fc.option(count, { nil: undefined }),
    transfer: fc.option(fc.boolean(), { nil: undefined }),
    entries: fc.array(fc.record({ term, index: count, type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange), data: fc.uint8Array({ maxLength: 8 }) }), { maxLength: 3 }),
    snapshotIndex: count,
    snapshotTerm: fc.oneof(term, count),
    voters: fc.array(nodeId, { maxLength: 4 }),
    context: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: undefined }),
  })
  .map((r): Message => {
    const m = makeMessage({
      type: r.type,
      from: r.from,
      to: r.to,
      term: r.term,
      logTerm: r.logTerm,
      index: r.index,
      commit: r.commit,
      reject: r.reject,
      rejectHint: r.rejectHint,
      entries: r.entries,
    });
    if (r.leaseTick !== undefined) m.leaseTick = r.leaseTick;
    if (r.transfer !== undefined) m.transfer = r.transfer;
    if (r.context !== undefined) m.context = r.context;
    if (r.type === MessageType.Snapshot) {
      m.snapshot = {
        metadata: {
          index: r.snapshotIndex,
          term: r.snapshotTerm,
          confState: { voters: r.voters, learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false },
        },
        data: new Uint8Array(),
      };
    }
    return m;
  });
