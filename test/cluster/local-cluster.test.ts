import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeBase } from '../support/ports.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/local-cluster.mjs', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `npm start`'s script until it prints the cluster, then hands it to `f`, then Ctrl-C. */
async function withCluster(base: number, dataDir: string, f: (out: string) => Promise<void>): Promise<{ out: string; code: number | null; pids: number[] }> {
  const child = spawn(process.execPath, [SCRIPT, '--base-port', String(base), '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!/Ctrl-C stops every node/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the cluster did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await f(out);
  } finally {
    child.kill('SIGINT');
  }
  const code = await exited;
  const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  return { out, code, pids };
}

test('npm start runs a 3-node KV cluster, stops it cleanly on Ctrl-C, and resumes its data', { timeout: 90_000 }, async () => {
  const base = await freeBase();
  const dataDir = mkdtempSync(join(tmpdir(), 'raftkit-start-'));
  try {
    const first = await withCluster(base, dataDir, async (out) => {
      assert.match(out, /cluster started: 3 nodes/);
      assert.match(out, /\(leader\)/);
      const put = await fetch(`http://127.0.0.1:${base + 1}/v1/groups/kv/commands/put`, { method: 'POST', body: JSON.stringify({ key: 'k', value: 'v' }) });
      assert.equal(put.status, 200);
    });
    assert.equal(first.code, 0);
    assert.match(first.out, /all nodes stopped/);
    assert.equal(first.pids.length, 3);
    for (const pid of first.pids) assert.equal(alive(pid), false, `node process ${pid} still running`);

    const second = await withCluster(base, dataDir, async (out) => {
      assert.match(out, /cluster resumed/);
      const get = await fetch(`http://127.0.0.1:${base + 2}/v1/groups/kv/queries/get`, { method: 'POST', body: JSON.stringify({ key: 'k' }) });
      assert.deepEqual(((await get.json()) as { result: unknown }).result, { value: 'v', revision: 1 });
    });
    assert.equal(second.code, 0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
