// Spawns raftkit-kv node processes on 127.0.0.1 for the client's end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/kv-cluster.js -> packages/kv-demo/bin/raftkit-kv.js
const KV_BIN = fileURLToPath(new URL('../../../kv-demo/bin/raftkit-kv.js', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  stderr: string;
}

/** A cluster of raftkit-kv processes; every child is killed by PID in stop() and the temp dir removed. */
export class KvCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'raftkit-client-'));
  private readonly procs = new Map<number, Proc>();
  private ports: number[] = [];

  private constructor(
    readonly ids: number[],
    readonly token: string | undefined,
    private readonly extraArgs: string[],
  ) {}

  static async start(opts: { size?: number; token?: string; extraArgs?: string[] } = {}): Promise<KvCluster> {
    const ids = Array.from({ length: opts.size ?? 3 }, (_, i) => i + 1);
    const c = new KvCluster(ids, opts.token, opts.extraArgs ?? []);
    c.ports = await freePorts(ids.length);
    try {
      for (const id of ids) c.spawn(id);
      await c.waitLeader();
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  url(id: number): string {
    return `http://127.0.0.1:${this.ports[this.ids.indexOf(id)]}`;
  }

  get urls(): string[] {
    return this.ids.map((id) => this.url(id));
  }

  idOf(url: string): number {
    const id = this.ids.find((i) => this.url(i) === url);
    if (id === undefined) throw new Error(`no node at ${url}`);
    return id;
  }

  isUp(id: number): boolean {
    const p = this.procs.get(id);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  private spawn(id: number): void {
    const peers = this.ids.map((i) => `${i}=127.0.0.1:${this.ports[this.ids.indexOf(i)]}`).join(',');
    const args = [
      KV_BIN,
      '--id',
      String(id),
      '--listen',
      `127.0.0.1:${this.ports[this.ids.indexOf(id)]}`,
      '--peers',
      peers,
      '--data-dir',
      join(this.root, `n${id}`),
      '--log-level',
      'warn',
      ...this.extraArgs,
    ];
    if (this.token !== undefined) args.push('--token', this.token);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const p: Proc = { child, stderr: '', exited: new Promise((r) => child.once('exit', () => r())) };
    child.stderr!.on('data', (d: Buffer) => {
      p.stderr += d.toString();
    });
    this.procs.set(id, p);
  }

  /** kill -9 and wait until the process is reaped (so its data-dir lock is free). */
  async kill(id: number): Promise<void> {
    const p = this.procs.get(id);
    if (!p || !this.isUp(id)) return;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  /** Restarts a killed node on its data dir and waits until it serves its status. */
  async restart(id: number): Promise<void> {
    if (this.isUp(id)) throw new Error(`node ${id} is running`);
    this.spawn(id);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const st = await this.status(id).catch(() => undefined);
      if (st?.groups?.some((g: { leader: number }) => g.leader > 0)) return;
      if (!this.isUp(id)) throw new Error(`node ${id} exited on restart: ${this.procs.get(id)!.stderr}`);
      if (Date.now() > deadline) throw new Error(`node ${id} did not come back: ${this.procs.get(id)!.stderr}`);
      await sleep(50);
    }
  }

  private headers(): Record<string, string> {
    return this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
  }

  async status(id: number): Promise<any> {
    const res = await fetch(`${this.url(id)}/v1/status`, { headers: this.headers(), signal: AbortSignal.timeout(2_000) });
    return res.json();
  }

  /** Takes a snapshot on one node (compacting its log). */
  async snapshot(id: number): Promise<number> {
    const res = await fetch(`${this.url(id)}/v1/groups/kv/snapshot`, { method: 'POST', headers: this.headers(), signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { index: number };
    if (res.status !== 200) throw new Error(`snapshot on ${id}: ${res.status} ${JSON.stringify(body)}`);
    return body.index;
  }

  /** The node that reports itself leader of `kv`, waiting for one among the live nodes. */
  async waitLeader(timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const id of this.ids) {
        if (!this.isUp(id)) continue;
        const st = await this.status(id).catch(() => undefined);
        const g = st?.groups?.find((x: { group: string }) => x.group === 'kv');
        if (g?.role === 'leader') return id;
      }
      if (Date.now() > deadline) throw new Error(`no leader within ${timeoutMs} ms; stderr: ${[...this.procs.values()].map((p) => p.stderr).join('\n')}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    for (const id of this.ids) await this.kill(id);
    rmSync(this.root, { recursive: true, force: true });
  }
}
