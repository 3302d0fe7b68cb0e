// WatchStream against scripted fake nodes: resume, dedup, close codes, refusals, break.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { RaftClient, RaftClientError, type ClientEvent } from '../src/index.js';
import { entry, FakeNode, json, type Handlers } from './fake-node.js';
import { failure } from './assertions.js';

const nodes: FakeNode[] = [];
const clients: RaftClient[] = [];

async function fake(handlers: Handlers): Promise<FakeNode> {
  const n = await new FakeNode(handlers).listen();
  nodes.push(n);
  return n;
}

function client(urls: string[], extra: { token?: string; deadlineMs?: number; events?: ClientEvent[] } = {}): RaftClient {
  const c = new RaftClient({
    endpoints: urls,
    backoff: { initialMs: 5, maxMs: 20 },
    deadlineMs: extra.deadlineMs ?? 2_000,
    ...(extra.token ? { token: extra.token } : {}),
    ...(extra.events ? { onEvent: (e: ClientEvent) => extra.events!.push(e) } : {}),
  });
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const n of nodes.splice(0)) await n.close();
});

test('resumes on the next node from the last index + 1 and drops entries it already delivered', async () => {
  const a = await fake({
    watch: ({ ws, from }) => {
      for (let i = from!; i < from! + 3; i++) ws.send(entry(i));
      setTimeout(() => ws.terminate(), 20); // the node dies: no close frame
    },
  });
  const b = await fake({
    watch: ({ ws, from }) => {
      for (let i = from! - 1; i < from! + 2; i++) ws.send(entry(i)); // re-sends one it already had
    },
  });
  const seen: number[] = [];
  for await (const e of client([a.url, b.url]).group('kv').watch({ from: 5 })) {
    seen.push(e.index);
    if (e.index === 9) break;
  }
  assert.deepEqual(seen, [5, 6, 7, 8, 9]);
  assert.deepEqual([a.watches.map((w) => w.from), b.watches.map((w) => w.from)], [[5], [8]]);
});

