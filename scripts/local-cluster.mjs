#!/usr/bin/env node
// npm start: a local 3-node cluster of the KV demo on 127.0.0.1, data under one folder, embedded
// SQLite. Waits for a leader, prints the URLs and example commands, stops all nodes on Ctrl-C.
// Running it again resumes the same data.
//
//   npm start [-- --nodes 3 --base-port 7001 --data-dir .raftkit-data --token SECRET]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(root, 'packages/kv-demo/bin/raftkit-kv.js');

function fail(msg) {
  console.error(`npm start: ${msg}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      'base-port': { type: 'string', default: '7001' },
      'data-dir': { type: 'string', default: '.raftkit-data' },
      token: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  fail(e.message.split('\n')[0]);
}
if (values.help) {
  console.log('usage: npm start [-- --nodes 3 --base-port 7001 --data-dir .raftkit-data --token SECRET]');
  process.exit(0);
}
const n = Number(values.nodes);
const basePort = Number(values['base-port']);
if (!Number.isInteger(n) || n < 1 || n > 9) fail('--nodes must be an integer from 1 to 9');
if (!Number.isInteger(basePort) || basePort < 1024 || basePort + n - 1 > 65535) fail('--base-port must leave room for every node below 65536 (and be at least 1024)');
if (!existsSync(join(root, 'packages/kv-demo/dist/src/main.js'))) fail('the project is not built: run `npm ci` (it builds) or `npm run build` first');
const dataRoot = resolve(root, values['data-dir']);
const ids = Array.from({ length: n }, (_, i) => i + 1);
const portOf = (id) => basePort + id - 1;
const peers = ids.map((id) => `${id}=127.0.0.1:${portOf(id)}`).join(',');
const auth = values.token ? { authorization: `Bearer ${values.token}` } : {};

function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

for (const id of ids) if (!(await portFree(portOf(id)))) fail(`port ${portOf(id)} on 127.0.0.1 is in use (is a cluster already running? try --base-port)`);
mkdirSync(dataRoot, { recursive: true });
const resumed = ids.some((id) => existsSync(join(dataRoot, `node${id}`, 'raft.db')));

const children = new Map();
let stopping = false;

function argsOf(id) {
  const args = ['--id', String(id), '--listen', `127.0.0.1:${portOf(id)}`, '--peers', peers, '--data-dir', join(dataRoot, `node${id}`), '--log-level', 'info'];
  if (values.token) args.push('--token', values.token);
  return args;
}

function start(id) {
  const log = openSync(join(dataRoot, `node${id}.log`), 'a');
  const child = spawn(process.execPath, [BIN, ...argsOf(id)], { stdio: ['ignore', log, log] });
  children.set(id, child);
  child.on('exit', (code, signal) => {
    children.delete(id);
    if (stopping) return;
    console.log(`\nnode ${id} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); the others carry on. Its log: ${join(dataRoot, `node${id}.log`)}`);
    console.log(`restart it in another terminal with:\n  node ${BIN} ${argsOf(id).join(' ')}\n`);
  });
  return child;
}

for (const id of ids) start(id);

async function status(id) {
  const res = await fetch(`http://127.0.0.1:${portOf(id)}/v1/status`, { headers: auth, signal: AbortSignal.timeout(1000) });
  return res.json();
}

async function waitLeader(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (children.size === 0) return undefined;
    for (const id of ids) {
      try {
        const st = await status(id);
        const kv = st.groups?.find((g) => g.group === 'kv');
        if (kv?.leader) return kv.leader;
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const leader = await waitLeader(30_000);
if (leader === undefined) {
  stopAll('no leader');
  fail(`no leader within 30 s; see the logs in ${dataRoot}/node*.log`);
}
const url = (id) => `http://127.0.0.1:${portOf(id)}`;
const h = values.token ? ` -H 'authorization: Bearer ${values.token}'` : '';
console.log(`raftkit KV cluster ${resumed ? 'resumed' : 'started'}: ${n} node${n > 1 ? 's' : ''}, data in ${dataRoot}`);
for (const id of ids) console.log(`  node ${id}  ${url(id)}  pid ${children.get(id)?.pid}${id === leader ? '  (leader)' : ''}`);
console.log(`
Try it (any node; followers forward to the leader):
  curl -s -XPOST ${url(1)}/v1/groups/kv/commands/put${h} -d '{"key":"greeting","value":"hello"}'
  curl -s -XPOST '${url(n)}/v1/groups/kv/queries/get?consistency=linearizable'${h} -d '{"key":"greeting"}'
  curl -s -XPOST ${url(1)}/v1/groups/kv/commands/cas${h} -d '{"key":"greeting","expected":"hello","value":"hi"}'
  curl -sN '${url(1)}/v1/groups/kv/watch?from=1'${h}
  curl -s ${url(1)}/v1/status${h}
Kill the leader (kill -9 ${children.get(leader)?.pid}) and keep writing: the others elect a new one.
Logs: ${dataRoot}/node*.log. Ctrl-C stops every node; \`npm start\` again resumes the data.`);

function stopAll(reason) {
  if (stopping) return;
  stopping = true;
  if (reason) console.log(`\nstopping (${reason})...`);
  for (const child of children.values()) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 10_000);
  force.unref();
}

const waitAllExited = () =>
  new Promise((res) => {
    const check = () => (children.size === 0 ? res() : setTimeout(check, 50));
    check();
  });

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    stopAll(sig);
    await waitAllExited();
    console.log('all nodes stopped.');
    process.exit(0);
  });
}
