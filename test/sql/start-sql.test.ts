// npm run start:sql: the local 3-node cluster of the SQL store, answering rqlite's API, stopped
// cleanly by Ctrl-C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeBase } from '../support/ports.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/local-cluster.mjs', import.meta.url));

test('npm run start:sql runs a 3-node raftkit-sql cluster that answers the rqlite API', { timeout: 60_000 }, async () => {
  const base = await freeBase();
  const dataDir = mkdtempSync(join(tmpdir(), 'raftkit-start-sql-'));
  const child = spawn(process.execPath, [SCRIPT, '--app', 'sql', '--base-port', String(base), '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    assert.match(out, /raftkit SQL cluster \(rqlite API\) started: 3 nodes/);
    assert.match(out, /\/db\/execute/);
    const ex = await fetch(`http://127.0.0.1:${base + 2}/db/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(['CREATE TABLE t (x)', 'INSERT INTO t VALUES (42)']),
    });
    assert.equal(ex.status, 200);
    const q = await fetch(`http://127.0.0.1:${base}/db/query?level=strong&q=${encodeURIComponent('SELECT x FROM t')}`);
    assert.deepEqual(((await q.json()) as { results: { values: unknown }[] }).results[0]!.values, [[42]]);
  } finally {
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    rmSync(dataDir, { recursive: true, force: true });
  }
  assert.match(out, /all nodes stopped/);
});
