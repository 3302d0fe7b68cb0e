// The packages as a user gets them: `npm pack` of the framework and the client, installed with
// their peers into a fresh project outside the repository, which compiles examples/inventory
// with its own tsc, runs it as a 3-node cluster and calls it; then a Nest application on the
// lowest and the highest Nest version of the framework's peer range.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import { freePorts } from '../support/ports.js';
import { spawnNode } from '../support/proc.js';
import { CHECKS_DIR, FreshProject, packTarballs, readPackageJson, REPO } from './fresh-project.js';
import { InventoryCluster } from './inventory-cluster.js';
import { runCommand, type CommandResult } from './run-command.js';

const NEST_PACKAGES = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express'];
const FRAMEWORK_PEERS = readPackageJson(join(REPO, 'packages', 'framework', 'package.json')).peerDependencies ?? {};

/** The Nest peer range "^A || ... || ^Z": its lowest version exactly, and the newest release of its highest major. */
function nestBounds(): { lowest: string; highest: string } {
  const alternatives = (FRAMEWORK_PEERS['@nestjs/core'] ?? '').split('||').map((s) => s.trim());
  assert.ok(
    alternatives.every((a) => /^\^\d+\.\d+\.\d+$/.test(a)),
    `the Nest peer range is caret alternatives, got "${FRAMEWORK_PEERS['@nestjs/core']}"`,
  );
  return { lowest: alternatives[0]!.slice(1), highest: alternatives.at(-1)! };
}

const nestAt = (version: string) => Object.fromEntries(NEST_PACKAGES.map((name) => [name, version]));

