// A query that would be refused (unknown name, bad args) is refused before it waits for a read
// index: with no leader at all it answers 404/400, not the 503 of a read that cannot be served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateMachineRegistry } from '../../src/fsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';
import { NodeRaftService } from '../../src/server/node-raft-service.js';
import { KvMachine } from '../fsm/machines.js';
import { RsmCluster } from '../rsm/rsm-cluster.js';

test('unknown queries and bad query args are refused before the read index', async () => {
  const registry = new StateMachineRegistry([KvMachine]);
  const c = new RsmCluster([1, 2, 3], registry);
  await c.startAll();
  try {
    // Node 1 is cut off from the start: it never learns of a leader.
    c.hub.isolate(1, [2, 3]);
    await c.createGroup('kv', 'kv');
    const slot = c.get(1);
    const svc = new NodeRaftService({ host: slot.host, registry, managers: slot.managers, address: 'n1', requestTimeoutMs: 2_000 });
    assert.equal(slot.host.leaderOf('kv'), 0);
    await assert.rejects(svc.query('kv', 'nope', {}, 'linearizable'), (e: unknown) => e instanceof RaftkitError && e.code === 'unknown_query');
    await assert.rejects(svc.query('kv', 'get', { key: 7 }, 'linearizable'), (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request');
    // A good query still needs a leader.
    await assert.rejects(svc.query('kv', 'get', { key: 'a' }, 'linearizable'), (e: unknown) => e instanceof RaftkitError && e.code === 'unavailable');
  } finally {
    await c.stopAll();
  }
});
