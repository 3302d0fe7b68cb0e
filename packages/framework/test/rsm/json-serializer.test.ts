import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serializeJson } from '../../src/rsm/json-serializer.js';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('the sliced serialiser writes exactly what JSON.stringify writes', async () => {
  const samples: unknown[] = [
    null,
    1,
    'x',
    [],
    {},
    { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1, 2], e: new Date(0), f: Number.NaN, 'q"uote': 'é😀' },
    { deep: { deeper: { deepest: { bottom: { x: [1, { y: 2 }] } } } } },
    Object.assign(Object.create(null) as object, { n: 1 }),
    { withToJSON: { toJSON: () => 'custom' } },
    [[[[[[1]]]]], { a: [{ b: [{ c: 1 }] }] }],
    // Runs of small elements (stringified together) next to big ones (walked).
    { items: [...Array.from({ length: 1100 }, (_, i) => [`k${i}`, i % 7 === 0 ? undefined : 'v', i]), Array.from({ length: 40 }, (_, i) => i), { x: 1 }, new Date(1), null] },
    [Array.from({ length: 20 }, (_, i) => ({ i })), 1, 2, { big: Array.from({ length: 30 }, (_, i) => [i]) }],
    // Runs of compact records (members small containers), broken by ones that are not.
    Array.from({ length: 1200 }, (_, i) =>
      i % 301 === 0
        ? { index: i, args: { nested: { too: 'deep' } } }
        : { index: i, command: 'put', args: i % 5 ? { key: `k${i}`, value: undefined } : [1, 'x', () => 1], result: i % 3 ? { revision: i } : null, skip: undefined },
    ),
  ];
  for (const s of samples) assert.equal(dec(await serializeJson(s, 3)), JSON.stringify(s));
});

test('a large value is serialised in slices with the event loop running between them', async () => {
  const big: Record<string, { v: string; n: number }> = {};
  for (let i = 0; i < 50_000; i++) big[`key-${i}`] = { v: 'x'.repeat(20), n: i };
  const state = { data: big, list: Array.from({ length: 10_000 }, (_, i) => i) };
  let turns = 0;
  const timer = setInterval(() => turns++, 0);
  const bytes = await serializeJson(state, 64 * 1024);
  clearInterval(timer);
  assert.equal(dec(bytes), JSON.stringify(state));
  assert.ok(turns > 0, 'timers ran while serialising');
});
