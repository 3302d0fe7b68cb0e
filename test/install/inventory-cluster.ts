// The starter's server as three real processes on 127.0.0.1, each with its own port and data
// directory, stopped by PID.
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import { freePorts } from '../support/ports.js';
import { spawnNode, type Proc } from '../support/proc.js';

interface GroupStatus {
  group: string;
  role: string;
  leader: number;
}

export class InventoryCluster {
  readonly procs: Proc[] = [];

  constructor(private readonly projectDir: string) {}

  async start(): Promise<void> {
    const ports = await freePorts(3);
    const peers = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',');
    const server = join(this.projectDir, 'dist', 'server.js');
    ports.forEach((port, i) => {
      const id = i + 1;
      const dataDir = join(this.projectDir, 'data', `node${id}`);
      this.procs.push(spawnNode(id, port, dataDir, [server, '--id', String(id), '--listen', `127.0.0.1:${port}`, '--peers', peers, '--data-dir', dataDir, '--log-level', 'warn']));
    });
  }

  address(id: number): string {
    return `127.0.0.1:${this.procs[id - 1]!.port}`;
  }

  /** The inventory group's leader once every node knows the same one. */
  leader(timeoutMs = 30_000): Promise<number> {
    return eventually(
      async () => {
        const seen = await Promise.all(this.procs.map((p) => this.statusOf(p)));
        const leaders = new Set(seen.map((g) => g?.leader ?? 0));
        const [only] = leaders;
        return leaders.size === 1 && only ? only : undefined;
      },
      timeoutMs,
      `one leader of group inventory known to all three nodes (stderr: ${this.procs.map((p) => p.stderr.slice(-500)).join(' | ')})`,
    );
  }

  private async statusOf(p: Proc): Promise<GroupStatus | undefined> {
    const res = await fetch(`http://127.0.0.1:${p.port}/v1/status`, { signal: AbortSignal.timeout(2_000) });
    const body = (await res.json()) as { groups: GroupStatus[] };
    return body.groups.find((g) => g.group === 'inventory');
  }

  /** SIGTERM (a graceful stop), then SIGKILL for a node still running after 10 s. */
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
        await p.exited;
        clearTimeout(timer);
      }),
    );
  }
}
