#!/usr/bin/env node
// npm start: a local 3-node cluster of the KV demo on 127.0.0.1, data under one folder, embedded
// SQLite. Waits for a leader, prints the URLs and example commands, stops all nodes on Ctrl-C.
// Running it again resumes the same data. `--app sql` (npm run start:sql) runs the SQL store
// (raftkit-sql, rqlite's HTTP API) instead, `--app meta` (npm run start:meta) the metadata center
// (raftkit-meta: etcd's gRPC API on 2379-2381, the JSON gateway on the HTTP ports), each with its
// data in its own folder.
//
//   npm start [-- --nodes 3 --base-port 7001 --data-dir .raftkit-data --token SECRET]
//   npm run start:sql [-- --nodes 3 --base-port 4001 --data-dir .raftkit-sql-data --token SECRET]
//   npm run start:meta [-- --nodes 3 --base-port 12379 --grpc-base-port 2379 --data-dir .raftkit-meta-data]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What each app runs: its bin, its built entry, its group, and its defaults. */
const APPS = {
  kv: {
    bin: 'packages/kv-demo/bin/raftkit-kv.js',
    built: 'packages/kv-demo/dist/src/main.js',
    group: 'kv',
    title: 'raftkit KV cluster',
    basePort: '7001',
    dataDir: '.raftkit-data',
  },
  sql: {
    bin: 'packages/sql-demo/bin/raftkit-sql.js',
    built: 'packages/sql-demo/dist/src/main.js',
    group: 'sql',
    title: 'raftkit SQL cluster (rqlite API)',
    basePort: '4001',
    dataDir: '.raftkit-sql-data',
  },
  meta: {
    bin: 'packages/metadata-demo/bin/raftkit-meta.js',
    built: 'packages/metadata-demo/dist/src/main.js',
    group: 'meta',
    title: 'raftkit metadata center (etcd v3 API)',
    basePort: '12379',
    grpcBasePort: '2379',
    dataDir: '.raftkit-meta-data',
  },
};

