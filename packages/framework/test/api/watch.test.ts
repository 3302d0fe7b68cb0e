import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { FakeService } from './fake-service.js';
import { startApi, TOKEN, waitFor, type ApiServer } from './helpers.js';

interface WsClient {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
}

function openWs(base: string, path: string, token: string | null = TOKEN): Promise<WsClient> {
  const ws = new WebSocket(base.replace('http:', 'ws:') + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const messages: any[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The HTTP status of a refused upgrade. */
function wsRefused(base: string, path: string, token: string | null = TOKEN): Promise<{ status: number; body: any }> {
  const ws = new WebSocket(base.replace('http:', 'ws:') + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('upgrade was accepted')));
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    ws.once('error', () => {});
  });
}

interface NdjsonStream {
  res: IncomingMessage;
  lines: any[];
  ended: Promise<void>;
  req: http.ClientRequest;
}

function openNdjson(base: string, path: string, token: string | null = TOKEN): Promise<NdjsonStream> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path, agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const lines: any[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      });
      const ended = new Promise<void>((r) => {
        res.on('end', () => {
          if (buf.trim() !== '') lines.push(JSON.parse(buf));
          r();
        });
        res.on('close', () => r());
      });
      resolve({ res, lines, ended, req });
    });
    req.on('error', reject);
  });
}

function put(svc: FakeService, n: number, prefix = 'k'): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => svc.command('kv', 'put', { key: `${prefix}${i}`, value: String(i) }).then((o) => o.index)));
}

