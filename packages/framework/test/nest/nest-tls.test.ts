// RaftService on a follower of a cluster that serves TLS: its operations go through the node's
// own API, which is then https (checked against --tls-ca). Before, that loopback call was always
// http:// and every forwarded operation of a Nest app on a TLS cluster failed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RaftModule, RaftService } from '../../src/nest/index.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { waitFor } from '../support/wait.js';
import { freePorts } from '../support/ports.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { GreetMachine } from './fixtures/greeter.js';

const root = mkdtempSync(join(tmpdir(), 'raftkit-nest-tls-'));
const ids = [1, 2, 3];
const apps = new Map<number, INestApplicationContext>();
const raft = (id: number) => apps.get(id)!.get(RaftService);
let ca: TestCa;

function leaderId(): number {
  const seen = ids.map((id) => raft(id).status().groups[0]?.leader ?? 0);
  return seen.every((l) => l !== 0 && l === seen[0]) ? seen[0]! : 0;
}

before(async () => {
  ca = makeTestCa('nest', ids);
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
        token: 'nest-tls-secret',
        logLevel: 'silent',
        repairTornTail: false,
        help: false,
        tls: { cert: ca.path('api.pem'), key: ca.path('api-key.pem'), ca: ca.path('ca.pem') },
        peerTls: { cert: ca.path(`node-${id}.pem`), key: ca.path(`node-${id}-key.pem`), ca: ca.path('ca.pem') },
      };
      @Module({ imports: [RaftModule.forRoot({ node, groups: [{ name: 'hi', type: 'greeter' }], host: { tickMs: 10 } }), RaftModule.forFeature([GreetMachine])] })
      class AppModule {}
      apps.set(id, await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }));
    }),
  );
  await waitFor(() => leaderId() !== 0, 15_000, 'a leader known to every node');
});

after(async () => {
  await Promise.all([...apps.values()].map((a) => a.close()));
  rmSync(root, { recursive: true, force: true });
  rmSync(ca.dir, { recursive: true, force: true });
});

test('a follower of a TLS cluster proposes through its own https API; the leader applies it once', async () => {
  const f = ids.find((id) => id !== leaderId())!;
  const out = await raft(f).propose<string>('hi', 'greet', { name: 'over-tls' });
  assert.equal(out.result, 'hello, over-tls');
  const all = await raft(leaderId()).query<string[]>('hi', 'all', {}, 'linearizable');
  assert.equal(all.result.filter((n) => n === 'over-tls').length, 1);
});
