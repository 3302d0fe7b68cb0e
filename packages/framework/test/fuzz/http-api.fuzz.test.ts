// Fuzz: HTTP requests to every route of a real node (bodies, headers, query strings, methods)
// and WebSocket watch handshakes. Every case ends in a JSON answer with a documented status
// (never a 500), the node stays up, and a write acknowledged before the run is still there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { request } from '../api/helpers.js';
import { FakeService } from '../api/fake-service.js';
import { startApi, type ApiServer } from '../api/helpers.js';
import { startSingleNode, type SingleNode } from '../support/single-node.js';
import { fuzz } from './fuzz-config.js';

const TOKEN = 'fuzz-token';
const DOCUMENTED = new Set([200, 201, 400, 401, 404, 405, 408, 409, 410, 413, 421, 503]);
let node: SingleNode;
let fake: ApiServer;

before(async () => {
  node = await startSingleNode({ token: TOKEN });
  const put = await request(node.url, 'POST', '/v1/groups/kv/commands/put', { token: TOKEN, body: JSON.stringify({ key: 'acked', value: 'before the fuzz' }) });
  assert.equal(put.status, 200);
  fake = await startApi(new FakeService(1), { token: TOKEN });
});
after(async () => {
  await fake.close();
  await node.stop();
});

const segment = fc.oneof(fc.constantFrom('kv', 'nope', '%2F', '%zz', '..', 'a%00b', '', '1', '99', 'x'.repeat(300)), fc.string({ maxLength: 12 }).map(encodeURIComponent));
const pathOf = fc.oneof(
  fc.tuple(fc.constantFrom('commands', 'queries'), segment, fc.constantFrom('put', 'get', 'cas', 'delete', 'range', 'nope')).map(([k, g, n]) => `/v1/groups/${g}/${k}/${n}`),
  segment.map((g) => `/v1/groups/${g}/schema`),
  segment.map((g) => `/v1/groups/${g}/snapshot`),
  segment.map((g) => `/v1/groups/${g}/leader/transfer`),
  fc.tuple(segment, fc.constantFrom('promote', 'demote')).map(([id, op]) => `/v1/groups/kv/members/${id}/${op}`),
  fc.constantFrom('/v1/status', '/v1/groups', '/healthz', '/readyz', '/metrics', '/', '/v1', '/v1/groups/kv', '//v1//status'),
);
const memberPaths = fc.oneof(
  segment.map((id) => `/v1/groups/kv/members/${id}`),
  fc.constant('/v1/groups/kv/members'),
  fc.constant('/v1/groups/kv/membership'),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?consistency=local',
    '?consistency=lease',
    '?consistency=bogus',
    '?consistency=local&consistency=lease',
    '?from=1',
    '?from=0',
    '?from=-1',
    '?from=99999999999999999999',
    '?%zz',
    '?a=%',
  ),
  fc.string({ maxLength: 40 }).map((s) => `?${encodeURI(s)}`),
);
/** Request options with the body's length declared (Node's client sends a DELETE body unframed otherwise). */
const withBody = (h: object, b: string | Buffer | undefined) =>
  b === undefined ? { headers: h as Record<string, string> } : { headers: { ...(h as Record<string, string>), 'content-length': String(Buffer.byteLength(b)) }, body: b };
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.record({ key: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), value: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })) }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 60, max: 5000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
);
const headerValue = fc.oneof(fc.constantFrom('1', 'true', '0', '', 'x:1:0', 'c1', '18446744073709551616', '-1'), fc.stringMatching(/^[\x20-\x7e]{0,40}$/));
const headers = fc.record(
  {
    'x-raft-client-id': headerValue,
    'x-raft-sequence': headerValue,
    'x-raft-no-forward': headerValue,
    'x-raft-request-id': headerValue,
    'x-raft-forwarded-by': headerValue,
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
    authorization: fc.oneof(fc.constant(`Bearer ${TOKEN}`), fc.constant(`bearer ${TOKEN}`), headerValue),
  },
  { requiredKeys: [] },
);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS');

function checkAnswer(r: { status: number; json: any; text: string }, method: string, what: string): void {
  assert.ok(DOCUMENTED.has(r.status), `${what}: status ${r.status} ${r.text.slice(0, 200)}`);
  if (r.status >= 400 && method !== 'HEAD') {
    assert.equal(typeof r.json?.error, 'string', `${what}: no JSON error in ${r.text.slice(0, 200)}`);
    assert.equal(typeof r.json?.message, 'string', what);
  }
}

test('fuzz: requests to the routes of a real node answer JSON with a documented status, never 500', async () => {
  await fuzz(
    'http routes of a real node',
    fc.asyncProperty(method, pathOf, query, headers, body, async (m, path, q, h, b) => {
      const r = await request(node.url, m, path + q, withBody(h, m !== 'GET' && m !== 'HEAD' ? b : undefined));
      checkAnswer(r, m, `${m} ${path}${q}`);
    }),
    300,
  );
  assert.equal((await request(node.url, 'GET', '/healthz')).status, 200);
  const get = await request(node.url, 'POST', '/v1/groups/kv/queries/get', { token: TOKEN, body: JSON.stringify({ key: 'acked' }) });
  assert.equal(get.status, 200);
  assert.equal(get.json.result.value, 'before the fuzz', 'the acknowledged write survived');
});

test('fuzz: membership routes (on a fake node) answer JSON with a documented status', async () => {
  await fuzz(
    'membership routes',
    fc.asyncProperty(fc.constantFrom('POST', 'DELETE', 'GET'), memberPaths, headers, body, async (m, path, h, b) => {
      const r = await request(fake.url, m, path, withBody({ ...h, authorization: `Bearer ${TOKEN}` }, m !== 'GET' ? b : undefined));
      checkAnswer(r, m, `${m} ${path}`);
    }),
    200,
  );
});

test('fuzz: watch handshakes open or are refused with a documented status', async () => {
  await fuzz(
    'watch handshakes',
    fc.asyncProperty(segment, query, headers, async (group, q, h) => {
      const outcome = await new Promise<number>((resolve, reject) => {
        let ws: WebSocket;
        try {
          ws = new WebSocket(`ws://127.0.0.1:${node.port}/v1/groups/${group}/watch${q}`, { headers: h as Record<string, string> });
        } catch {
          resolve(0); // the client refused to send it (malformed URL or header)
          return;
        }
        ws.on('open', () => {
          ws.terminate();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => {
          res.resume();
          ws.terminate();
          resolve(res.statusCode ?? 0);
        });
        ws.on('error', (e) => (/Invalid|invalid/.test(e.message) ? resolve(0) : reject(e)));
      });
      assert.ok(outcome === 0 || outcome === 101 || DOCUMENTED.has(outcome), `watch ${group}${q}: ${outcome}`);
    }),
    150,
  );
  assert.equal((await request(node.url, 'GET', '/healthz')).status, 200);
});
