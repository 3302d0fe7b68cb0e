// raftkit-meta with TLS on its port: etcd's gRPC API is served over TLS with the node's API
// certificate, a put through a follower is forwarded to the leader over https (checked against
// the node's --tls-ca), MemberList publishes https URLs, and a plaintext client is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { freePorts } from '../support/ports.js';
import { TLS_TOKEN, TlsCluster } from '../support/tls-cluster.js';
import { META_BIN } from './meta-cluster.js';

test('raftkit-meta over TLS: gRPC with the CA, writes forwarded from a follower over https', { timeout: 60_000 }, async (t) => {
  const c = new TlsCluster(META_BIN, 'meta');
  const grpcPorts = await freePorts(3);
  const grpc = (id: number) => `127.0.0.1:${grpcPorts[id - 1]}`;
  t.after(() => c.stopAll());
  const leader = await c.startAll((id) => ['--grpc-listen', grpc(id)]);
  const follower = c.ids.find((id) => id !== leader)!;

  const client = (id: number, secure = true) =>
    new Etcd3({ hosts: grpc(id), auth: { username: 'root', password: TLS_TOKEN }, ...(secure ? { credentials: { rootCertificate: c.ca } } : {}), dialTimeout: 2000 });
  const viaFollower = client(follower);
  const viaLeader = client(leader);
  const plaintext = client(follower, false);
  t.after(() => [viaFollower, viaLeader, plaintext].forEach((x) => x.close()));

  await viaFollower.put('greeting').value('hello');
  assert.equal(await viaLeader.get('greeting').string(), 'hello');
  const members = await viaLeader.cluster.memberList({});
  assert.equal(members.members.length, 3);
  for (const m of members.members) {
    for (const url of [...m.peerURLs, ...m.clientURLs]) assert.match(url, /^https:\/\//, JSON.stringify(m));
  }
  await assert.rejects(plaintext.get('greeting').string());
  assert.match(c.stderrOf(follower) + c.stderrOf(leader), /^(?![\s\S]*internal error)/);
});
