#!/usr/bin/env node
// npm run bench:python: commands/s of the Python client (sync and asyncio, c1 and c64) against
// the KV demo next to the TypeScript SDK under the same load, and commands/s of a Python state
// machine (packages/client-python/examples/inventory.py, one process per node) at c64 from both
// clients. Each phase runs in a process of its own (bench/ts-sdk-load.mjs, bench/python-load.py). A 3-node raftkit-kv cluster on 127.0.0.1 with fsync; phases alternate between the
// clients; figures go in bench/README.md. Flags: --seconds N (per phase, default 5), --rounds N
// (default 1).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftClient } from '../packages/client/dist/src/index.js';
import { children, freePorts, root, sleep, track } from './lib.mjs';

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 1);
const python = process.env.PYTHON ?? 'python3';
const deps = join(root, 'packages/client-python/.deps');
const pyEnv = { ...process.env, PYTHONPATH: [join(root, 'packages/client-python/src'), deps].join(':') };

// The machine side needs websockets (the tests install it the same way).
if (spawnSync(python, ['-c', 'import websockets'], { env: pyEnv }).status !== 0) {
  const pip = spawnSync(python, ['-m', 'pip', 'install', '--quiet', '--target', deps, 'websockets'], { stdio: 'inherit' });
  if (pip.status !== 0) throw new Error('bench:python needs the websockets package (pip install websockets, or apt-get install python3-websockets)');
}

const dataRoot = mkdtempSync(join(tmpdir(), 'raftkit-pybench-'));
const ports = await freePorts(3);
const urls = ports.map((p) => `http://127.0.0.1:${p}`);
const peers = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(',');
process.on('exit', () => rmSync(dataRoot, { recursive: true, force: true }));

for (let i = 0; i < 3; i++) {
  track(
    spawn(process.execPath, [join(root, 'packages/kv-demo/bin/raftkit-kv.js'), '--id', String(i + 1), '--listen', `127.0.0.1:${ports[i]}`, '--peers', peers, '--data-dir', join(dataRoot, `n${i + 1}`), '--log-level', 'warn', '--remote-machine', 'inventory@1'], { stdio: 'ignore' }),
  );
}
for (let i = 0; i < 3; i++) track(spawn(python, [join(root, 'packages/client-python/examples/inventory.py'), urls[i]], { env: pyEnv, stdio: 'ignore' }));

const ts = new RaftClient({ endpoints: urls, deadlineMs: 30_000 });
// Both groups answer: a leader and, for inventory, a connected machine.
for (let t = 0; ; t++) {
  try {
    await ts.group('kv').command('put', { key: 'warm', value: 'x' });
    await ts.group('inventory').command('add', { sku: 'warm', qty: 1 });
    break;
  } catch (e) {
    if (t > 100) throw e;
    await sleep(200);
  }
}

/** A phase from the TypeScript SDK, in a process of its own (bench/ts-sdk-load.mjs), as the Python phases run. */
function tsLoad(group, command, concurrency) {
  return runJson(process.execPath, [join(root, 'bench/ts-sdk-load.mjs'), urls.join(','), group, command, String(concurrency), String(SECONDS)], process.env);
}

function runJson(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${args[0]} exited ${code}`))));
  });
}

function pyLoad(group, command, mode, concurrency) {
  const args = ['--urls', urls.join(','), '--group', group, '--command', command, '--mode', mode, '--concurrency', String(concurrency), '--seconds', String(SECONDS)];
  return runJson(python, [join(root, 'bench/python-load.py'), ...args], pyEnv);
}

const phases = [
  ['kv put c1', 'TypeScript SDK', () => tsLoad('kv', 'put', 1)],
  ['kv put c1', 'Python sync', () => pyLoad('kv', 'put', 'sync', 1)],
  ['kv put c1', 'Python async', () => pyLoad('kv', 'put', 'async', 1)],
  ['kv put c64', 'TypeScript SDK', () => tsLoad('kv', 'put', 64)],
  ['kv put c64', 'Python async', () => pyLoad('kv', 'put', 'async', 64)],
  ['kv put c64', 'Python sync (64 threads)', () => pyLoad('kv', 'put', 'sync', 64)],
  ['Python machine add c64', 'TypeScript SDK', () => tsLoad('inventory', 'add', 64)],
  ['Python machine add c64', 'Python async', () => pyLoad('inventory', 'add', 'async', 64)],
];
const results = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const [load, client, run] of phases) {
    const res = await run();
    results.push({ round: r + 1, load, client, ...res });
    console.log(JSON.stringify(results[results.length - 1]));
  }
}
console.log('\n| load | client | commands/s | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- |');
for (const x of results) console.log(`| ${x.load} | ${x.client} | ${x.opsPerSec} | ${x.p50ms} | ${x.p99ms} |`);
const c64 = (client) => results.filter((x) => x.load === 'kv put c64' && x.client === client).reduce((a, x) => a + x.opsPerSec, 0);
console.log(`\nasync Python / TypeScript SDK at c64: ${(c64('Python async') / c64('TypeScript SDK')).toFixed(2)} (target >= 0.70)`);
ts.close();
for (const c of children) c.kill('SIGTERM');
await sleep(300);
process.exit(0);
