// The client's own HTTP under Node (node-http.ts): one kept-alive connection for sequential
// calls, closed by client.close(), and a kept-alive connection that the server drops as it is
// reused costs no failed attempt (global fetch failed such a POST, and the node was marked down).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, test } from 'node:test';
import { RaftClient, type AttemptEvent, type ClientEvent } from '../src/index.js';

const servers: Server[] = [];
const clients: RaftClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

interface Counted {
  url: string;
  sockets: Socket[];
  /** Requests per socket, in arrival order. */
  served: Map<Socket, number>;
}

/** A node that answers every command; `drop(socket, n)` true destroys the socket at its n-th request instead. */
async function node(drop: (n: number, socketIndex: number) => boolean = () => false): Promise<Counted> {
  const c: Counted = { url: '', sockets: [], served: new Map() };
  let index = 0;
  const server = createServer((req, res) => {
    const socket = req.socket;
    const n = (c.served.get(socket) ?? 0) + 1;
    c.served.set(socket, n);
    req.resume();
    req.on('end', () => {
      if (drop(n, c.sockets.indexOf(socket))) {
        socket.destroy();
        return;
      }
      const body = JSON.stringify({ result: { ok: true }, index: ++index });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  server.on('connection', (s: Socket) => c.sockets.push(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  c.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return c;
}

function client(url: string, events: ClientEvent[]): RaftClient {
  const rc = new RaftClient({ endpoints: [url], backoff: { initialMs: 5, maxMs: 20 }, deadlineMs: 3_000, onEvent: (e) => events.push(e) });
  clients.push(rc);
  return rc;
}

const attempts = (events: ClientEvent[]) => events.filter((e): e is AttemptEvent => e.type === 'attempt');

test('sequential calls share one kept-alive connection; close() closes it', async () => {
  const n = await node();
  const events: ClientEvent[] = [];
  const rc = client(n.url, events);
  for (let i = 0; i < 20; i++) await rc.group('kv').command('put', { key: `k${i}`, value: 'v' });
  assert.equal(n.sockets.length, 1, 'one connection for 20 sequential commands');
  assert.equal(n.served.get(n.sockets[0]!), 20);
  const closed = new Promise<void>((r) => n.sockets[0]!.once('close', () => r()));
  rc.close();
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the idle connection stayed open after close()')), 2_000))]);
});

test('a kept-alive connection the server drops as it is reused is retried on a new one within the same attempt', async () => {
  // The first connection is dropped at its second request (the server closed it while idle).
  const n = await node((count, socketIndex) => socketIndex === 0 && count === 2);
  const events: ClientEvent[] = [];
  const rc = client(n.url, events);
  for (let i = 0; i < 5; i++) await rc.group('kv').command('put', { key: `k${i}`, value: 'v' });
  const a = attempts(events);
  assert.equal(a.length, 5, `one attempt per call: ${JSON.stringify(a.map((e) => [e.attempt, e.outcome, e.code]))}`);
  assert.ok(
    a.every((e) => e.outcome === 'ok' && e.attempt === 1),
    JSON.stringify(a),
  );
  assert.equal(n.sockets.length, 2, 'the dropped connection was replaced once');
});

test('a connection dropped on a fresh socket is an attempt that failed (not retried behind the caller)', async () => {
  // Every first request of a connection is dropped: no retry inside the attempt can help.
  const n = await node((count) => count === 1);
  const events: ClientEvent[] = [];
  const rc = client(n.url, events);
  await assert.rejects(rc.group('kv').command('put', { key: 'k', value: 'v' }, { deadlineMs: 300 }));
  const a = attempts(events);
  assert.ok(a.length >= 1 && a.every((e) => e.outcome === 'retry' && e.code === 'network'), JSON.stringify(a));
});
