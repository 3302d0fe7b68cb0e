// Spawns list-node processes on 127.0.0.1 and talks to them over HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { eventually, sleep } from '../support/eventually.js';
import { freePorts } from '../support/ports.js';
import { spawnNode, type Proc } from '../support/proc.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_JS = fileURLToPath(new URL('../fixtures/list-node.js', import.meta.url));

export type { Proc };

export class ProcCluster {
  readonly procs = new Map<number, Proc>();
  readonly root = mkdtempSync(join(tmpdir(), 'raftkit-cluster-'));
  ports: number[] = [];

  constructor(
    readonly ids: number[],
    readonly extraArgs: string[] = [],
  ) {}

  get peers(): string {
    return this.ids.map((id, i) => `${id}=127.0.0.1:${this.ports[i]}`).join(',');
  }

  async startAll(): Promise<void> {
    this.ports = await freePorts(this.ids.length);
    for (const id of this.ids) this.start(id);
  }

  portOf(id: number): number {
    return this.ports[this.ids.indexOf(id)]!;
  }

  start(id: number, args: string[] = []): Proc {
    const port = this.portOf(id);
    const dataDir = join(this.root, `n${id}`);
    const p = spawnNode(id, port, dataDir, [
      NODE_JS,
      '--id',
      String(id),
      '--listen',
      `127.0.0.1:${port}`,
      '--peers',
      this.peers,
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...this.extraArgs,
      ...args,
    ]);
    this.procs.set(id, p);
    return p;
  }

  kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const p = this.procs.get(id)!;
    p.child.kill(signal);
    return p.exited;
  }

  signal(id: number, signal: NodeJS.Signals): void {
    this.procs.get(id)!.child.kill(signal);
  }

  async get(id: number, path: string): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${this.portOf(id)}${path}`, { signal: AbortSignal.timeout(3000) });
    return res.json();
  }

  async propose(id: number, value: string, group = 'g'): Promise<{ status: number; body: any }> {
    const res = await fetch(`http://127.0.0.1:${this.portOf(id)}/propose?group=${group}`, { method: 'POST', body: value, signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.json() };
  }

  /** The leader of a group as seen by any live node, or undefined. */
  async leader(group = 'g', among: number[] = this.ids): Promise<number | undefined> {
    for (const id of among) {
      try {
        const st = await this.get(id, `/state?group=${group}`);
        if (st.role === 'leader') return id;
      } catch {
        // down or stopped
      }
    }
    return undefined;
  }

  async waitLeader(group = 'g', among: number[] = this.ids, timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.leader(group, among);
      if (l !== undefined) return l;
      if (Date.now() > deadline) throw new Error(`no leader for ${group} within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs.values()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGCONT');
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

export { eventually, sleep };
