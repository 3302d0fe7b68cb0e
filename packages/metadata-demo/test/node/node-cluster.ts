// Three raftkit-meta nodes in this process (startRaftServer with the meta routes, no gRPC), on
// 127.0.0.1 with short raft timing, each with its MetaNode at hand.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRaftServer, type RaftServer, type ServerFlags } from '@raftkit/framework/server';
import { MetaMachine } from '../../src/machine/meta.machine.js';
import { parseMetaFlags } from '../../src/meta-flags.js';
import { metaRoutes } from '../../src/meta-server.js';
import type { MetaNode } from '../../src/node/meta-node.js';

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function waitFor<T>(f: () => T | undefined | Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class NodeCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'meta-nodes-'));
  readonly servers = new Map<number, RaftServer>();
  readonly nodes = new Map<number, MetaNode>();
  readonly machines = new Map<number, MetaMachine>();
  ports: number[] = [];

  constructor(readonly ids: number[] = [1, 2, 3]) {}

  private argv: string[] = [];
  private snapshotEntries: number | undefined;

  async start(argv: string[] = [], o: { snapshotEntries?: number } = {}): Promise<void> {
    this.ports = await freePorts(this.ids.length);
    this.argv = argv;
    this.snapshotEntries = o.snapshotEntries;
    await Promise.all(this.ids.map((id) => this.startNode(id)));
    await this.leader();
  }

  /** Starts (or restarts, on the same data dir) node `id`. */
  async startNode(id: number): Promise<void> {
    const peers = new Map(this.ids.map((x, i) => [x, `127.0.0.1:${this.ports[i]}`]));
    const { flags: meta } = parseMetaFlags(this.argv);
    const flags: ServerFlags = {
      id,
      listen: { host: '127.0.0.1', port: this.ports[this.ids.indexOf(id)]! },
      peers,
      join: undefined,
      dataDir: join(this.root, `n${id}`),
      token: 'meta-secret',
      logLevel: 'silent',
      repairTornTail: false,
      help: false,
      timing: { heartbeatMs: 50, electionMs: 300 },
      ...(this.snapshotEntries ? { snapshotEntries: this.snapshotEntries } : {}),
    };
    const server = await startRaftServer({
      name: 'meta-test',
      machines: [MetaMachine],
      groups: [{ name: 'meta', type: 'meta' }],
      flags,
      recentEntries: 0,
      instantiate: () => {
        const m = new MetaMachine({ maxRangeBytes: meta.maxRangeBytes });
        this.machines.set(id, m);
        return m;
      },
      routes: metaRoutes({ flags: meta, machine: () => this.machines.get(id), onNode: (n) => this.nodes.set(id, n) }),
    });
    this.servers.set(id, server);
  }

  node(id: number): MetaNode {
    return this.nodes.get(id)!;
  }

  /** The leader every running node agrees on. */
  leader(): Promise<number> {
    return waitFor(() => {
      const leaders = [...this.servers.values()].map((s) => s.service.leaderOf('meta')?.id);
      return leaders[0] !== undefined && leaders.every((l) => l === leaders[0]) ? leaders[0] : undefined;
    }, 'a leader');
  }

  async followers(): Promise<number[]> {
    const l = await this.leader();
    return [...this.servers.keys()].filter((id) => id !== l);
  }

  async stop(id: number): Promise<void> {
    await this.servers.get(id)?.stop();
    this.servers.delete(id);
  }

  async close(): Promise<void> {
    for (const id of [...this.servers.keys()]) await this.stop(id);
    rmSync(this.root, { recursive: true, force: true });
  }
}
