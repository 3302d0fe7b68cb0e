// The SDK over HTTPS and WSS with the cluster's own CA (`tls: { ca }`), and refused without it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftClient } from '../src/index.js';
import { entry, FakeNode, json } from './fake-node.js';

const script = new URL('../../../../scripts/make-test-ca.sh', import.meta.url).pathname;
let dir: string;
let node: FakeNode;
let ca: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'raftkit-client-ca-'));
  execFileSync('sh', [script, dir, 'sdk', '1'], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'ca.pem'));
  node = await new FakeNode(
    {
      http: (req, res) => {
        if (req.url?.startsWith('/v1/groups/kv/commands/put')) return json(res, 200, { result: { revision: 7 }, index: 7 });
        if (req.url === '/v1/status') return json(res, 200, { id: 1, groups: [{ group: 'kv', applied: 0 }] });
        json(res, 404, { error: 'not_found', message: req.url ?? '' });
      },
      watch: (conn) => conn.ws.send(entry(conn.from ?? 1)),
    },
    { cert: readFileSync(join(dir, 'api.pem')), key: readFileSync(join(dir, 'api-key.pem')) },
  ).listen();
});
after(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

test('commands and watches go over https/wss with tls.ca', async () => {
  const client = new RaftClient({ endpoints: [node.url], tls: { ca }, deadlineMs: 3_000 });
  try {
    const put = await client.group('kv').command('put', { key: 'a', value: 'b' });
    assert.equal(put.index, 7);
    for await (const e of client.group('kv').watch({ from: 3 })) {
      assert.equal((e as { index: number }).index, 3);
      break;
    }
  } finally {
    await client.close();
  }
});

test('without the CA the node is not trusted: the call fails with a network error', async () => {
  const client = new RaftClient({ endpoints: [node.url], deadlineMs: 500, backoff: { initialMs: 5, maxMs: 20 } });
  try {
    await assert.rejects(client.group('kv').command('put', { key: 'a', value: 'b' }), (e: unknown) =>
      /certificate|self[- ]signed|network|unable/i.test(String((e as Error).message) + String((e as { code?: string }).code)),
    );
  } finally {
    await client.close();
  }
});
