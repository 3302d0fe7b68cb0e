// Defect 1 of issue 16: a body nested thousands of levels deep overflowed class-transformer's
// stack and answered 500 (and logged an internal error). It must be a 400 before any conversion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../src/common/logger.js';
import { jsonDepthOverflow, MAX_JSON_DEPTH } from '../../src/api/json-depth.js';
import { FakeService } from '../api/fake-service.js';
import { request, startApi } from '../api/helpers.js';
import { startSingleNode, type SingleNode } from '../support/single-node.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

let node: SingleNode;
before(async () => {
  node = await startSingleNode();
});
after(async () => {
  await node.stop();
});

test('a command or query nested thousands of levels deep answers 400 naming the body', async () => {
  for (const [path, body] of [
    ['/v1/groups/kv/commands/put', `{"key":"k","value":${nested(4000)}}`],
    ['/v1/groups/kv/queries/get', `{"key":${nestedObject(2000)}}`],
    ['/v1/groups/kv/commands/put', nested(400_000)],
  ] as const) {
    const r = await request(node.url, 'POST', path, { body });
    assert.equal(r.status, 400, `${path}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error, 'bad_request');
    assert.equal(r.json.field, 'body');
    assert.match(r.json.message, /nested deeper than/);
  }
  // The node still serves.
  const ok = await request(node.url, 'POST', '/v1/groups/kv/commands/put', { body: JSON.stringify({ key: 'k', value: 'v' }) });
  assert.equal(ok.status, 200, ok.text);
});

test('a deep body never reaches the service or the log', async () => {
  const logged: unknown[] = [];
  const record = (...a: unknown[]) => logged.push(a);
  const logger: Logger = { debug: record, info: record, warn: record, error: record, child: () => logger };
  const service = new FakeService(1);
  const api = await startApi(service, { logger });
  try {
    const r = await request(api.url, 'POST', '/v1/groups/kv/commands/put', { body: nestedObject(5000) });
    assert.equal(r.status, 400);
    assert.equal(service.calls.length, 0);
    assert.deepEqual(logged, []);
  } finally {
    await api.close();
  }
});

test('jsonDepthOverflow counts brackets outside strings only', () => {
  assert.equal(jsonDepthOverflow(nested(MAX_JSON_DEPTH)), -1);
  assert.equal(jsonDepthOverflow(nested(MAX_JSON_DEPTH + 1)), MAX_JSON_DEPTH);
  assert.equal(jsonDepthOverflow(JSON.stringify({ s: '['.repeat(10_000) })), -1);
  assert.equal(jsonDepthOverflow(JSON.stringify({ s: '\\"' + '['.repeat(10_000) })), -1);
});
