// Fuzz: peer frames. Random bytes and mutated valid frames decode to a frame or throw FrameError;
// valid frames round-trip; and decoded messages with arbitrary (forged) fields driven into a
// running simulated cluster never break an invariant nor stop it from committing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeFrame, encodeMessages, FrameError } from '../../src/transport/codec.js';
import { MessageType } from '../../src/core/types.js';
import { scripted, awaitLeader } from '../sim/scripted.js';
import { fuzz } from './fuzz-config.js';
import { message } from './fuzz-messages.js';

test('fuzz: arbitrary bytes decode to a frame or throw FrameError, nothing else', async () => {
  await fuzz(
    'frame bytes',
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        decodeFrame(bytes);
      } catch (e) {
        assert.ok(e instanceof FrameError, `not a FrameError: ${String(e)}`);
      }
    }),
    2000,
  );
});

test('fuzz: encoded messages with any field values round-trip, or are refused at encode time; bit flips give a frame or FrameError', async () => {
  await fuzz(
    'frame round trip',
    fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(255), (messages, at, bits) => {
      let bytes: Uint8Array;
      try {
        bytes = encodeMessages(messages.map((m, i) => ({ group: `g${i}`, message: m })));
      } catch {
        return; // out-of-range fields are refused by the encoder: nothing is sent
      }
      const decoded = decodeFrame(bytes);
      assert.equal(decoded.kind === undefined, false);
      const flipped = bytes.slice();
      flipped[at % flipped.length]! ^= bits || 1;
      try {
        decodeFrame(flipped);
      } catch (e) {
        assert.ok(e instanceof FrameError, `not a FrameError: ${String(e)}`);
      }
    }),
    500,
  );
});

/**
 * What a forger can send: replies and requests with any field values, from members' ids and
 * others, and leader messages (Append, Heartbeat, Snapshot, Vote, TimeoutNow) of stale terms.
 * A sender whose identity is accepted and who claims to lead a newer term is believed, as Raft
 * believes its members (a node lagging behind a configuration must follow a leader it does not
 * know yet): that is what the handshake's proof of identity and mutual TLS protect, and a node
 * cannot tell a false claim of that kind from a true one.
 */
const LEADER_TYPES = [MessageType.Append, MessageType.Heartbeat, MessageType.Snapshot, MessageType.Vote, MessageType.TimeoutNow];
const forged = message.map((m) => (LEADER_TYPES.includes(m.type) ? { ...m, term: Math.min(m.term, 1) } : m));

test('fuzz: forged messages driven into a simulated cluster break no invariant and do not stop it committing', async () => {
  await fuzz(
    'forged messages into the core',
    fc.property(fc.array(forged, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 1000 }), (messages, seed) => {
      const sim = scripted('fuzz: forged messages', { voters: 3 }, seed);
      const leader = awaitLeader(sim);
      sim.runTicks(10);
      for (const m of messages) sim.inject(m);
      // The checker judges every step (throws SimViolation); the cluster must still commit.
      sim.runTicks(60);
      const acked = sim.workload.stats.writesAcked;
      sim.runTicks(80);
      assert.ok(sim.workload.stats.writesAcked > acked, `writes stalled after forged messages (leader was ${leader}): ${sim.describeNodes()}`);
    }),
    60,
  );
});
