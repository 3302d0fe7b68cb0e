// Read contexts: unique across restarts (a ReadIndex answer meant for the previous process must
// not satisfy a new read numbered alike), and an answer from an older term than the read's is
// ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { RaftGroup, readContext } from '../../src/host/raft-group.js';
import { makeMessage } from '../../src/core/raft.js';
import { MessageType } from '../../src/core/types.js';
import { ListMachine } from './fixtures.js';

function group(incarnation: number): RaftGroup {
  const storage = MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1, 2, 3] });
  const config = { id: 2, electionTick: 10, heartbeatTick: 1, random: () => 0.5 };
  return new RaftGroup('g', 'list', new ListMachine(), config, storage, 0, undefined, 0, 10, incarnation);
}

test("a read ignores answers addressed to the node's previous incarnation and answers from an older term", async () => {
  const g = group(0xbeef);
  // A leader of term 5 is heard of, so an older term exists.
  g.step(makeMessage({ type: MessageType.Heartbeat, from: 1, to: 2, term: 5 }));
  assert.equal(g.node.term, 5);
  let resolved: number | undefined;
  void g.read(60_000, Date.now()).then((i) => (resolved = i));
  const term = g.node.term;
  // The previous process (another incarnation) had a read numbered 1 too; its answer arrives now.
  g.onReadStates([{ index: 7, context: readContext(2, 0xdead, 1), term }]);
  // An answer with this read's context but from a leader of an older term.
  g.onReadStates([{ index: 8, context: readContext(2, 0xbeef, 1), term: term - 1 }]);
  g.releaseReads();
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, undefined, 'neither answer was taken');
  // Its own answer is taken, and served once the state machine reached the index (0 here).
  g.onReadStates([{ index: 0, context: readContext(2, 0xbeef, 1), term }]);
  g.releaseReads();
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, 0);
});