function fail(msg) {
  console.error(`npm start: ${msg}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      app: { type: 'string', default: 'kv' },
      nodes: { type: 'string', default: '3' },
      'base-port': { type: 'string' },
      'grpc-base-port': { type: 'string' },
      'data-dir': { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (e) {
  fail(e.message.split('\n')[0]);
}
if (values.help) {
  console.log('usage: npm start [-- --app kv|sql|meta --nodes 3 --base-port 7001 --data-dir .raftkit-data --token SECRET] (meta: also --grpc-base-port 2379)');
  process.exit(0);
}
const app = APPS[values.app];
if (!app) fail(`--app must be one of ${Object.keys(APPS).join(', ')}, got "${values.app}"`);
const BIN = join(root, app.bin);
values['base-port'] ??= app.basePort;
values['data-dir'] ??= app.dataDir;
if (values['grpc-base-port'] !== undefined && !app.grpcBasePort) fail('--grpc-base-port is for --app meta');
values['grpc-base-port'] ??= app.grpcBasePort;
const n = Number(values.nodes);
const basePort = Number(values['base-port']);
const grpcBasePort = app.grpcBasePort ? Number(values['grpc-base-port']) : undefined;
if (!Number.isInteger(n) || n < 1 || n > 9) fail('--nodes must be an integer from 1 to 9');
if (!Number.isInteger(basePort) || basePort < 1024 || basePort + n - 1 > 65535) fail('--base-port must leave room for every node below 65536 (and be at least 1024)');
if (grpcBasePort !== undefined && (!Number.isInteger(grpcBasePort) || grpcBasePort < 1024 || grpcBasePort + n - 1 > 65535)) {
  fail('--grpc-base-port must leave room for every node below 65536 (and be at least 1024)');
}
if (!existsSync(join(root, app.built))) fail('the project is not built: run `npm ci` (it builds) or `npm run build` first');
const dataRoot = resolve(root, values['data-dir']);
const ids = Array.from({ length: n }, (_, i) => i + 1);
const portOf = (id) => basePort + id - 1;
const grpcPortOf = (id) => (grpcBasePort === undefined ? undefined : grpcBasePort + id - 1);
const peers = ids.map((id) => `${id}=127.0.0.1:${portOf(id)}`).join(',');
const auth = values.token ? { authorization: `Bearer ${values.token}` } : {};

function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

for (const id of ids) {
  if (!(await portFree(portOf(id)))) fail(`port ${portOf(id)} on 127.0.0.1 is in use (is a cluster already running? try --base-port)`);
  const grpc = grpcPortOf(id);
  if (grpc !== undefined && !(await portFree(grpc))) fail(`port ${grpc} on 127.0.0.1 is in use (an etcd? try --grpc-base-port)`);
}
mkdirSync(dataRoot, { recursive: true });
const resumed = ids.some((id) => existsSync(join(dataRoot, `node${id}`, 'raft.db')));

const children = new Map();
let stopping = false;

function argsOf(id) {
  const args = ['--id', String(id), '--listen', `127.0.0.1:${portOf(id)}`, '--peers', peers, '--data-dir', join(dataRoot, `node${id}`), '--log-level', 'info'];
  if (values.token) args.push('--token', values.token);
  const grpc = grpcPortOf(id);
  if (grpc !== undefined) args.push('--grpc-listen', `127.0.0.1:${grpc}`);
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
        const group = st.groups?.find((g) => g.group === app.group);
        if (group?.leader) return group.leader;
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
const tryKv = `  curl -s -XPOST ${url(1)}/v1/groups/kv/commands/put${h} -d '{"key":"greeting","value":"hello"}'
  curl -s -XPOST '${url(n)}/v1/groups/kv/queries/get?consistency=linearizable'${h} -d '{"key":"greeting"}'
  curl -s -XPOST ${url(1)}/v1/groups/kv/commands/cas${h} -d '{"key":"greeting","expected":"hello","value":"hi"}'
  curl -sN '${url(1)}/v1/groups/kv/watch?from=1'${h}
  curl -s ${url(1)}/v1/status${h}`;
const trySql = `  curl -s -XPOST '${url(1)}/db/execute?pretty'${h} -d '["CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)"]'
  curl -s -XPOST '${url(n)}/db/execute?raft_index'${h} -d '[["INSERT INTO people(name, age) VALUES(?, ?)", "fiona", 20]]'
  curl -s -G '${url(n)}/db/query?level=linearizable'${h} --data-urlencode 'q=SELECT * FROM people'
  curl -s -XPOST '${url(1)}/db/request?transaction'${h} -d '["UPDATE people SET age = age + 1", "SELECT * FROM people"]'
  curl -s '${url(1)}/db/backup?fmt=sql'${h}
  curl -s ${url(1)}/nodes?pretty${h}
  node ${join(root, APPS.sql.bin)} shell --url ${url(1)}`;
const endpoints = ids.map((id) => `127.0.0.1:${grpcPortOf(id)}`).join(',');
const tryMeta = `  export ETCDCTL_API=3 ENDPOINTS=${endpoints}
  etcdctl --endpoints $ENDPOINTS put greeting hello
  etcdctl --endpoints $ENDPOINTS get greeting -w json
  etcdctl --endpoints $ENDPOINTS watch --prefix greet        (leave it running)
  etcdctl --endpoints $ENDPOINTS lease grant 10
  etcdctl --endpoints $ENDPOINTS lock mylock                 (holds until Ctrl-C)
  etcdctl --endpoints $ENDPOINTS endpoint status -w table
  curl -s ${url(1)}/v3/kv/range${h} -d '{"key":"'$(printf greeting | base64)'"}'
  (etcdctl: apt-get install etcd-client)`;
const tryIt = { sql: trySql, meta: tryMeta }[app.group] ?? tryKv;
console.log(`${app.title} ${resumed ? 'resumed' : 'started'}: ${n} node${n > 1 ? 's' : ''}, data in ${dataRoot}`);
for (const id of ids) {
  const grpc = grpcPortOf(id) === undefined ? '' : `  gRPC 127.0.0.1:${grpcPortOf(id)}`;
  console.log(`  node ${id}  ${url(id)}${grpc}  pid ${children.get(id)?.pid}${id === leader ? '  (leader)' : ''}`);
}
console.log(`
Try it (any node; followers forward to the leader):
${tryIt}
Kill the leader (kill -9 ${children.get(leader)?.pid}) and keep writing: the others elect a new one.
Logs: ${dataRoot}/node*.log. Ctrl-C stops every node; running it again resumes the data.`);

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
