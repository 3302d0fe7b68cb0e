// Issue 16, TLS: a 3-node cluster with HTTPS/WSS on the API and mutual TLS on peer links, whose
// member certificates name raftkit://CLUSTER/node/ID. It elects, serves and forwards over TLS;
// another cluster's certificate, a certificate naming another node, a client without the CA
// and a client without the token are refused; a certificate reload keeps the cluster serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startRaftServer, type RaftServer } from '../../src/server/raft-server.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { ServerStartError } from '../../src/server/server-error.js';
import { HEADER_NODE_ID, HEADER_PROTOCOL, HEADER_TARGET_ID, WIRE_PROTOCOL } from '../../src/transport/handshake.js';
import { peerProofHeaders } from '../../src/transport/peer-credentials.js';
import { KvMachine } from '../fsm/machines.js';
import { freePorts } from '../support/ports.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'tls-secret';
let ca: TestCa;
let other: TestCa;
let ports: number[];
const dirs: string[] = [];
const servers = new Map<number, RaftServer>();

function flagsOf(id: number, overrides: Partial<ServerFlags> = {}): ServerFlags {
  const dir = mkdtempSync(join(tmpdir(), `raftkit-tls-${id}-`));
  dirs.push(dir);
  return {
    id,
    listen: { host: '127.0.0.1', port: ports[id - 1]! },
    peers: new Map(ports.map((p, i) => [i + 1, `127.0.0.1:${p}`])),
    join: undefined,
    dataDir: dir,
    token: TOKEN,
    logLevel: 'silent',
    repairTornTail: false,
    help: false,
    tls: { cert: ca.path('api.pem'), key: ca.path('api-key.pem'), ca: ca.path('ca.pem') },
    peerTls: { cert: ca.path(`node-${id}.pem`), key: ca.path(`node-${id}-key.pem`), ca: ca.path('ca.pem') },
    ...overrides,
  };
}

function call(port: number, method: string, path: string, opts: { body?: unknown; token?: string | null; ca?: Buffer | null } = {}): Promise<{ status: number; json: any }> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const token = opts.token === undefined ? TOKEN : opts.token;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        ...(opts.ca === null ? {} : { ca: opts.ca ?? ca.read('ca.pem') }),
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The HTTP status a peer dial to node 1 gets, presenting `cert` and claiming `claimed`. */
function peerDial(cert: Buffer, key: Buffer, claimed: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const options: tls.ConnectionOptions & { headers: Record<string, string> } = {
      headers: { ...peerProofHeaders(TOKEN, claimed, 1), [HEADER_NODE_ID]: String(claimed), [HEADER_TARGET_ID]: '1', [HEADER_PROTOCOL]: WIRE_PROTOCOL },
      cert,
      key,
      ca: ca.read('ca.pem'),
      servername: 'raftkit-peer',
      checkServerIdentity: () => undefined,
    };
    const ws = new WebSocket(`wss://127.0.0.1:${ports[0]}/raft`, options as unknown as ConstructorParameters<typeof WebSocket>[1]);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
  });
}

function leaderId(): number | undefined {
  const s = servers.get(1)!;
  const l = s.node.host.leaderOf('kv');
  return l === 0 ? undefined : l;
}

before(async () => {
  ca = makeTestCa('alpha', [1, 2, 3]);
  other = makeTestCa('beta', [2]);
  ports = await freePorts(3);
  await Promise.all(
    [1, 2, 3].map(async (id) => {
      servers.set(id, await startRaftServer({ name: 'tls-test', machines: [KvMachine], groups: [{ name: 'kv', type: 'kv' }], flags: flagsOf(id), host: { tickMs: 20 } }));
    }),
  );
  await waitFor(() => leaderId() !== undefined && [1, 2, 3].every((id) => servers.get(id)!.node.host.leaderOf('kv') === leaderId()), 20_000, 'a leader over TLS');
});

after(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  for (const d of [...dirs, ca.dir, other.dir]) rmSync(d, { recursive: true, force: true });
});

test('a 3-node cluster over TLS elects, serves and forwards: a put on a follower is applied and read back', async () => {
  const follower = [1, 2, 3].find((id) => id !== leaderId())!;
  const put = await call(ports[follower - 1]!, 'POST', '/v1/groups/kv/commands/put', { body: { key: 'tls', value: 'on' } });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  const get = await call(ports[follower - 1]!, 'POST', '/v1/groups/kv/queries/get', { body: { key: 'tls' } });
  assert.equal(get.status, 200);
  assert.equal(get.json.result.value, 'on');
});

