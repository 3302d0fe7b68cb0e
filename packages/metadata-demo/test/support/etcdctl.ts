// etcdctl for the tests that drive raftkit-meta with etcd's own CLI: found on the PATH (Debian's
// etcd-client package puts it at /usr/bin/etcdctl), installed with apt-get when missing and the
// tests run as root, or a clear failure saying how to get it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

let found: string | undefined;

function lookup(): string | undefined {
  if (existsSync('/usr/bin/etcdctl')) return '/usr/bin/etcdctl';
  const which = spawnSync('sh', ['-c', 'command -v etcdctl'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  return which.status === 0 && path ? path : undefined;
}

/** The etcdctl binary, installed first if need be. Throws with instructions when it cannot be had. */
export function etcdctlPath(): string {
  found ??= lookup();
  if (found) return found;
  if (process.getuid?.() === 0) {
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      execFileSync('apt-get', ['install', '-y', 'etcd-client'], { stdio: 'ignore', env, timeout: 300_000 });
    } catch {
      try {
        execFileSync('sh', ['-c', 'apt-get update && apt-get install -y etcd-client'], { stdio: 'ignore', timeout: 600_000 });
      } catch {
        // Reported below.
      }
    }
    found = lookup();
    if (found) return found;
  }
  throw new Error('etcdctl is not installed and could not be installed: run `apt-get install -y etcd-client` (as root) or put etcdctl (etcd 3.4 or later) on the PATH');
}

export interface EtcdctlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function etcdctlArgs(port: number, args: string[]): string[] {
  return ['--endpoints', `127.0.0.1:${port}`, '--dial-timeout', '3s', '--command-timeout', '5s', ...args];
}

const ENV = { ...process.env, ETCDCTL_API: '3' };

/** Runs `etcdctl --endpoints 127.0.0.1:<port> <args>` to the end (killed after timeoutMs). */
export function etcdctl(port: number, args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<EtcdctlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(etcdctlPath(), etcdctlArgs(port, args), { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** A long-running etcdctl (watch): its output so far, and a way to stop it. */
export interface EtcdctlProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output contains `text` (rejects after timeoutMs). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export function spawnEtcdctl(port: number, args: string[]): EtcdctlProcess {
  const child = spawn(etcdctlPath(), etcdctlArgs(port, args), { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  return {
    child,
    output: () => out,
    async waitFor(text, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`etcdctl ${args.join(' ')}: "${text}" did not appear; stdout: ${out}; stderr: ${err}`);
        if (child.exitCode !== null) throw new Error(`etcdctl ${args.join(' ')} exited (${child.exitCode}); stdout: ${out}; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
