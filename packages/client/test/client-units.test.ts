// Pure parts of the client: options, endpoints, backoff, session lanes, router, errors, types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../src/backoff.js';
import { normalizeEndpoint } from '../src/endpoints.js';
import { LeaderRouter } from '../src/leader-router.js';
import { SessionPool } from '../src/session-pool.js';
import { isCommandFailure, RaftClient, RaftClientError, type OperationResponse, type WatchEntry } from '../src/index.js';
import type { KvApi } from './kv-api.js';

test('endpoints: URLs and host:port forms, normalised; bad ones say what is expected', () => {
  assert.equal(normalizeEndpoint('127.0.0.1:7001'), 'http://127.0.0.1:7001');
  assert.equal(normalizeEndpoint('http://127.0.0.1:7001/'), 'http://127.0.0.1:7001');
  assert.equal(normalizeEndpoint('https://kv.example.com'), 'https://kv.example.com');
  assert.equal(normalizeEndpoint('[::1]:7001'), 'http://[::1]:7001');
  assert.equal(normalizeEndpoint('localhost:7001'), 'http://localhost:7001');
  assert.throws(() => normalizeEndpoint('ftp://x:1'), /http or https/);
  assert.throws(() => normalizeEndpoint(''), /non-empty/);
  assert.throws(() => normalizeEndpoint('http://a:1/?x=1'), /query/);
});

test('options are checked in the constructor', () => {
  assert.throws(() => new RaftClient({ endpoints: [] }), /non-empty array/);
  assert.throws(() => new RaftClient({ endpoints: ['a:1'], deadlineMs: 0 }), /deadlineMs must be a positive/);
  assert.throws(() => new RaftClient({ endpoints: ['a:1'], backoff: { initialMs: 100, maxMs: 10 } }), /at least backoff.initialMs/);
  assert.throws(() => new RaftClient({ endpoints: ['a:1'], clientId: 'x'.repeat(121) }), /clientId/);
  assert.throws(() => new RaftClient({ endpoints: ['a:1'], token: '' }), /token/);
  const c = new RaftClient({ endpoints: ['a:1', 'http://a:1', 'b:2'], clientId: 'me' });
  assert.deepEqual(c.endpoints, ['http://a:1', 'http://b:2']);
  assert.equal(c.clientId, 'me');
  assert.match(new RaftClient({ endpoints: ['a:1'] }).clientId, /^rk-[0-9a-f]{24}$/);
  assert.notEqual(new RaftClient({ endpoints: ['a:1'] }).clientId, new RaftClient({ endpoints: ['a:1'] }).clientId);
  assert.equal(c.group('kv'), c.group('kv'));
  assert.throws(() => c.group(''), /group name/);
});

test('backoff doubles up to the cap, with jitter in [base/2, base]', () => {
  const lo = new Backoff(10, 100, () => 0);
  const hi = new Backoff(10, 100, () => 1);
  assert.deepEqual(
    Array.from({ length: 6 }, () => lo.next()),
    [5, 10, 20, 40, 50, 50],
  );
  assert.deepEqual(
    Array.from({ length: 6 }, () => hi.next()),
    [10, 20, 40, 80, 100, 100],
  );
  hi.reset();
  assert.equal(hi.next(), 10);
});

test('session lanes: one id while sequential, extra lanes only while concurrent, sequences increase per lane', () => {
  let now = 1_000;
  const pool = new SessionPool('c', () => now);
  const a = pool.acquire();
  assert.equal(a.clientId, 'c');
  const s1 = a.nextSequence();
  assert.equal(s1, 1_000_001);
  pool.release(a);
  const again = pool.acquire();
  assert.equal(again.clientId, 'c');
  assert.equal(again.nextSequence(), s1 + 1);
  now = 5_000;
  const b = pool.acquire();
  const c = pool.acquire();
  assert.deepEqual([b.clientId, c.clientId], ['c~1', 'c~2']);
  assert.equal(b.nextSequence(), 5_000_001);
  pool.release(c);
  pool.release(again);
  pool.release(b);
  assert.equal(pool.acquire().clientId, 'c', 'the lowest lane is reused first');
  assert.equal(pool.size, 3);
});

test('router: leader cache, failover past down nodes, forgetting a dead leader', () => {
  let now = 0;
  const r = new LeaderRouter(['http://a', 'http://b', 'http://c'], 1_000, () => now);
  assert.equal(r.leaderTarget('kv'), 'http://a');
  r.learnLeader('kv', 'http://c');
  assert.equal(r.leaderTarget('kv'), 'http://c');
  assert.equal(r.anyTarget(), 'http://a');
  r.failed('http://c', true);
  assert.equal(r.leaderOf('kv'), undefined);
  assert.ok(r.isDown('http://c'));
  r.failed('http://a', true);
  assert.equal(r.anyTarget(), 'http://b', 'skips c, which is down');
  r.failed('http://b', false);
  assert.equal(r.anyTarget(), 'http://b', 'the only node not known to be down');
  r.failed('http://b', true);
  assert.equal(r.anyTarget(), 'http://c', 'all down: plain rotation');
  now = 2_000;
  assert.equal(r.isDown('http://c'), false);
});

test('RaftClientError carries code, status, details; isCommandFailure spots failed entries', () => {
  const e = new RaftClientError('compacted', 'gone', { status: 410, details: { firstIndex: 7 } });
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'RaftClientError');
  assert.equal(e.firstIndex, 7);
  assert.equal(e.field, undefined);
  assert.equal(isCommandFailure({ error: { code: 'conflict', message: 'x' } }), true);
  assert.equal(isCommandFailure({ revision: 3 }), false);
  assert.equal(isCommandFailure(null), false);
});

test('typed proxies are not thenable and keep their methods', () => {
  const kv = new RaftClient({ endpoints: ['a:1'] }).typed<KvApi>('kv');
  assert.equal((kv.commands as unknown as { then?: unknown }).then, undefined);
  assert.equal(typeof kv.commands.put, 'function');
  assert.equal(kv.queries.get, kv.queries.get);
  assert.equal(kv.name, 'kv');
});

/** Compile-time checks only (never called): the build fails if the typings drift. */
export function typingsCompile(client: RaftClient): void {
  const kv = client.group<KvApi>('kv');
  const put: Promise<OperationResponse<{ revision: number }>> = kv.command('put', { key: 'a', value: 'b' });
  const get: Promise<OperationResponse<{ value: string | null; revision: number }>> = kv.query('get', { key: 'a' }, { consistency: 'local' });
  // @ts-expect-error unknown command
  void kv.command('nope', {});
  // @ts-expect-error wrong argument type
  void kv.command('put', { key: 1, value: 'b' });
  // @ts-expect-error missing argument
  void kv.command('put', { key: 'a' });
  // @ts-expect-error a query is not a command
  void kv.command('get', { key: 'a' });
  // @ts-expect-error bad consistency
  void kv.query('get', { key: 'a' }, { consistency: 'eventual' });
  const typed = client.typed<KvApi>('kv');
  const cas: Promise<OperationResponse<{ succeeded: boolean; revision: number }>> = typed.commands.cas({ key: 'a', expected: null, value: 'v' });
  // @ts-expect-error unknown query on the proxy
  void typed.queries.nope;
  const untyped: Promise<OperationResponse<unknown>> = client.group('kv').command('anything', 42);
  const onEntry = (e: WatchEntry<KvApi>) => {
    if (e.command === 'delete') {
      const key: string = e.args.key;
      // @ts-expect-error delete has no value argument
      void e.args.value;
      void key;
    }
  };
  void [put, get, cas, untyped, onEntry];
}
