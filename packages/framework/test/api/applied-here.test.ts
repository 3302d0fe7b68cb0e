// The read-your-writes hold of a forwarding node: it waits for this node's apply notification
// (NodeService.whenApplied) rather than polling the applied index on a timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { untilAppliedHere, APPLIED_INDEX_HEADER } from '../../src/api/applied-here.js';
import type { NodeService } from '../../src/api/node-service.js';

function service(applied: { index: number }, calls: { applied: number; when: { index: number; timeoutMs: number }[] }, release: Promise<boolean>): NodeService {
  return {
    appliedIndex: () => {
      calls.applied++;
      return applied.index;
    },
    whenApplied: (_group: string, index: number, timeoutMs: number) => {
      calls.when.push({ index, timeoutMs });
      return release;
    },
  } as unknown as NodeService;
}

test('a forwarded answer is held until the apply notification for its index, without polling', async () => {
  const applied = { index: 5 };
  const calls = { applied: 0, when: [] as { index: number; timeoutMs: number }[] };
  let notify!: (v: boolean) => void;
  const s = service(applied, calls, new Promise<boolean>((r) => (notify = r)));
  let done = false;
  const hold = untilAppliedHere(s, 200, { [APPLIED_INDEX_HEADER]: '9' }, '/v1/groups/kv/commands/put').then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(done, false, 'held while index 9 is not applied here');
  assert.deepEqual(calls.when, [{ index: 9, timeoutMs: 1_000 }]);
  assert.ok(calls.applied <= 1, `the applied index was read ${calls.applied} times (polled)`);
  applied.index = 9;
  notify(true);
  await hold;
  assert.equal(done, true);
});

test('no hold for an index already applied, a non-200 answer, a query, or a bad header', async () => {
  const calls = { applied: 0, when: [] as { index: number; timeoutMs: number }[] };
  const s = service({ index: 9 }, calls, new Promise<boolean>(() => undefined));
  await untilAppliedHere(s, 200, { [APPLIED_INDEX_HEADER]: '9' }, '/v1/groups/kv/commands/put');
  await untilAppliedHere(s, 503, { [APPLIED_INDEX_HEADER]: '12' }, '/v1/groups/kv/commands/put');
  await untilAppliedHere(s, 200, { [APPLIED_INDEX_HEADER]: '12' }, '/v1/groups/kv/queries/get');
  await untilAppliedHere(s, 200, { [APPLIED_INDEX_HEADER]: '12x' }, '/v1/groups/kv/commands/put');
  assert.deepEqual(calls.when, []);
});
