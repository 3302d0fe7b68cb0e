// raftkit-meta processes on 127.0.0.1 for black-box tests: each node with its HTTP port (raftkit's
// API, etcd's JSON gateway) and its gRPC port (etcd's API), temporary data dirs, short raft
// timing; etcd3 clients pinned to one node each. Every child is killed by PID in stopAll().
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { request, type Reply, type RequestOptions } from '../kv/kv-cluster.js';
import { eventually } from '../support/eventually.js';
import { freePorts } from '../support/ports.js';
import { spawnNode, type Proc } from '../support/proc.js';

/** The raftkit-meta bin, from test/dist/meta/. */
export const META_BIN = fileURLToPath(new URL('../../../packages/metadata-demo/bin/raftkit-meta.js', import.meta.url));

/** A killed leader is replaced within about a second. */
export const HEARTBEAT_MS = 50;
export const ELECTION_MS = 300;

export class MetaCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'raftkit-meta-'));
  readonly procs = new Map<number, Proc>();
  readonly http = new Map<number, number>();
  readonly grpc = new Map<number, number>();
  private readonly clients = new Map<number, Etcd3>();

  /** The cluster token (--token): raftkit's API requests carry it, etcd3 clients log in with it. */
  token: string | undefined;

  constructor(readonly ids: number[] = [1, 2, 3]) {}

  async startAll(extraArgs: string[] = []): Promise<number> {
    const ports = await freePorts(2 * this.ids.length);
    this.ids.forEach((id, i) => {
      this.http.set(id, ports[2 * i]!);
      this.grpc.set(id, ports[2 * i + 1]!);
    });
    const peers = this.ids.map((id) => `${id}=127.0.0.1:${this.http.get(id)}`).join(',');
    for (const id of this.ids) {
      const args = [META_BIN, '--id', String(id), '--listen', `127.0.0.1:${this.http.get(id)}`, '--grpc-listen', `127.0.0.1:${this.grpc.get(id)}`];
      args.push('--peers', peers, '--data-dir', join(this.root, `n${id}`), '--log-level', 'warn');
      args.push('--heartbeat-ms', String(HEARTBEAT_MS), '--election-ms', String(ELECTION_MS), ...extraArgs);
      if (this.token) args.push('--token', this.token);
      this.procs.set(id, spawnNode(id, this.http.get(id)!, join(this.root, `n${id}`), args));
    }
    return this.waitLeader();
  }

  running(): number[] {
    return [...this.procs].filter(([, p]) => p.child.exitCode === null && p.child.signalCode === null).map(([id]) => id);
  }

  req(id: number, method: string, path: string, o: RequestOptions = {}): Promise<Reply> {
    return request(this.http.get(id)!, method, path, { ...(this.token ? { defaultToken: this.token } : {}), ...o });
  }

  async groupStatus(id: number): Promise<any> {
    const r = await this.req(id, 'GET', '/v1/status', { timeoutMs: 2000 });
    return r.body?.groups?.find((g: any) => g.group === 'meta');
  }

  /** The leader every running node agrees on. */
  waitLeader(timeoutMs = 15_000): Promise<number> {
    return eventually(
      async () => {
        const views = await Promise.all(this.running().map((id) => this.groupStatus(id)));
        const l = views[0]?.leader;
        return l && views.every((v) => v?.leader === l) && this.running().includes(l) ? (l as number) : undefined;
      },
      timeoutMs,
      'a leader of meta',
    );
  }

  /** An etcd3 client that talks to node `id` only. */
  client(id: number): Etcd3 {
    let c = this.clients.get(id);
    if (!c) {
      const auth = this.token ? { auth: { username: 'root', password: this.token } } : {};
      c = new Etcd3({ hosts: `http://127.0.0.1:${this.grpc.get(id)}`, dialTimeout: 2000, ...auth });
      this.clients.set(id, c);
    }
    return c;
  }

  /** kill -9 (by PID); answers when the process is gone. */
  async kill(id: number): Promise<void> {
    const p = this.procs.get(id);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  /** A range through raftkit's API on node `id` (the machine's `range` query), at a consistency. */
  async rangeHttp(id: number, key: string, consistency: 'linearizable' | 'local' = 'linearizable'): Promise<any> {
    const r = await this.req(id, 'POST', `/v1/groups/meta/queries/range?consistency=${consistency}`, { body: { key: Buffer.from(key).toString('base64') }, timeoutMs: 3000 });
    if (r.status !== 200) throw new Error(`range on node ${id} answered ${r.status}: ${r.text}`);
    return r.body.result;
  }

  stderrOf(id: number): string {
    return this.procs.get(id)?.stderr ?? '';
  }

  async stopAll(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    for (const id of this.procs.keys()) await this.kill(id);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Runs the bin with `args` and waits for it to exit. */
export function runMeta(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [META_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
