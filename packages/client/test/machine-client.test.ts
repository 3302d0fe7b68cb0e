// client.machine<typeof M>() against scripted fake nodes: names routed as commands or queries
// by the group's schema, the schema read once, and names it lacks refused without a request.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, test } from 'node:test';
import { RaftClient, type GroupSchema, type RaftClientOptions } from '../src/index.js';
import { failure } from './assertions.js';
import { FakeNode, json } from './fake-node.js';
import type { Inventory } from './inventory-machine.js';

const operation = (name: string, kind: 'command' | 'query') => ({ name, kind, args: {} });

function schemaOf(commands: string[], queries: string[]): GroupSchema {
  return { group: 'inventory', type: 'inventory', commands: commands.map((n) => operation(n, 'command')), queries: queries.map((n) => operation(n, 'query')) };
}

const V1 = schemaOf(['addItem'], ['skus', 'stock']);
const V2 = schemaOf(['addItem', 'restock'], ['skus', 'stock']);

/**
 * A node of the `inventory` group: answers the schema from `schemas` (the last one repeats) and
 * every operation with `{ result: { op: "<kind>/<name>" }, index: 7 }`.
 */
function inventoryNode(schemas: GroupSchema[], answerOperation?: (res: ServerResponse, url: string) => boolean): FakeNode {
  let served = 0;
  return new FakeNode({
    http: (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url!, 'http://x');
      if (req.method === 'GET' && url.pathname === '/v1/groups/inventory/schema') {
        return json(res, 200, schemas[Math.min(served++, schemas.length - 1)]);
      }
      if (answerOperation?.(res, url.pathname)) return;
      const [, kind, name] = /^\/v1\/groups\/inventory\/(commands|queries)\/(\w+)$/.exec(url.pathname) ?? [];
      if (req.method !== 'POST' || !kind) return json(res, 404, { error: 'not_found', message: `no route ${url.pathname}` });
      json(res, 200, { result: { op: `${kind}/${name}` }, index: 7 });
    },
  });
}

const nodes: FakeNode[] = [];
const clients: RaftClient[] = [];

async function start(node: FakeNode): Promise<FakeNode> {
  nodes.push(await node.listen());
  return node;
}

function client(node: FakeNode, opts: Partial<RaftClientOptions> = {}): RaftClient {
  const c = new RaftClient({ endpoints: [node.url], backoff: { initialMs: 5, maxMs: 20 }, deadlineMs: 2_000, ...opts });
  clients.push(c);
  return c;
}

const schemaReads = (node: FakeNode) => node.requests.filter((r) => r.url.endsWith('/schema')).length;
const operationRequests = (node: FakeNode) => node.requests.filter((r) => !r.url.endsWith('/schema')).map((r) => `${r.method} ${r.url}`);

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const n of nodes.splice(0)) await n.close();
});

test('names the schema lists as commands take the command path, with a session; queries the query path, with their consistency', async () => {
  const node = await start(inventoryNode([V1]));
  const inv = client(node).machine<typeof Inventory>('inventory');

  const added = await inv.addItem({ sku: 'a', qty: 3 });
  assert.deepEqual(added, { result: { op: 'commands/addItem' }, index: 7 });
  const read = await inv.stock({ sku: 'a' }, { consistency: 'lease' });
  assert.deepEqual(read.result, { op: 'queries/stock' });
  await inv.skus();

  assert.deepEqual(operationRequests(node), [
    'POST /v1/groups/inventory/commands/addItem',
    'POST /v1/groups/inventory/queries/stock?consistency=lease',
    'POST /v1/groups/inventory/queries/skus?consistency=linearizable',
  ]);
  const [command, query, noArgs] = node.requests.filter((r) => r.method === 'POST');
  assert.deepEqual(command!.body, { sku: 'a', qty: 3 });
  assert.ok(command!.headers['x-raft-client-id'] && command!.headers['x-raft-sequence'], 'a command carries its session');
  assert.equal(query!.headers['x-raft-client-id'], undefined, 'a query carries none');
  assert.deepEqual(noArgs!.body, {}, 'a method without parameters sends empty arguments');
});

test('the schema is read once per group and client, even by concurrent first calls and separate machine() handles', async () => {
  const node = await start(inventoryNode([V1]));
  const c = client(node);
  const inv = c.machine<typeof Inventory>('inventory');
  assert.equal(c.machine<typeof Inventory>('inventory'), inv, 'one handle per group');

  await Promise.all([inv.addItem({ sku: 'a', qty: 1 }), inv.stock({ sku: 'a' }), inv.skus()]);
  await inv.addItem({ sku: 'b', qty: 1 });
  await c.machine<typeof Inventory>('inventory').stock({ sku: 'b' });

  assert.equal(schemaReads(node), 1);
  assert.equal(operationRequests(node).length, 5);
  const schemaRead = node.requests.find((r) => r.url.endsWith('/schema'))!;
  assert.equal(schemaRead.method, 'GET');
  assert.equal(schemaRead.headers['x-raft-no-forward'], undefined, 'any member answers the schema');
});

