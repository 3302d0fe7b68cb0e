// Shared by the benchmark scripts: free ports, child processes that die with the script, and
// the shared load generator.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const LOADGEN = join(root, '../shared/bench/loadgen.mjs');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The median of the finite numbers in `xs` (null when there are none). */
export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Every child started through `track`, killed when the script exits however it exits. */
export const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));

export function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function freePorts(n) {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise((res) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Runs the load generator with `args`; resolves with its JSON result line. */
export function runLoadgen(args) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [LOADGEN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`loadgen exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}
