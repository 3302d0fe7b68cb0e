import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError } from '../../src/storage/errors.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import { conformance, ents } from './conformance.js';

conformance('MemoryLogStore', async () => {
  const store = new MemoryLogStore();
  return { store: () => store, cleanup: async () => undefined };
});

test('MemoryLogStore: injected failures reject writes', async () => {
  const s = new MemoryLogStore();
  await s.open();
  await s.write([{ group: 'g', entries: ents(1, 1, 1) }]);
  s.failWrites();
  await assert.rejects(s.write([{ group: 'g', entries: ents(2, 2, 1) }]), (e: unknown) => e instanceof StorageError && e.code === 'storage_failed');
  assert.equal(s.stats().transactions, 1);
});

test('MemoryLogStore: recovered entries are copies', async () => {
  const s = new MemoryLogStore();
  await s.open();
  await s.write([{ group: 'g', entries: ents(1, 1, 1, 'x') }]);
  await s.close();
  const [g] = await s.open();
  g!.entries[0]!.data.fill(0);
  await s.close();
  const [again] = await s.open();
  assert.equal(new TextDecoder().decode(again!.entries[0]!.data), 'x:1:1');
});
