// A real one-node raftkit server (KvMachine as group `kv`) on a free port of 127.0.0.1, for
// tests that need the whole HTTP stack: Node's parser, the server's hooks, the API and the host.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRaftServer, type RaftServer } from '../../src/server/raft-server.js';
import type { ServerFlags } from '../../src/server/flags.js';
import { KvMachine } from '../fsm/machines.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait.js';

export interface SingleNode {
  server: RaftServer;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startSingleNode(extra: Partial<ServerFlags> = {}): Promise<SingleNode> {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-single-'));
  const [port] = await freePorts(1);
  const flags: ServerFlags = {
    id: 1,
    listen: { host: '127.0.0.1', port: port! },
    peers: new Map([[1, `127.0.0.1:${port}`]]),
    join: undefined,
    dataDir: dir,
    token: undefined,
    logLevel: 'silent',
    repairTornTail: false,
    help: false,
    ...extra,
  };
  const server = await startRaftServer({ name: 'single-node-test', machines: [KvMachine], groups: [{ name: 'kv', type: 'kv' }], flags, host: { tickMs: 10 } });
  await waitFor(() => server.node.host.leaderOf('kv') === 1, 10_000, 'the single node to lead kv');
  return {
    server,
    port: port!,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