test('a name the schema lacks is refused with unknown_command after one fresh read, and no operation is sent', async () => {
  const node = await start(inventoryNode([V1]));
  const inv = client(node).machine<typeof Inventory>('inventory');

  // First call: the schema it reads is already fresh, so it is read only once.
  const first = await failure(inv.removeItem({ sku: 'a' }));
  assert.equal(first.code, 'unknown_command');
  assert.equal(first.status, undefined, 'no operation request was answered');
  assert.deepEqual(first.details, { group: 'inventory', name: 'removeItem' });
  assert.match(first.message, /"removeItem".*commands: addItem; queries: skus, stock/);
  assert.equal(schemaReads(node), 1);

  // With a kept schema, the name is looked up again in a fresh one before it is refused.
  const again = await failure(inv.removeItem({ sku: 'a' }));
  assert.equal(again.code, 'unknown_command');
  assert.equal(schemaReads(node), 2);
  assert.deepEqual(operationRequests(node), []);
});

test('a name added by an upgrade since the schema was kept is found by the fresh read and sent as what it now is', async () => {
  const node = await start(inventoryNode([V1, V2]));
  const inv = client(node).machine<typeof Inventory>('inventory');
  await inv.addItem({ sku: 'a', qty: 1 });
  assert.equal(schemaReads(node), 1);

  const restocked = await inv.restock({ sku: 'a' });
  assert.deepEqual(restocked.result, { op: 'commands/restock' });
  await inv.restock({ sku: 'b' });
  assert.equal(schemaReads(node), 2, 'the fresh schema is kept');
  assert.deepEqual(operationRequests(node).slice(1), ['POST /v1/groups/inventory/commands/restock', 'POST /v1/groups/inventory/commands/restock']);
});

test('when the server refuses a name the kept schema lists, the schema is read again on the next call', async () => {
  let refuse = true;
  const node = await start(
    inventoryNode([V1], (res, path) => {
      if (!refuse || !path.endsWith('/addItem')) return false;
      json(res, 404, { error: 'unknown_command', message: 'state machine "inventory" has no command "addItem"' });
      return true;
    }),
  );
  const inv = client(node).machine<typeof Inventory>('inventory');
  const refused = await failure(inv.addItem({ sku: 'a', qty: 1 }));
  assert.equal(refused.code, 'unknown_command');
  assert.equal(refused.status, 404, "the server's own answer");
  refuse = false;
  await inv.addItem({ sku: 'a', qty: 1 });
  assert.equal(schemaReads(node), 2);
});

test('consistency given to a command is refused with a TypeError before anything is sent', async () => {
  const node = await start(inventoryNode([V1]));
  const inv = client(node).machine<typeof Inventory>('inventory');
  await assert.rejects(inv.addItem({ sku: 'a', qty: 1 }, { consistency: 'local' }), (e: Error) => e instanceof TypeError && /"addItem" is a command.*queries only/.test(e.message));
  assert.deepEqual(operationRequests(node), []);
});

test('schema read failures reach the caller and are not kept: unknown group, an answer that is not a schema', async () => {
  let answer: [number, unknown] = [404, { error: 'unknown_group', message: 'no group "inventory" on this node' }];
  const node = await start(new FakeNode({ http: (_req, res) => json(res, ...answer) }));
  const inv = client(node).machine<typeof Inventory>('inventory');

  const noGroup = await failure(inv.stock({ sku: 'a' }));
  assert.equal(noGroup.code, 'unknown_group');
  assert.equal(noGroup.status, 404);

  answer = [200, { group: 'inventory', commands: 'addItem' }];
  const garbled = await failure(inv.stock({ sku: 'a' }));
  assert.equal(garbled.code, 'bad_response');
  assert.match(garbled.message, /schema/);

  assert.equal(node.requests.length, 2, 'each call read the schema again; no operation was sent');
});

test("a call's deadline and signal cover the schema read, which goes on for the other callers sharing it", async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const node = await start(
    new FakeNode({
      http: (req, res) => {
        if (req.url!.endsWith('/schema')) void held.then(() => json(res, 200, V1));
        else json(res, 200, { result: null, index: 3 });
      },
    }),
  );
  const inv = client(node).machine<typeof Inventory>('inventory');

  const patient = inv.stock({ sku: 'a' });
  const t0 = Date.now();
  const hurried = await failure(inv.stock({ sku: 'a' }, { deadlineMs: 100 }));
  assert.equal(hurried.code, 'deadline_exceeded');
  assert.match(hurried.message, /within 100 ms: reading the group schema/);
  assert.ok(Date.now() - t0 < 1_000, "failed at its own deadline, not the schema read's");

  const controller = new AbortController();
  const aborted = inv.addItem({ sku: 'a', qty: 1 }, { signal: controller.signal });
  controller.abort();
  assert.equal((await failure(aborted)).code, 'aborted');

  release();
  assert.deepEqual(await patient, { result: null, index: 3 });
  assert.equal(schemaReads(node), 1, 'all three calls shared one read');
  assert.deepEqual(operationRequests(node), ['POST /v1/groups/inventory/queries/stock?consistency=linearizable']);
});

test('the machine client is not thenable: awaiting it gives the client, and it has no `then`', async () => {
  const node = await start(inventoryNode([V1]));
  const inv = client(node).machine<typeof Inventory>('inventory');
  assert.equal((inv as unknown as { then?: unknown }).then, undefined);
  assert.equal(await Promise.resolve(inv), inv);
  assert.equal(inv.addItem, inv.addItem, 'methods are made once');
  assert.equal(node.requests.length, 0, 'nothing is read before the first call');
});
