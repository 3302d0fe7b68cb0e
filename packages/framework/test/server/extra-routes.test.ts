// RaftServerOptions.routes: an application's own HTTP routes on the node's port, asked before
// raftkit's API, with the node's service at hand and closed when the server stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRaftServer } from '../../src/server/raft-server.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { KvMachine } from '../fsm/machines.js';
import { freePorts } from '../support/ports.js';

test('extra routes answer their paths with the service at hand; other paths reach the API; close runs on stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-routes-'));
  const [port] = await freePorts(1);
  const flags: ServerFlags = {
    id: 1,
    listen: { host: '127.0.0.1', port: port! },
    peers: new Map([[1, `127.0.0.1:${port}`]]),
    join: undefined,
    dataDir: dir,
    token: 'routes-secret',
    logLevel: 'silent',
    repairTornTail: false,
    help: false,
  };
  let closed = 0;
  let sawToken: string | undefined;
  const server = await startRaftServer({
    name: 'routes-test',
    machines: [KvMachine],
    groups: [{ name: 'kv', type: 'kv' }],
    flags,
    host: { tickMs: 10 },
    routes: ({ service, token }) => {
      sawToken = token;
      return {
        onRequest(req, res) {
          if (req.url !== '/hello') return false;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ node: service.nodeId }));
          return true;
        },
        close: () => {
          closed++;
        },
      };
    },
  });
  try {
    assert.equal(sawToken, 'routes-secret');
    const hello = await fetch(`http://127.0.0.1:${port}/hello`);
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), { node: 1 });
    // Declined paths are raftkit's API, token and all.
    assert.equal((await fetch(`http://127.0.0.1:${port}/v1/status`)).status, 401);
    const status = await fetch(`http://127.0.0.1:${port}/v1/status`, { headers: { authorization: 'Bearer routes-secret' } });
    assert.equal(status.status, 200);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(closed, 1);
});