test('a slow-consumer close (4408) reconnects and resumes', async () => {
  const a = await fake({
    watch: ({ ws, from }) => {
      ws.send(entry(from!));
      ws.send(entry(from! + 1), () => ws.close(4408, JSON.stringify({ error: 'slow_consumer', message: 'fell behind' })));
    },
  });
  const b = await fake({ watch: ({ ws, from }) => ws.send(entry(from!)) });
  const seen: number[] = [];
  for await (const e of client([a.url, b.url]).group('kv').watch({ from: 1 })) {
    seen.push(e.index);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(b.watches[0]!.from, 3);
});

test('compacted on every endpoint throws RaftClientError compacted with firstIndex', async () => {
  const reason = JSON.stringify({ firstIndex: 42, error: 'compacted', message: 'resume from 42' });
  const handlers: Handlers = { watch: ({ ws }) => ws.close(4410, reason) };
  const [a, b] = [await fake(handlers), await fake(handlers)];
  const err = await failure(client([a.url, b.url]).group('kv').watch({ from: 3 }).next());
  assert.equal(err.code, 'compacted');
  assert.equal(err.status, 410);
  assert.equal(err.firstIndex, 42);
  assert.equal(a.watches.length + b.watches.length, 2, 'each endpoint asked once');
});

test('a 4xx close other than 4408/4410 is final', async () => {
  const a = await fake({ watch: ({ ws }) => ws.close(4404, JSON.stringify({ error: 'unknown_group', message: 'no group "kv"' })) });
  const b = await fake({});
  const err = await failure(client([a.url, b.url]).group('kv').watch({ from: 1 }).next());
  assert.equal(err.code, 'unknown_group');
  assert.equal(err.status, 404);
  assert.equal(b.watches.length, 0);
});

test('a refused upgrade keeps the server error; 401 is not retried', async () => {
  const a = await fake({ refuseUpgrade: () => [401, { error: 'unauthorized', message: 'a valid Authorization: Bearer token is required' }] });
  const err = await failure(client([a.url]).group('kv').watch({ from: 1 }).next());
  assert.equal(err.code, 'unauthorized');
  assert.equal(err.status, 401);
});

test('the token travels in the Authorization header of the upgrade', async () => {
  const a = await fake({ watch: ({ ws, from }) => ws.send(entry(from!)) });
  const it = client([a.url], { token: 's3cret' }).group('kv').watch({ from: 7 });
  assert.equal((await it.next()).value?.index, 7);
  await it.return();
  assert.equal(a.watches[0]!.headers.authorization, 'Bearer s3cret');
});

test('without from, the watch starts at the node applied index + 1 (from /v1/status)', async () => {
  const a = await fake({
    http: (req, res) => (req.url === '/v1/status' ? json(res, 200, { id: 1, groups: [{ group: 'kv', applied: 41 }] }) : json(res, 404, { error: 'not_found', message: '' })),
    watch: ({ ws, from }) => ws.send(entry(from!)),
  });
  const it = client([a.url]).group('kv').watch();
  assert.equal((await it.next()).value?.index, 42);
  await it.return();
  assert.equal(a.watches[0]!.from, 42);
});

test('break closes the socket with a normal close', async () => {
  let closed: number | undefined;
  const gotClose = new Promise<void>((resolve) => {
    void fake({
      watch: ({ ws, from }) => {
        ws.on('close', (code) => {
          closed = code;
          resolve();
        });
        for (let i = 0; i < 5; i++) ws.send(entry(from! + i));
      },
    }).then(async (a) => {
      for await (const e of client([a.url]).group('kv').watch({ from: 1 })) if (e.index === 2) break;
    });
  });
  await gotClose;
  assert.equal(closed, 1000);
});

test('close() ends a pending next() and closing the client ends its watches', async () => {
  const a = await fake({});
  const c = client([a.url]);
  const w = c.group('kv').watch({ from: 1 });
  const pending = w.next();
  await new Promise((r) => setTimeout(r, 50));
  w.close();
  assert.deepEqual(await pending, { done: true, value: undefined });

  const w2 = c.group('kv').watch({ from: 1 });
  const pending2 = w2.next();
  await new Promise((r) => setTimeout(r, 50));
  c.close();
  assert.deepEqual(await pending2, { done: true, value: undefined });
  assert.throws(
    () => c.group('kv').watch(),
    (e: unknown) => e instanceof RaftClientError && e.code === 'closed',
  );
});

test('no node reachable: deadline_exceeded after the client deadline', async () => {
  const a = await fake({});
  const url = a.url;
  await a.close();
  nodes.length = 0;
  const events: ClientEvent[] = [];
  const t0 = Date.now();
  const err = await failure(client([url], { deadlineMs: 300, events }).group('kv').watch({ from: 1 }).next());
  assert.equal(err.code, 'deadline_exceeded');
  assert.ok(Date.now() - t0 >= 300);
  assert.ok(events.length > 1 && events.every((e) => e.type === 'watch' && e.outcome === 'fail'));
});

test('a burst larger than the queue limit pauses the socket and still arrives complete and in order', async () => {
  const N = 5_000;
  const a = await fake({
    watch: ({ ws, from }) => {
      for (let i = 0; i < N; i++) ws.send(entry(from! + i));
    },
  });
  let expected = 1;
  for await (const e of client([a.url]).group('kv').watch({ from: 1 })) {
    assert.equal(e.index, expected++);
    if (e.index === 1) await new Promise((r) => setTimeout(r, 100)); // let the queue fill up
    if (e.index === N) break;
  }
  assert.equal(expected, N + 1);
  assert.equal(a.watches.length, 1, 'no reconnect was needed');
});

test('a connection silent for idleTimeoutMs (no entry, no ping) is replaced', async () => {
  const a = await fake({
    watch: ({ ws, from }) => {
      if (a.watches.length > 1) ws.send(entry(from!));
    },
  });
  const events: ClientEvent[] = [];
  const it = client([a.url], { events }).group('kv').watch({ from: 1, idleTimeoutMs: 100 });
  assert.equal((await it.next()).value?.index, 1);
  await it.return();
  assert.deepEqual(
    events.map((e) => (e.type === 'watch' ? e.outcome : e.type)),
    ['open', 'close', 'open'],
  );
});