test('a WSS watch with the CA streams entries', async () => {
  const ws = new WebSocket(`wss://127.0.0.1:${ports[0]}/v1/groups/kv/watch?from=1`, { headers: { authorization: `Bearer ${TOKEN}` }, ca: ca.read('ca.pem') });
  const first = await new Promise<{ index: number }>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(String(d)) as { index: number }));
    ws.once('error', reject);
  });
  assert.ok(first.index >= 1);
  ws.close();
});

test('a client without the CA and a client without the token are refused', async () => {
  await assert.rejects(call(ports[0]!, 'GET', '/v1/status', { ca: null }), /self[- ]signed|unable to verify|certificate/i);
  const noToken = await call(ports[0]!, 'GET', '/v1/status', { token: null });
  assert.equal(noToken.status, 401);
});

test("peers are refused with another cluster's certificate, or a certificate naming another node", async () => {
  // Node 2's certificate from cluster beta's CA: not signed by alpha's CA.
  assert.equal(await peerDial(other.read('node-2.pem'), other.read('node-2-key.pem'), 2), 403);
  // Alpha's certificate of node 3, used to claim node 2.
  assert.equal(await peerDial(ca.read('node-3.pem'), ca.read('node-3-key.pem'), 2), 403);
  // A certificate of the right CA that names no member (the API's).
  assert.equal(await peerDial(ca.read('api.pem'), ca.read('api-key.pem'), 2), 403);
  // The right certificate for the id claimed passes.
  assert.equal(await peerDial(ca.read('node-3.pem'), ca.read('node-3-key.pem'), 3), 101);
});

test('a node whose member certificate names another id does not start', async () => {
  const [port] = await freePorts(1);
  await assert.rejects(
    startRaftServer({
      name: 'tls-test',
      machines: [KvMachine],
      groups: [{ name: 'kv', type: 'kv' }],
      flags: flagsOf(4, {
        listen: { host: '127.0.0.1', port: port! },
        peers: new Map([[4, `127.0.0.1:${port}`]]),
        peerTls: { cert: ca.path('node-1.pem'), key: ca.path('node-1-key.pem'), ca: ca.path('ca.pem') },
      }),
    }),
    (e: unknown) => e instanceof ServerStartError && /names node 1, but this is node 4/.test(e.message),
  );
});

test('a certificate reload (SIGHUP) keeps the cluster serving; new connections get the new certificate', async () => {
  const serialOf = () =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect(
        {
          host: '127.0.0.1',
          port: ports[0]!,
          ca: ca.read('ca.pem'),
          servername: 'raftkit-peer',
          checkServerIdentity: () => undefined,
          cert: ca.read('node-2.pem'),
          key: ca.read('node-2-key.pem'),
        },
        () => {
          resolve(s.getPeerCertificate().serialNumber);
          s.end();
        },
      );
      s.on('error', reject);
    });
  const before = await serialOf();
  const leader = leaderId();
  const term = servers
    .get(1)!
    .node.host.status()
    .groups.find((g) => g.group === 'kv')!.term;
  ca.issue(1);
  servers.get(1)!.node.reloadTls();
  const after = await serialOf();
  assert.notEqual(after, before, 'a new connection gets the reissued member certificate');
  for (let i = 0; i < 5; i++) {
    const put = await call(ports[0]!, 'POST', '/v1/groups/kv/commands/put', { body: { key: `after-reload-${i}`, value: 'yes' } });
    assert.equal(put.status, 200);
  }
  assert.equal(leaderId(), leader, 'the same leader');
  assert.equal(
    servers
      .get(1)!
      .node.host.status()
      .groups.find((g) => g.group === 'kv')!.term,
    term,
    'no election: the peer links stayed up',
  );
});

test('a cluster with an API certificate and no member certificates links its peers over wss and elects', async () => {
  const apiOnly = await freePorts(3);
  const peers = new Map(apiOnly.map((p, i) => [i + 1, `127.0.0.1:${p}`]));
  const nodes = await Promise.all(
    [1, 2, 3].map((id) =>
      startRaftServer({
        name: 'tls-test',
        machines: [KvMachine],
        groups: [{ name: 'kv', type: 'kv' }],
        flags: flagsOf(id, { listen: { host: '127.0.0.1', port: apiOnly[id - 1]! }, peers, peerTls: undefined }),
        host: { tickMs: 20 },
      }),
    ),
  );
  try {
    const lead = () => nodes[0]!.node.host.leaderOf('kv');
    await waitFor(() => lead() !== 0 && nodes.every((n) => n.node.host.leaderOf('kv') === lead()), 20_000, 'a leader over wss peer links');
    const follower = [1, 2, 3].find((id) => id !== lead())!;
    const put = await call(apiOnly[follower - 1]!, 'POST', '/v1/groups/kv/commands/put', { body: { key: 'api-only', value: 'tls' } });
    assert.equal(put.status, 200, JSON.stringify(put.json));
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
