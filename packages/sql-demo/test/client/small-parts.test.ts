import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostOf, normalizeNodeUrl } from '../../src/client/node-urls.js';
import { buildQueryString } from '../../src/client/query-string.js';
import { describeNetworkError, networkErrorCode, wasNotSent } from '../../src/client/connection-errors.js';
import { decodeNodes } from '../../src/client/cluster-nodes.js';
import { SqlClientError } from '../../src/client/client-error.js';

test('node URLs: a bare host:port is http, trailing slashes go, query strings are refused', () => {
  assert.equal(normalizeNodeUrl('127.0.0.1:4001'), 'http://127.0.0.1:4001');
  assert.equal(normalizeNodeUrl('http://127.0.0.1:4001/'), 'http://127.0.0.1:4001');
  assert.equal(normalizeNodeUrl('https://db.example:443/prefix/'), 'https://db.example/prefix');
  assert.equal(hostOf('http://127.0.0.1:4001'), '127.0.0.1:4001');
  for (const bad of ['ftp://x', 'http://x/?a=1', 'http://']) {
    assert.throws(
      () => normalizeNodeUrl(bad),
      (e: unknown) => e instanceof SqlClientError && e.code === 'invalid_argument',
      bad,
    );
  }
});

test('query strings: flags as bare keys, values encoded, false and undefined left out', () => {
  assert.equal(buildQueryString({ transaction: true, timings: false, level: 'strong', freshness: undefined, q: 'a b&c' }), '?transaction&level=strong&q=a%20b%26c');
  assert.equal(buildQueryString({}), '');
});

test('connection errors: what fetch throws, and which prove the request was never sent', () => {
  const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  assert.equal(networkErrorCode(refused), 'ECONNREFUSED');
  assert.equal(wasNotSent(refused), true);
  assert.equal(describeNetworkError(refused), 'connection refused');
  const aggregate = new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('x'), { code: 'EHOSTUNREACH' })]) });
  assert.equal(wasNotSent(aggregate), true);
  const reset = new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
  assert.equal(wasNotSent(reset), false);
  assert.equal(describeNetworkError(reset), 'connection reset');
  assert.equal(describeNetworkError(new Error('boom')), 'boom');
});

test('/nodes in both of rqlite shapes', () => {
  const v2 = decodeNodes({
    nodes: [
      { id: '2', addr: 'b:2', voter: false, reachable: false, leader: false, error: 'dial tcp: refused', version: '' },
      { id: '1', api_addr: 'http://a:1', addr: 'a:1', voter: true, reachable: true, leader: true, time: 0.001, version: '8.0' },
    ],
  });
  assert.deepEqual(v2, [
    { id: '1', apiAddr: 'http://a:1', addr: 'a:1', voter: true, reachable: true, leader: true, version: '8.0', time: 0.001 },
    { id: '2', addr: 'b:2', voter: false, reachable: false, leader: false, error: 'dial tcp: refused' },
  ]);
  const legacy = decodeNodes({ '1': { api_addr: 'http://a:1', addr: 'a:1', reachable: true, leader: true } });
  assert.deepEqual(legacy, [{ id: '1', apiAddr: 'http://a:1', addr: 'a:1', voter: true, reachable: true, leader: true }]);
  assert.throws(
    () => decodeNodes([]),
    (e: unknown) => e instanceof SqlClientError && e.code === 'bad_response',
  );
});
