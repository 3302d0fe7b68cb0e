// RaftService on a follower of a cluster that serves TLS: its operations go through the node's
// own API, which is then https (checked against --tls-ca). Before, that loopback call was always
// http:// and every forwarded operation of a Nest app on a TLS cluster failed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { startNestCluster, type NestCluster } from './fixtures/nest-cluster.js';

const root = mkdtempSync(join(tmpdir(), 'raftkit-nest-tls-'));
const ids = [1, 2, 3];
let ca: TestCa;
let cluster: NestCluster;
const raft = (id: number) => cluster.raft(id);
const leaderId = () => cluster.leaderId();

before(async () => {
  ca = makeTestCa('nest', ids);
  cluster = await startNestCluster(ids, root, 'nest-tls-secret', (id) => ({
    tls: { cert: ca.path('api.pem'), key: ca.path('api-key.pem'), ca: ca.path('ca.pem') },
    peerTls: { cert: ca.path(`node-${id}.pem`), key: ca.path(`node-${id}-key.pem`), ca: ca.path('ca.pem') },
  }));
});

after(async () => {
  await cluster.close();
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