async function step<T>(t: TestContext, name: string, f: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await f();
  } finally {
    t.diagnostic(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

function lastJsonLine(r: CommandResult): Record<string, unknown> {
  assert.equal(r.code, 0, `exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** Compiles the project against the installed Nest (its types too) and runs the one-node Nest app. */
async function checkNest(project: FreshProject): Promise<void> {
  await project.compile();
  const [port] = await freePorts(1);
  const version = project.installedVersion('@nestjs/core');
  const args = [
    join('dist', CHECKS_DIR, 'nest-check.js'),
    '--id',
    '1',
    '--listen',
    `127.0.0.1:${port}`,
    '--peers',
    `1=127.0.0.1:${port}`,
    '--data-dir',
    join(project.dir, 'data', `nest-${version}`),
  ];
  const seen = lastJsonLine(await runCommand(process.execPath, [...args, '--log-level', 'warn'], { cwd: project.dir, timeoutMs: 60_000 }));
  assert.deepEqual({ proposed: seen.proposed, read: seen.read, badArgs: seen.badArgs }, { proposed: 5, read: 5, badArgs: 'bad_request' }, `Nest ${version}`);
  assert.ok(typeof seen.httpPort === 'number' && seen.httpPort > 0, `Nest ${version}: the Express adapter listens`);
}

/** Runs the starter's src/nest-main.ts as one node with --http and calls its REST routes. */
async function checkStarterNestApp(project: FreshProject): Promise<void> {
  const [raftPort, httpPort] = await freePorts(2);
  const dataDir = join(project.dir, 'data', 'nest-main');
  const args = [
    'dist/nest-main.js',
    '--id',
    '1',
    '--listen',
    `127.0.0.1:${raftPort}`,
    '--peers',
    `1=127.0.0.1:${raftPort}`,
    '--data-dir',
    dataDir,
    '--http',
    `127.0.0.1:${httpPort}`,
  ];
  const app = spawnNode(
    1,
    raftPort!,
    dataDir,
    args.map((a, i) => (i === 0 ? join(project.dir, a) : a)),
  );
  try {
    const http = `http://127.0.0.1:${httpPort}`;
    const post = (path: string, body: unknown) => fetch(`${http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const added = await eventually(
      async () => {
        const r = await post('/items/widget/add', { qty: 4 }).catch(() => undefined);
        return r?.status === 201 ? r : undefined;
      },
      30_000,
      `the starter's Nest app on ${http}: ${app.stderr}`,
    );
    assert.deepEqual(await added.json(), { sku: 'widget', stock: 4 });
    assert.deepEqual(await (await fetch(`${http}/items/widget`)).json(), { sku: 'widget', stock: 4 });
    const tooMany = await post('/items/widget/remove', { qty: 9 });
    assert.equal(tooMany.status, 409);
    assert.equal(((await tooMany.json()) as { error: string }).error, 'conflict');
    const bad = await post('/items/widget/add', { qty: 'lots' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { field: string }).field, 'qty');
  } finally {
    app.child.kill('SIGTERM');
  }
  assert.equal(await app.exited, 0, app.stderr);
  for (const line of app.stderr.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), `one JSON log stream, got: ${line}`);
}

test('the packed tarballs install into a fresh project that builds and runs the inventory starter and a Nest app', { timeout: 8 * 60_000 }, async (t) => {
  const packs = mkdtempSync(join(tmpdir(), 'raftkit-packs-'));
  const project = new FreshProject();
  const cluster = new InventoryCluster(project.dir);
  t.after(async () => {
    await cluster.stop();
    project.remove();
    rmSync(packs, { recursive: true, force: true });
  });
  const nest = nestBounds();

  const tarballs = await step(t, 'npm pack', () => packTarballs(packs));
  assert.deepEqual([...tarballs.keys()].sort(), ['@raftkit/client', '@raftkit/framework']);
  await step(t, 'npm install (tarballs, peers, Nest ' + nest.highest + ')', () => project.install(tarballs, { ...nestAt(nest.highest), rxjs: FRAMEWORK_PEERS.rxjs ?? '^7.1.0' }));

  await step(t, 'tsc and every framework subpath', async () => {
    project.copySources();
    const subpaths = project.writeExportsCheck();
    await project.compile();
    const compiled = project.compiledFiles();
    for (const file of ['client.js', 'inventory.machine.js', 'server.js', 'nest-main.js', join(CHECKS_DIR, 'exports-check.js'), join(CHECKS_DIR, 'nest-check.js')]) {
      assert.ok(compiled.includes(file), `dist/${file} was not built (built: ${compiled.join(', ')})`);
    }
    const loaded = await runCommand(process.execPath, [join('dist', CHECKS_DIR, 'exports-check.js')], { cwd: project.dir, timeoutMs: 30_000 });
    assert.equal(loaded.code, 0, `importing ${subpaths.join(', ')} failed: ${loaded.stderr}`);
  });

  await step(t, 'require() of an ESM-only package names the fix', async () => {
    for (const name of tarballs.keys()) {
      const r = await runCommand(process.execPath, ['-e', `require('${name}')`], { cwd: project.dir, timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`${name} is ESM-only: set "type": "module"`));
    }
  });

  await step(t, '3-node inventory cluster: writes through a follower, reads back, refusals', async () => {
    await cluster.start();
    const leader = await cluster.leader();
    const [followerA, followerB] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    const client = (endpointId: number, ...args: string[]) =>
      runCommand(process.execPath, ['dist/client.js', ...args], { cwd: project.dir, env: { RAFTKIT_ENDPOINTS: cluster.address(endpointId) }, timeoutMs: 30_000 });

    const added = lastJsonLine(await client(followerA, 'add', 'widget', '5'));
    assert.deepEqual(added.result, { sku: 'widget', stock: 5 });
    assert.ok(typeof added.index === 'number' && added.index > 0);
    assert.deepEqual(lastJsonLine(await client(followerB, 'stock', 'widget')).result, { sku: 'widget', stock: 5 });

    const tooMany = await client(followerA, 'remove', 'widget', '7');
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.stderr, /conflict \(409\): cannot remove 7 of "widget": 5 in stock/);
    const notANumber = await client(followerB, 'add', 'widget', 'five');
    assert.equal(notANumber.code, 1);
    assert.match(notANumber.stderr, /bad_request \(400\)/);
    const res = await fetch(`http://${cluster.address(followerB)}/v1/groups/inventory/commands/addItem`, { method: 'POST', body: JSON.stringify({ sku: 'widget', qty: 0 }) });
    assert.equal(res.status, 400);
    const refusal = (await res.json()) as { error: string; field: string };
    assert.deepEqual({ error: refusal.error, field: refusal.field }, { error: 'bad_request', field: 'qty' });

    assert.deepEqual(lastJsonLine(await client(followerB, 'remove', 'widget', '2')).result, { sku: 'widget', stock: 3 });
    assert.deepEqual(lastJsonLine(await client(leader, 'stock', 'widget')).result, { sku: 'widget', stock: 3 });
    await cluster.stop();
  });

  await step(t, `Nest ${project.installedVersion('@nestjs/core')} (highest): RaftModule boots, RaftService proposes`, () => checkNest(project));
  await step(t, "the starter's Nest app: its own routes on --http, raftkit errors with their status, SIGTERM", () => checkStarterNestApp(project));
  await step(t, `npm install Nest ${nest.lowest} (lowest)`, () => project.npm(['install', ...NEST_PACKAGES.map((name) => `${name}@${nest.lowest}`)]));
  assert.equal(project.installedVersion('@nestjs/core'), nest.lowest);
  await step(t, `Nest ${nest.lowest} (lowest): RaftModule boots, RaftService proposes`, () => checkNest(project));
});
