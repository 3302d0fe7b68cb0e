// A command re-sent after a stalled leader had appended it: the deterministic host-level form of
// the duplicate found with SIGSTOP. The old leader appends a keyed command and replicates it to
// one follower, then stalls (cut off from everyone) before it learns of the commit. The
// follower takes over and commits the old copy; the same command, re-sent with the same key to
// the new leader (what a forwarder retry did), is appended again and must not apply twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateMachineRegistry } from '../../src/fsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';
import { NodeRaftService } from '../../src/server/node-raft-service.js';
import type { AppliedEntry } from '../../src/api/node-service.js';
import type { RequestKey } from '../../src/rsm/request-table.js';
import { KvMachine } from '../fsm/machines.js';
import { waitFor } from '../host/fixtures.js';
import { RsmCluster, type RsmSlot } from './rsm-cluster.js';

const registry = new StateMachineRegistry([KvMachine]);

function serviceOf(slot: RsmSlot): NodeRaftService {
  return new NodeRaftService({ host: slot.host, registry, managers: slot.managers, address: `n${slot.id}`, requestTimeoutMs: 3_000 });
}

test('a keyed command appended by a stalled leader and re-sent to the new one applies once', async () => {
  const c = new RsmCluster([1, 2, 3], registry);
  await c.startAll();
  try {
    await c.createGroup('kv', 'kv');
    const a = await c.waitLeader('kv');
    const [b, third] = c.ids.filter((id) => id !== a.id).map((id) => c.get(id)) as [RsmSlot, RsmSlot];
    const svcA = serviceOf(a);
    const base = await svcA.command('kv', 'put', { key: 'warm', value: '0' });
    await waitFor(() => [b, third].every((s) => s.managers.get('kv')!.appliedIndex >= base.index), 3_000, 'the warm-up to apply everywhere');
    const revisionBefore = (base.result as { revision: number }).revision;
    const seen: AppliedEntry[] = [];
    b.managers.get('kv')!.onApplied((e) => seen.push(e));

    // A's appends reach B, but nothing comes back to A and the third node hears nothing:
    // A appends and replicates, then is "stalled" before it learns of any commit.
    c.hub.setLink(b.id, a.id, false, true);
    c.hub.isolate(third.id, [a.id]);
    const key: RequestKey = { origin: '7.feedface0001', seq: 1, floor: 1 };
    const first = svcA.command('kv', 'put', { key: 'k', value: 'once' }, { request: key }).then(
      (r) => r,
      (e: unknown) => e,
    );
    const lastA = a.host.groupStatus('kv').lastIndex;
    await waitFor(() => b.host.groupStatus('kv').lastIndex >= lastA, 3_000, 'B to hold the stalled leader\u2019s entry');

    // A stalls for good; B (it has the longer log) is elected and commits A's entry.
    c.hub.isolate(a.id, [b.id, third.id]);
    c.hub.setLink(b.id, a.id, false);
    c.hub.isolate(third.id, [a.id]);
    await waitFor(() => c.leaderOf('kv') !== undefined && c.leaderOf('kv')!.id !== a.id, 5_000, 'a new leader');
    const newLeader = c.leaderOf('kv')!;
    assert.equal(newLeader.id, b.id);

    // The re-send: same command, same key, to the new leader. Its own entry is appended again but
    // not applied: it answers the first copy's result and index.
    const resent = await serviceOf(newLeader).command('kv', 'put', { key: 'k', value: 'once' }, { request: key });
    assert.deepEqual(resent.result, { revision: revisionBefore + 1 }, 'the first copy\u2019s result');
    assert.ok(resent.index <= lastA, `the first copy's index (${resent.index}), not the re-sent one's`);
    const after = await serviceOf(newLeader).command('kv', 'put', { key: 'next', value: 'x' });
    assert.deepEqual(after.result, { revision: revisionBefore + 2 }, 'the store moved once for the two copies');
    assert.deepEqual(seen.filter((e) => e.command === 'put' && (e.args as { key: string }).key === 'k').length, 1, 'watchers see the command once');

    // The stalled leader's caller: its fate was unknown when A lost the leadership. It is answered
    // 503 saying so, never not_leader (which the API would follow to the new leader: a re-send).
    c.hub.isolate(a.id, [b.id, third.id], false);
    const outcome = await first;
    if (outcome instanceof Error) {
      assert.ok(outcome instanceof RaftkitError, String(outcome));
      assert.notEqual(outcome.code, 'not_leader');
      assert.ok(outcome.code === 'timeout' || outcome.code === 'unavailable', outcome.code);
      assert.equal(outcome.details.outcome, 'unknown', outcome.message);
    } else {
      assert.deepEqual((outcome as { result: unknown }).result, { revision: revisionBefore + 1 });
    }
    const states = await c.converged('kv');
    assert.equal(new Set(states).size, 1, 'identical state, sessions and request tables everywhere');
    for (const s of c.slots.values()) assert.deepEqual(await s.managers.get('kv')!.query('get', { key: 'k' }), { value: 'once', revision: revisionBefore + 1 }, `node ${s.id}`);
  } finally {
    await c.stopAll();
  }
});
