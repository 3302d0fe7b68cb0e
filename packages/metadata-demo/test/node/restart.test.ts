// Restarts in a real cluster: a stopped follower that comes back reopens its store at the index
// it recorded (nothing applied twice), and one that was away while the others compacted their
// logs gets the leader's store as a file; either way every node ends with the same revision,
// keys and leases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { putRequest, rangeRequest } from '../../src/api/request-builders.js';
import { NodeCluster, waitFor } from './node-cluster.js';

const ALL = Buffer.from([0]);

/** What a node's store holds, as one comparable string. */
function contents(c: NodeCluster, id: number): string {
  const { store } = c.machines.get(id)!;
  const kvs = store
    .range(rangeRequest(ALL, { rangeEnd: ALL }), { maxBytes: 1 << 30 })
    .kvs.map((kv) => `${kv.key}=${kv.value}@${kv.createRevision}/${kv.modRevision}/${kv.version}`);
  return JSON.stringify({ revision: store.counters.revision, kvs, leases: store.leaseIds().map(String) });
}

test('a follower restarted, then one that missed a compacted log, end with the same store as the others', async (t) => {
  const c = new NodeCluster();
  await c.start([], { snapshotEntries: 20 });
  t.after(() => c.close());
  const leader = await c.leader();
  const [f1, f2] = await c.followers();
  const L = c.node(leader);
  for (let i = 0; i < 10; i++) await L.put(putRequest(`k${i}`, `v${i}`));
  await L.leaseGrant({ ttl: 600, id: 5n });
  const sameEverywhere = () =>
    waitFor(() => {
      const all = [...c.servers.keys()].map((id) => contents(c, id));
      return all.every((x) => x === all[0]) ? all[0] : undefined;
    }, 'every node to hold the same store');

  await sameEverywhere();
  const indexBefore = c.machines.get(f1!)!.store.counters.appliedIndex;
  await c.stop(f1!);
  await L.put(putRequest('while-away', '1'));
  await c.startNode(f1!);
  const reopened = c.machines.get(f1!)!;
  assert.ok(reopened.store.counters.appliedIndex >= indexBefore, 'it reopened at the index it had recorded');
  await sameEverywhere();

  // Away while more than --snapshot-entries entries went by: the others compacted their logs.
  const f2Applied = c.machines.get(f2!)!.store.counters.appliedIndex;
  await c.stop(f2!);
  for (let i = 0; i < 60; i++) await L.put(putRequest(`burst${i % 7}`, `${i}`));
  await waitFor(() => {
    const g = c.servers
      .get(leader)!
      .service.status()
      .groups.find((x) => x.group === 'meta')!;
    return g.firstIndex > f2Applied + 1 ? true : undefined;
  }, "the leader's log to be compacted past the stopped follower");
  await c.startNode(f2!);
  const state = await sameEverywhere();
  assert.match(state, /"revision":72,/);
  const back = c.node(f2!);
  assert.equal((await back.range(rangeRequest('burst6'))).kvs[0]?.value.toString(), '55');
});
