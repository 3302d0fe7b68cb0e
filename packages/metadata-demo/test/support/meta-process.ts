// A real raftkit-meta server (the package's bin) as a single-node cluster on 127.0.0.1, for the
// tests that need the real store behind the gRPC API (etcdctl interop): a temporary data dir,
// short raft timing, killed by PID in stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { putRequest } from '../../src/api/request-builders.js';
import { MetaClient } from '../../src/client/index.js';
import { freePort } from '../client/client-fixture.js';

/** The bin, from dist/test/support/. */
export const META_BIN = fileURLToPath(new URL('../../../bin/raftkit-meta.js', import.meta.url));

export interface MetaProcess {
  grpcPort: number;
  child: ChildProcess;
  stderr(): string;
  /** A new client of the node (closed by stop()). */
  client(): MetaClient;
  stop(): Promise<void>;
}

export async function startMetaProcess(): Promise<MetaProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-meta-test-'));
  const http = await freePort();
  const grpcPort = await freePort();
  const args = [META_BIN, '--id', '1', '--listen', `127.0.0.1:${http}`, '--grpc-listen', `127.0.0.1:${grpcPort}`, '--peers', `1=127.0.0.1:${http}`];
  args.push('--data-dir', join(dir, 'n1'), '--heartbeat-ms', '50', '--election-ms', '300', '--log-level', 'warn');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 100_000) stderr += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const clients: MetaClient[] = [];
  const p: MetaProcess = {
    grpcPort,
    child,
    stderr: () => stderr,
    client() {
      const c = new MetaClient({ endpoints: [`127.0.0.1:${grpcPort}`] });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Ready once a write commits.
  const probe = new MetaClient({ endpoints: [`127.0.0.1:${grpcPort}`], callTimeoutMs: 1000 });
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`raftkit-meta exited (${child.exitCode}): ${stderr}`);
      try {
        await probe.put(putRequest('__ready', ''));
        return p;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`raftkit-meta did not get ready: ${(e as Error).message}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (e) {
    await p.stop();
    throw e;
  } finally {
    probe.close();
  }
}
