// RaftService on any node of a 3-node cluster (three Nest applications in this process): a
// follower forwards commands, lease queries and membership changes to the leader through its
// node's API, with the same at-most-once and exactly-once rules as the HTTP API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftkitError } from '../../src/common/errors.js';
import { waitFor } from '../support/wait.js';
import { startNestCluster, type NestCluster } from './fixtures/nest-cluster.js';

const root = mkdtempSync(join(tmpdir(), 'raftkit-nest-cluster-'));
const ids = [1, 2, 3];
let cluster: NestCluster;
const raft = (id: number) => cluster.raft(id);
const leaderId = () => cluster.leaderId();

before(async () => {
  cluster = await startNestCluster(ids, root, 'nest-secret');
});

after(async () => {
  await cluster.close();
  rmSync(root, { recursive: true, force: true });
});

const follower = () => ids.find((id) => id !== leaderId())!;

test('a follower proposes: the command is forwarded to the leader and applied once', async () => {
  const f = follower();
  const out = await raft(f).propose<string>('hi', 'greet', { name: 'from-follower' });
  assert.equal(out.result, 'hello, from-follower');
  const leader = leaderId();
  const all = await raft(leader).query<string[]>('hi', 'all', {}, 'linearizable');
  assert.equal(all.result.filter((n) => n === 'from-follower').length, 1);
  assert.ok(all.index >= out.index);
});

test('a follower proposes with a session: a retry answers the first index and applies nothing', async () => {
  const f = follower();
  const first = await raft(f).propose('hi', 'greet', { name: 'session' }, { clientId: 'nest-client', sequence: 1 });
  const again = await raft(f).propose('hi', 'greet', { name: 'session' }, { clientId: 'nest-client', sequence: 1 });
  assert.equal(again.index, first.index);
  const all = await raft(leaderId()).query<string[]>('hi', 'all', {}, 'linearizable');
  assert.equal(all.result.filter((n) => n === 'session').length, 1);
});

test('errors of a forwarded operation keep their code and details', async () => {
  const f = follower();
  await assert.rejects(raft(f).propose('hi', 'greet', { name: 7 }), (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && e.details['field'] === 'name');
  await assert.rejects(raft(f).propose('hi', 'nope', {}), (e: unknown) => e instanceof RaftkitError && e.code === 'unknown_command');
});

test('lease and linearizable queries work from a follower', async () => {
  const f = follower();
  await raft(f).propose('hi', 'greet', { name: 'read-me' });
  for (const consistency of ['lease', 'linearizable'] as const) {
    const q = await raft(f).query<string[]>('hi', 'all', {}, consistency);
    assert.ok(q.result.includes('read-me'), consistency);
  }
});

test('membership changes and leader transfer from a follower', async () => {
  const [a, b] = ids.filter((id) => id !== leaderId());
  await raft(a!).demote('hi', b!);
  const roleOf = (id: number) =>
    raft(leaderId())
      .status()
      .groups[0]!.members.find((m) => m.id === id)?.role;
  await waitFor(() => roleOf(b!) === 'learner', 5_000, `node ${b} demoted`);
  await raft(a!).promote('hi', b!);
  await waitFor(() => roleOf(b!) === 'voter', 5_000, `node ${b} promoted`);
  await raft(a!).transferLeader('hi', a!);
  await waitFor(() => leaderId() === a, 5_000, `node ${a} leads`);
});
