import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateMachineRegistry } from '../../src/fsm/index.js';
import { HostError } from '../../src/host/errors.js';
import { RaftkitError } from '../../src/common/errors.js';
import { KvMachine } from '../fsm/machines.js';
import { waitFor } from '../host/fixtures.js';
import { RsmCluster, type RsmSlot } from './rsm-cluster.js';

const registry = new StateMachineRegistry([KvMachine]);
const other = (c: RsmCluster, not: RsmSlot) => c.get(c.ids.find((id) => id !== not.id)!);

async function transfer(c: RsmCluster, from: RsmSlot, to: RsmSlot): Promise<void> {
  await waitFor(() => from.host.groupStatus('kv').members.voters.length === 3, 2000, 'members');
  from.host.transferLeader('kv', to.id);
  await waitFor(() => c.leaderOf('kv')?.id === to.id, 3000, `node ${to.id} to lead`);
}

/** Retries a command on whoever leads until it is answered, as a client does after a timeout. */
async function retryUntilAnswered(c: RsmCluster, name: string, args: unknown, session: { clientId: string; sequence: number }): Promise<unknown> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return (await c.command('kv', name, args, session)).result;
    } catch (e) {
      if (!(e instanceof HostError) || !['not_leader', 'proposal_dropped', 'timeout'].includes(e.code)) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error('never answered');
}

test('commands through the leader give the same state on all three hosts', async () => {
  const c = new RsmCluster([1, 2, 3], registry);
  await c.startAll();
  try {
    await c.createGroup('kv', 'kv');
    const put = await c.command('kv', 'put', { key: 'a', value: '1' });
    assert.deepEqual(put.result, { revision: 1 });
    for (let i = 0; i < 20; i++) await c.command('kv', 'put', { key: `k${i % 7}`, value: `v${i}` }, { clientId: 'writer', sequence: i + 1 });
    assert.deepEqual((await c.command('kv', 'cas', { key: 'a', expected: '1', value: '2' })).result, { succeeded: true, revision: 22 });
    assert.deepEqual((await c.command('kv', 'cas', { key: 'a', expected: null, value: '3' })).result, { succeeded: false, revision: 22 });
    assert.deepEqual((await c.command('kv', 'delete', { key: 'k0' })).result, { deleted: true, revision: 23 });
    await assert.rejects(c.command('kv', 'put', { key: 'a' }), (e: unknown) => e instanceof RaftkitError && e.details.field === 'value');
    const states = await c.converged('kv');
    assert.equal(new Set(states).size, 1, 'identical snapshots (state, sessions, clock) everywhere');
    for (const s of c.slots.values()) assert.deepEqual(await s.managers.get('kv')!.query('get', { key: 'a' }), { value: '2', revision: 22 });
    // Every replica's watch ring shows the same entries, with the command's raft index.
    const leader = await c.waitLeader('kv');
    const follower = other(c, leader);
    assert.deepEqual(leader.managers.get('kv')!.recent(put.index), follower.managers.get('kv')!.recent(put.index));
    assert.equal(leader.managers.get('kv')!.recent(put.index)![0]!.index, put.index);
  } finally {
    await c.stopAll();
  }
});

test('a leader change in the middle: retries of the same (client, sequence) apply once', async () => {
  const c = new RsmCluster([1, 2, 3], registry);
  await c.startAll();
  try {
    await c.createGroup('kv', 'kv');
    const a = await c.waitLeader('kv');
    const first = await c.command('kv', 'put', { key: 'x', value: 'one' }, { clientId: 'cli', sequence: 1 });
    assert.deepEqual(first.result, { revision: 1 });

    // The answer was lost; the client retries on the next leader and gets the first result.
    const b = other(c, a);
    await transfer(c, a, b);
    const retry = await c.command('kv', 'put', { key: 'x', value: 'one' }, { clientId: 'cli', sequence: 1 });
    assert.deepEqual(retry.result, { revision: 1 });
    assert.equal(retry.index, first.index, 'the retry is answered from the session with the index that applied it');

    // A proposal in flight while leadership moves: whether the first try committed or not,
    // retrying until answered applies it exactly once.
    const inFlight = c.command('kv', 'put', { key: 'y', value: 'two' }, { clientId: 'cli', sequence: 2 }, b).then(
      (r) => r.result,
      (e: unknown) => e,
    );
    const third = c.get(c.ids.find((id) => id !== a.id && id !== b.id)!);
    b.host.transferLeader('kv', third.id);
    const answered = await retryUntilAnswered(c, 'put', { key: 'y', value: 'two' }, { clientId: 'cli', sequence: 2 });
    assert.deepEqual(answered, { revision: 2 });
    const firstTry = await inFlight;
    if (!(firstTry instanceof Error)) assert.deepEqual(firstTry, { revision: 2 });
    // And once more, on whoever leads now.
    assert.deepEqual(await retryUntilAnswered(c, 'put', { key: 'y', value: 'two' }, { clientId: 'cli', sequence: 2 }), { revision: 2 });
    // An older sequence is refused, deterministically.
    await assert.rejects(
      c.command('kv', 'delete', { key: 'x' }, { clientId: 'cli', sequence: 1 }),
      (e: unknown) => e instanceof RaftkitError && e.code === 'conflict' && e.details.reason === 'stale_sequence',
    );

    const states = await c.converged('kv');
    assert.equal(new Set(states).size, 1);
    for (const s of c.slots.values()) {
      const kv = s.managers.get('kv')!;
      assert.deepEqual(await kv.query('get', { key: 'x' }), { value: 'one', revision: 1 }, `host ${s.id}`);
      assert.deepEqual(await kv.query('get', { key: 'y' }), { value: 'two', revision: 2 }, `host ${s.id}`);
      assert.deepEqual(await kv.query('range', { prefix: '' }), {
        items: [
          { key: 'x', value: 'one', revision: 1 },
          { key: 'y', value: 'two', revision: 2 },
        ],
      });
    }
  } finally {
    await c.stopAll();
  }
});

test('a follower caught up by snapshot gets the state and the sessions', async () => {
  const c = new RsmCluster([1, 2, 3], registry, { snapshotEntries: 20, retainEntries: 5 });
  await c.startAll();
  try {
    await c.createGroup('kv', 'kv');
    const leader = await c.waitLeader('kv');
    const lagging = other(c, leader);
    const restored: number[] = [];
    lagging.managers.get('kv')!.onRestored((i) => restored.push(i));
    c.hub.isolate(
      lagging.id,
      c.ids.filter((id) => id !== lagging.id),
    );
    for (let i = 1; i <= 60; i++) await c.command('kv', 'put', { key: `k${i % 5}`, value: `v${i}` }, { clientId: `c${i % 3}`, sequence: i });
    c.hub.isolate(
      lagging.id,
      c.ids.filter((id) => id !== lagging.id),
      false,
    );
    const states = await c.converged('kv');
    assert.equal(new Set(states).size, 1);
    assert.ok(restored.length > 0, 'the lagging follower restored a snapshot');
    assert.equal(lagging.managers.get('kv')!.sessionCount, 3);
    // A retry of an old command after the catch-up is answered from the session everywhere.
    assert.deepEqual((await c.command('kv', 'put', { key: 'k0', value: 'v60' }, { clientId: 'c0', sequence: 60 })).result, { revision: 60 });
    assert.equal(new Set(await c.converged('kv')).size, 1);
  } finally {
    await c.stopAll();
  }
});
