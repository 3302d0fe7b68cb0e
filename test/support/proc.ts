// A node process spawned by a black-box test, with its stderr kept for failure messages.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Proc {
  id: number;
  port: number;
  dataDir: string;
  child: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

/** Runs `node <args>` as node `id`; the first 200 kB of its stderr are kept in `stderr`. */
export function spawnNode(id: number, port: number, dataDir: string, args: string[]): Proc {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const p: Proc = { id, port, dataDir, child, stderr: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stderr!.on('data', (d: Buffer) => {
    if (p.stderr.length < 200_000) p.stderr += d.toString();
  });
  return p;
}
