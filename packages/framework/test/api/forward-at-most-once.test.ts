// At most once through forwarding: a command whose fate is unknown is never sent again by the
// node that forwarded it. Reproduces the duplicate found with SIGSTOP of a leader: the follower's
// forward went out on a pooled keep-alive socket, the leader read it (and appended it) and then
// stalled; when the client gave up, the follower saw the socket reset and re-sent the command,
// which the resumed node bounced (421) to the new leader, which applied it a second time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRequestKey } from '../../src/rsm/request-table.js';
import { FakeService } from './fake-service.js';
import { post, startApi, waitFor, type ApiServer } from './helpers.js';

/** A leader that answers the warm-up, then reads the next command and never answers it (SIGSTOP). */
interface StallingLeader {
  url: string;
  received: { url: string; body: string; requestId: string | undefined }[];
  /** Requests after the stalled one are answered 421 naming the new leader (it resumed as a follower). */
  newLeaderUrl: string;
  held: ServerResponse[];
  close(): Promise<void>;
}

async function stallingLeader(newLeaderUrl: string): Promise<StallingLeader> {
  const s: StallingLeader = { url: '', received: [], newLeaderUrl, held: [], close: async () => {} };
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const rid = req.headers['x-raft-request-id'];
      s.received.push({ url: req.url ?? '', body, requestId: typeof rid === 'string' ? rid : undefined });
      if (s.received.length === 1) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: { revision: 1 }, index: 1 }));
      } else if (s.received.length === 2) {
        s.held.push(res); // appended, then the process stalls: no answer
      } else {
        res.writeHead(421, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not_leader', message: 'resumed as a follower', leader: { id: 3, url: s.newLeaderUrl } }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = async () => {
    for (const r of s.held) r.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return s;
}

/** Sends a command and gives up after `ms` (destroys the connection), like a client timeout. */
function postAndGiveUp(base: string, path: string, body: unknown, ms: number): Promise<'gave up' | number> {
  return new Promise((resolve) => {
    const u = new URL(base);
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: u.hostname, port: u.port, method: 'POST', path, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(data.length) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve('gave up'));
    setTimeout(() => req.destroy(), ms);
    req.end(data);
  });
}

let newLeader: ApiServer;
let stalled: StallingLeader;
let follower: ApiServer;

before(async () => {
  newLeader = await startApi(new FakeService(3));
  stalled = await stallingLeader(newLeader.url);
  follower = await startApi(new FakeService(2), { requestTimeoutMs: 3_000 });
  follower.service.leader = { id: 1, url: stalled.url };
});

after(async () => {
  await follower.close();
  await stalled.close();
  await newLeader.close();
});

test('a forward reset after the leader read it is not re-sent: the client going away ends it', async () => {
  // Warm-up: the forward leaves a pooled keep-alive socket to the leader behind.
  const warm = await post(follower.url, '/v1/groups/kv/commands/put', { key: 'w', value: '0' });
  assert.equal(warm.status, 200, warm.text);

  // The command the leader reads and stalls on; the client gives up while it is stalled.
  const outcome = await postAndGiveUp(follower.url, '/v1/groups/kv/commands/put', { key: 'k', value: 'once' }, 400);
  assert.equal(outcome, 'gave up');
  await waitFor(() => stalled.received.length >= 2, 2_000, 'the stalled leader to read the command');
  // Time for a re-send to arrive at the stalled node and be bounced to the new leader.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(stalled.received.length, 2, `the command reached the stalled leader once: ${JSON.stringify(stalled.received)}`);
  assert.equal(
    newLeader.service.calls.filter((c) => c.op === 'command').length,
    0,
    'nothing was re-sent to the new leader (before the fix: the pooled socket reset was retried, bounced by 421 and applied there)',
  );
});

test('every forwarded session-less command carries the request key its first node gave it', () => {
  const keys = stalled.received.map((r) => r.requestId);
  assert.ok(
    keys.every((k) => k !== undefined && parseRequestKey(k) !== undefined),
    JSON.stringify(keys),
  );
  const [a, b] = keys.map((k) => parseRequestKey(k!)!);
  assert.equal(a!.origin, b!.origin, 'one origin per node process');
  assert.match(a!.origin, /^2\.[0-9a-f]{12}$/);
  assert.ok(b!.seq > a!.seq);
});

test('a forward whose connection is reset after the leader read it answers 503 "outcome unknown" and is not re-sent', async () => {
  // A leader that answers the warm-up, then reads each command and resets the connection (it
  // crashed right after appending it).
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      if (received.length === 1) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: { revision: 1 }, index: 1 }));
      } else {
        req.socket.resetAndDestroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entry = await startApi(new FakeService(4), { requestTimeoutMs: 3_000 });
  entry.service.leader = { id: 5, url };
  try {
    assert.equal((await post(entry.url, '/v1/groups/kv/commands/put', { key: 'w', value: '0' })).status, 200);
    const r = await post(entry.url, '/v1/groups/kv/commands/put', { key: 'k', value: 'once' });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error, 'unavailable');
    assert.equal(r.json.outcome, 'unknown');
    assert.match(r.json.message, /outcome is unknown/);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(received.length, 2, 'the command was sent once (before the fix: a reset pooled socket was retried)');
  } finally {
    await entry.close();
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
  }
});
