// RaftService on any node of a 3-node cluster (three Nest applications in this process): a
// follower forwards commands, lease queries and membership changes to the leader through its
// node's API, with the same at-most-once and exactly-once rules as the HTTP API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RaftModule, RaftService } from '../../src/nest/index.js';
import { RaftkitError } from '../../src/common/errors.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';
import { GreetMachine } from './fixtures/greeter.js';

const root = mkdtempSync(join(tmpdir(), 'raftkit-nest-cluster-'));
const ids = [1, 2, 3];
const apps = new Map<number, INestApplicationContext>();
const raft = (id: number) => apps.get(id)!.get(RaftService);

function leaderId(): number {
  const seen = ids.map((id) => raft(id).status().groups[0]?.leader ?? 0);
  return seen.every((l) => l !== 0 && l === seen[0]) ? seen[0]! : 0;
}

before(async () => {
  const ports = await freePorts(ids.length);
  const peers = new Map(ids.map((id, i) => [id, `127.0.0.1:${ports[i]}`]));
  await Promise.all(
    ids.map(async (id, i) => {
      const node: ServerFlags = {
        id,
        listen: { host: '127.0.0.1', port: ports[i]! },
        peers,
        join: undefined,
        dataDir: join(root, `n${id}`),
        token: 'nest-secret',
        logLevel: 'silent',
        repairTornTail: false,
        help: false,
      };
      @Module({ imports: [RaftModule.forRoot({ node, groups: [{ name: 'hi', type: 'greeter' }], host: { tickMs: 10 } }), RaftModule.forFeature([GreetMachine])] })
      class AppModule {}
      apps.set(id, await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }));
    }),
  );
  await waitFor(() => leaderId() !== 0, 10_000, 'a leader known to every node');
});

after(async () => {
  await Promise.all([...apps.values()].map((a) => a.close()));
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