describe('watch', () => {
  let s: ApiServer;
  let svc: FakeService;

  before(async () => {
    svc = new FakeService(1, ['kv']);
    s = await startApi(svc, { token: TOKEN });
    await put(svc, 4, 'init');
  });
  after(() => s.close());

  test('WebSocket: from an index, then live entries, one JSON message each', async () => {
    const c = await openWs(s.url, '/v1/groups/kv/watch?from=1');
    await waitFor(() => c.messages.length === 4, 2000, '4 entries');
    assert.deepEqual(c.messages[0], { index: 1, term: 3, command: 'put', args: { key: 'init0', value: '0' }, result: { revision: 1 } });
    assert.deepEqual(
      c.messages.map((m) => m.index),
      [1, 2, 3, 4],
    );
    const [idx] = await put(svc, 1, 'live');
    await waitFor(() => c.messages.length === 5, 2000, 'the live entry');
    assert.equal(c.messages[4].index, idx);
    c.ws.close();
    await c.closed;
    await waitFor(() => svc.watcherCount('kv') === 0, 2000, 'the subscription to be cancelled');
  });

  test('WebSocket: resume from a later index; without from only new entries', async () => {
    const last = svc.lastIndex(svc.groups.get('kv')!);
    const resume = await openWs(s.url, `/v1/groups/kv/watch?from=${last - 1}`);
    const fresh = await openWs(s.url, '/v1/groups/kv/watch');
    await waitFor(() => resume.messages.length === 2, 2000, 'resumed entries');
    const [idx] = await put(svc, 1, 'new');
    await waitFor(() => resume.messages.length === 3 && fresh.messages.length === 1, 2000, 'the new entry');
    assert.deepEqual(
      resume.messages.map((m) => m.index),
      [last - 1, last, idx],
    );
    assert.deepEqual(
      fresh.messages.map((m) => m.index),
      [idx],
    );
    resume.ws.close();
    fresh.ws.close();
  });

  test('NDJSON: a plain GET streams the same entries, chunked', async () => {
    const st = await openNdjson(s.url, '/v1/groups/kv/watch?from=2');
    assert.equal(st.res.statusCode, 200);
    assert.equal(st.res.headers['content-type'], 'application/x-ndjson; charset=utf-8');
    assert.equal(st.res.headers['transfer-encoding'], 'chunked');
    const last = svc.lastIndex(svc.groups.get('kv')!);
    await waitFor(() => st.lines.length === last - 1, 2000, 'caught-up lines');
    assert.deepEqual(st.lines[0], { index: 2, term: 3, command: 'put', args: { key: 'init1', value: '1' }, result: { revision: 2 } });
    const [idx] = await put(svc, 1, 'nd');
    await waitFor(() => st.lines.at(-1)?.index === idx, 2000, 'the live line');
    const fresh = await openNdjson(s.url, '/v1/groups/kv/watch');
    const [idx2] = await put(svc, 1, 'nd2');
    await waitFor(() => fresh.lines.length === 1, 2000, 'new line');
    assert.equal(fresh.lines[0].index, idx2);
    const before = svc.watcherCount('kv');
    st.req.destroy();
    fresh.req.destroy();
    await waitFor(() => svc.watcherCount('kv') === before - 2, 2000, 'cancelled on disconnect');
  });

  test('compacted: 410 with firstIndex over NDJSON, close 4410 with the JSON reason over WebSocket', async () => {
    const other = new FakeService(1);
    const o = await startApi(other, {});
    try {
      await put(other, 5);
      other.compact('kv', 4);
      const st = await openNdjson(o.url, '/v1/groups/kv/watch?from=2');
      await st.ended;
      assert.equal(st.res.statusCode, 410);
      assert.equal(st.lines[0].error, 'compacted');
      assert.equal(st.lines[0].firstIndex, 4);
      assert.equal(typeof st.lines[0].message, 'string');
      const c = await openWs(o.url, '/v1/groups/kv/watch?from=1');
      const closed = await c.closed;
      assert.equal(closed.code, 4410);
      const reason = JSON.parse(closed.reason);
      assert.equal(reason.error, 'compacted');
      assert.equal(reason.firstIndex, 4);
      assert.equal(typeof reason.message, 'string');
      // From firstIndex on is fine.
      const ok = await openWs(o.url, '/v1/groups/kv/watch?from=4');
      await waitFor(() => ok.messages.length === 2, 2000, 'entries 4 and 5');
      ok.ws.close();
    } finally {
      await o.close();
    }
  });

  test('unknown group: 404 over NDJSON, close 4404 over WebSocket', async () => {
    const st = await openNdjson(s.url, '/v1/groups/nope/watch?from=1');
    await st.ended;
    assert.equal(st.res.statusCode, 404);
    assert.equal(st.lines[0].error, 'unknown_group');
    const nf = await openNdjson(s.url, '/v1/groups/nope/watch');
    await nf.ended;
    assert.equal(nf.res.statusCode, 404);
    const c = await openWs(s.url, '/v1/groups/nope/watch?from=1');
    const closed = await c.closed;
    assert.equal(closed.code, 4404);
    assert.equal(JSON.parse(closed.reason).error, 'unknown_group');
  });

  test('bad from and missing token: the upgrade is refused with 400 / 401; NDJSON answers the same', async () => {
    for (const from of ['0', '-1', 'abc', '1.5', '']) {
      const r = await wsRefused(s.url, `/v1/groups/kv/watch?from=${from}`);
      assert.equal(r.status, 400, from);
      assert.equal(r.body.field, 'from');
      const n = await openNdjson(s.url, `/v1/groups/kv/watch?from=${from}`);
      await n.ended;
      assert.equal(n.res.statusCode, 400, from);
    }
    const noToken = await wsRefused(s.url, '/v1/groups/kv/watch?from=1', null);
    assert.equal(noToken.status, 401);
    assert.equal(noToken.body.error, 'unauthorized');
    assert.equal((await wsRefused(s.url, '/v1/groups/kv/watch?from=1', 'wrong')).status, 401);
    const n = await openNdjson(s.url, '/v1/groups/kv/watch?from=1', null);
    await n.ended;
    assert.equal(n.res.statusCode, 401);
    // Upgrades of other paths are left to other layers.
    assert.equal((await wsRefused(s.url, '/v1/status')).status, 404);
  });

  test('the node ending a subscription: WS close 4000+status, NDJSON a last error line', async () => {
    const other = new FakeService(1);
    const o = await startApi(other, {});
    try {
      const c = await openWs(o.url, '/v1/groups/kv/watch?from=1');
      const st = await openNdjson(o.url, '/v1/groups/kv/watch?from=1');
      await waitFor(() => other.watcherCount('kv') === 2, 2000, 'two watchers');
      other.closeWatchers('kv', 'unavailable', 'node stopping');
      const closed = await c.closed;
      assert.equal(closed.code, 4503);
      assert.deepEqual(JSON.parse(closed.reason), { error: 'unavailable', message: 'node stopping' });
      await st.ended;
      assert.deepEqual(st.lines.at(-1), { error: 'unavailable', message: 'node stopping' });
    } finally {
      await o.close();
    }
  });

  test('close() ends WebSocket watchers with 1001 and NDJSON watchers with a last line', async () => {
    const other = new FakeService(1);
    const o = await startApi(other, {});
    const c = await openWs(o.url, '/v1/groups/kv/watch?from=1');
    const st = await openNdjson(o.url, '/v1/groups/kv/watch?from=1');
    await waitFor(() => other.watcherCount('kv') === 2, 2000, 'two watchers');
    await o.api.close();
    assert.equal((await c.closed).code, 1001);
    await st.ended;
    assert.equal(st.lines.at(-1).error, 'unavailable');
    assert.equal(other.watcherCount('kv'), 0);
    await o.close();
  });

  test('heartbeat: pings every interval; a peer that stops answering is dropped', async () => {
    const other = new FakeService(1);
    const o = await startApi(other, { watch: { heartbeatMs: 40 } });
    try {
      const c = await openWs(o.url, '/v1/groups/kv/watch?from=1');
      let pings = 0;
      c.ws.on('ping', () => pings++);
      await waitFor(() => pings >= 3, 2000, 'pings');
      c.ws.pause(); // reads nothing, so answers no ping
      await waitFor(() => other.watcherCount('kv') === 0, 2000, 'the silent peer to be dropped');
      c.ws.resume();
      const closed = await c.closed;
      assert.equal(closed.code, 1006, 'terminated');
      assert.equal(other.watcherCount('kv'), 0);
    } finally {
      await o.close();
    }
  });

  test('a slow WebSocket consumer is closed with 4408 while the producer keeps going', async () => {
    const other = new FakeService(1);
    const o = await startApi(other, { watch: { maxBufferedBytes: 64 * 1024, maxBufferedEntries: 2000, stallMs: 300 } });
    try {
      const slow = await openWs(o.url, '/v1/groups/kv/watch?from=1');
      const fast = await openWs(o.url, '/v1/groups/kv/watch?from=1');
      slow.ws.pause();
      const value = 'x'.repeat(4096);
      const total = 6000; // ~25 MB: more than the socket buffers of loopback can hide
      const started = Date.now();
      for (let i = 0; i < total; i += 10) {
        for (let j = 0; j < 10; j++) await other.command('kv', 'put', { key: `k${i + j}`, value });
        await new Promise((r) => setImmediate(r));
      }
      const producerMs = Date.now() - started;
      assert.equal(other.lastIndex(other.groups.get('kv')!), total, 'the producer applied everything');
      await waitFor(() => other.watcherCount('kv') === 1, 3000, 'the slow subscription to be cancelled');
      await waitFor(() => fast.messages.length === total, 5000, 'the fast watcher to get everything');
      slow.ws.resume();
      const closed = await slow.closed;
      assert.equal(closed.code, 4408);
      assert.equal(JSON.parse(closed.reason).error, 'slow_consumer');
      assert.ok(slow.messages.length < total, `slow got ${slow.messages.length}`);
      // What it got is a gap-free prefix, so it can resume from the last index + 1.
      assert.deepEqual(
        slow.messages.map((m) => m.index),
        Array.from({ length: slow.messages.length }, (_, i) => i + 1),
      );
      assert.ok(producerMs < 5000, `producer took ${producerMs} ms`);
      fast.ws.close();
    } finally {
      await o.close();
    }
  });

  test('a slow NDJSON consumer gets a last slow_consumer line', async () => {
    const other = new FakeService(1);
    const o = await startApi(other, { watch: { maxBufferedBytes: 64 * 1024, stallMs: 300 } });
    try {
      const st = await openNdjson(o.url, '/v1/groups/kv/watch?from=1');
      const fast = await openNdjson(o.url, '/v1/groups/kv/watch?from=1');
      st.res.pause();
      const value = 'y'.repeat(4096);
      for (let i = 0; i < 6000; i += 10) {
        for (let j = 0; j < 10; j++) await other.command('kv', 'put', { key: `k${i + j}`, value });
        await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => other.watcherCount('kv') === 1, 3000, 'the slow subscription to be cancelled');
      await waitFor(() => fast.lines.length === 6000, 5000, 'the fast watcher to get everything');
      fast.req.destroy();
      st.res.resume();
      await st.ended;
      const last = st.lines.at(-1);
      assert.equal(last.error, 'slow_consumer');
      const entries = st.lines.slice(0, -1);
      assert.ok(entries.length < 6000);
      assert.deepEqual(
        entries.map((m) => m.index),
        Array.from({ length: entries.length }, (_, i) => i + 1),
      );
    } finally {
      await o.close();
    }
  });
});
