// The MVCC store against etcd's documented behaviour: revisions, versions, ranges and their
// encodings, limits, sorting, reads at a past revision, compaction, the size cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaError } from '../../src/api/meta-error.js';
import { prefixEnd } from '../../src/api/request-builders.js';
import { ALL, b, StoreFixture } from './store-fixture.js';

function fixture(t: { after: (f: () => void) => void }): StoreFixture {
  const f = new StoreFixture();
  t.after(() => f.close());
  return f;
}

const metaCode = (code: string) => (e: unknown) => e instanceof MetaError && e.code === code;

test('revisions start at 1; each put is one revision; versions count puts since the key was created', (t) => {
  const f = fixture(t);
  assert.equal(f.revision, 1, 'an empty store is at revision 1, as etcd');
  assert.equal(f.put('a', '1').revision, 2);
  assert.equal(f.put('a', '2').revision, 3);
  const [kv] = f.range('a').kvs;
  assert.deepEqual([kv!.createRevision, kv!.modRevision, kv!.version, kv!.value.toString()], [2, 3, 2, '2']);
  // Delete, then recreate: a new life of the key (create revision moves, version restarts).
  assert.equal(f.del('a').revision, 4);
  assert.equal(f.range('a').count, 0);
  f.put('a', '3');
  const [again] = f.range('a').kvs;
  assert.deepEqual([again!.createRevision, again!.modRevision, again!.version], [5, 5, 1]);
});

test('a delete that deletes nothing does not move the revision; prev_kv answers what a put or delete replaced', (t) => {
  const f = fixture(t);
  f.put('k', 'v1');
  const r = f.del('nothing-here');
  assert.deepEqual([r.deleted, r.revision, f.revision], [0, 2, 2]);
  const p = f.put('k', 'v2', { prevKv: true });
  assert.equal(p.prevKv?.value.toString(), 'v1');
  assert.equal(f.put('new', 'x', { prevKv: true }).prevKv, undefined);
  const d = f.del('k', { prevKv: true });
  assert.deepEqual(
    d.prevKvs.map((kv) => kv.value.toString()),
    ['v2'],
  );
});

test('range encodings: one key, [key, end), a prefix, from a key ("\\0" end), all keys ("\\0", "\\0"), an empty span', (t) => {
  const f = fixture(t);
  for (const k of ['a', 'ab', 'abc', 'b', 'c']) f.put(k, k);
  assert.deepEqual(f.keys('ab'), ['ab']);
  assert.deepEqual(f.keys('a', { rangeEnd: b('b') }), ['a', 'ab', 'abc']);
  assert.deepEqual(f.keys('ab', { rangeEnd: prefixEnd('ab') }), ['ab', 'abc']);
  assert.deepEqual(f.keys('b', { rangeEnd: ALL }), ['b', 'c']);
  assert.deepEqual(f.keys(ALL, { rangeEnd: ALL }), ['a', 'ab', 'abc', 'b', 'c']);
  assert.deepEqual(f.keys('c', { rangeEnd: b('a') }), [], 'an end before the start holds nothing');
  // Byte order, not string order: 0xff sorts after every ASCII key.
  f.put(Buffer.from([0xff, 0x01]), 'hi');
  assert.deepEqual(
    f.range(ALL, { rangeEnd: ALL }).kvs.map((kv) => kv.key.toString('hex')),
    ['61', '6162', '616263', '62', '63', 'ff01'],
  );
});

test('limit answers `more`; count is every key of the range (filters and limit aside); keys_only and count_only', (t) => {
  const f = fixture(t);
  for (const k of ['k1', 'k2', 'k3', 'k4']) f.put(k, `value-of-${k}`);
  f.put('k1', 'again'); // k1: mod 6
  const lim = f.range('k', { rangeEnd: prefixEnd('k'), limit: 2 });
  assert.deepEqual([lim.kvs.length, lim.more, lim.count], [2, true, 4]);
  const exact = f.range('k', { rangeEnd: prefixEnd('k'), limit: 4 });
  assert.deepEqual([exact.kvs.length, exact.more], [4, false]);
  const filtered = f.range('k', { rangeEnd: prefixEnd('k'), minModRevision: 4 });
  assert.deepEqual(
    filtered.kvs.map((kv) => kv.key.toString()),
    ['k1', 'k3', 'k4'],
  );
  assert.equal(filtered.count, 4, "etcd's count is the range's, before the revision filters");
  const created = f.range('k', { rangeEnd: prefixEnd('k'), maxCreateRevision: 3 });
  assert.deepEqual(
    created.kvs.map((kv) => kv.key.toString()),
    ['k1', 'k2'],
  );
  const keysOnly = f.range('k', { rangeEnd: prefixEnd('k'), keysOnly: true });
  assert.ok(keysOnly.kvs.every((kv) => kv.value.length === 0 && kv.version > 0));
  const countOnly = f.range('k', { rangeEnd: prefixEnd('k'), countOnly: true });
  assert.deepEqual([countOnly.kvs.length, countOnly.count, countOnly.more], [0, 4, false]);
});

test('sorting follows etcd: key ascending by default, a target with order NONE sorts ascending by it, descend, and limit after the sort', (t) => {
  const f = fixture(t);
  f.put('a', 'z');
  f.put('b', 'y');
  f.put('c', 'x');
  f.put('a', 'z2'); // a: version 2, mod 5
  const all = { rangeEnd: ALL };
  assert.deepEqual(f.keys('a', all), ['a', 'b', 'c']);
  assert.deepEqual(f.keys('a', { ...all, sortOrder: 'descend' }), ['c', 'b', 'a']);
  assert.deepEqual(f.keys('a', { ...all, sortTarget: 'mod' }), ['b', 'c', 'a'], 'order NONE with target MOD: ascending by mod');
  assert.deepEqual(f.keys('a', { ...all, sortTarget: 'value', sortOrder: 'ascend' }), ['c', 'b', 'a']);
  assert.deepEqual(f.keys('a', { ...all, sortTarget: 'version', sortOrder: 'descend' }), ['a', 'b', 'c'], 'ties by key');
  assert.deepEqual(f.keys('a', { ...all, sortTarget: 'create', sortOrder: 'descend', limit: 2 }), ['c', 'b']);
  const r = f.range('a', { ...all, sortTarget: 'value', sortOrder: 'descend', limit: 1, keysOnly: true });
  assert.deepEqual([r.kvs[0]!.key.toString(), r.more], ['a', true], 'keys_only still sorts by the stored value');
});

test('reads at a past revision see the keyspace as it was; future_rev above the current one', (t) => {
  const f = fixture(t);
  f.put('a', '1'); // 2
  f.put('b', '1'); // 3
  f.put('a', '2'); // 4
  f.del('b'); // 5
  f.put('b', '2'); // 6
  const at = (rev: number) => f.range(ALL, { rangeEnd: ALL, revision: rev }).kvs.map((kv) => `${kv.key}=${kv.value}@${kv.createRevision}/${kv.modRevision}/${kv.version}`);
  assert.deepEqual(at(1), []);
  assert.deepEqual(at(3), ['a=1@2/2/1', 'b=1@3/3/1']);
  assert.deepEqual(at(4), ['a=2@2/4/2', 'b=1@3/3/1']);
  assert.deepEqual(at(5), ['a=2@2/4/2']);
  assert.deepEqual(at(6), ['a=2@2/4/2', 'b=2@6/6/1']);
  assert.equal(f.range('a', { revision: 3 }).revision, 6, 'the header revision is the current one, as etcd');
  assert.equal(f.range(ALL, { rangeEnd: ALL, revision: 5, countOnly: true }).count, 1);
  assert.throws(() => f.range('a', { revision: 7 }), metaCode('future_rev'));
});

test('compaction keeps each key as it was at the compact revision; below it reads answer compacted', (t) => {
  const f = fixture(t);
  f.put('a', '1'); // 2
  f.put('a', '2'); // 3
  f.put('b', '1'); // 4
  f.del('b'); // 5
  f.put('c', '1'); // 6
  f.put('a', '3'); // 7
  const before = f.store.counters.sizeBytes;
  f.compact(5);
  assert.ok(f.store.counters.sizeBytes < before, 'the replicated size shrinks');
  assert.equal(f.store.counters.compactRevision, 5);
  assert.throws(() => f.range('a', { revision: 4 }), metaCode('compacted'));
  assert.deepEqual(
    f.range(ALL, { rangeEnd: ALL, revision: 5 }).kvs.map((kv) => `${kv.key}=${kv.value}`),
    ['a=2'],
    'at the compact revision itself the keyspace is whole',
  );
  assert.deepEqual(
    f.range(ALL, { rangeEnd: ALL, revision: 6 }).kvs.map((kv) => `${kv.key}=${kv.value}`),
    ['a=2', 'c=1'],
  );
  assert.equal(f.range('a').kvs[0]!.version, 3, 'versions survive compaction');
  // etcd's errors: a revision at or below the last compaction, or past the current one.
  assert.throws(() => f.compact(5), metaCode('compacted'));
  assert.throws(() => f.compact(3), metaCode('compacted'));
  assert.throws(() => f.compact(8), metaCode('future_rev'));
  assert.equal(f.store.counters.compactRevision, 5, 'a refused compaction changes nothing');
  f.compact(7);
  assert.deepEqual(f.keys(ALL, { rangeEnd: ALL, revision: 7 }), ['a', 'c']);
});

test('put errors: empty key, ignore_value/ignore_lease on a missing key, with a value or lease, an unknown lease', (t) => {
  const f = fixture(t);
  assert.throws(() => f.put('', 'v'), metaCode('empty_key'));
  assert.throws(() => f.put('k', '', { ignoreValue: true }), metaCode('key_not_found'));
  assert.throws(() => f.put('k', 'v', { ignoreValue: true }), metaCode('value_provided'));
  assert.throws(() => f.put('k', '', { ignoreLease: true, lease: 5n }), metaCode('lease_provided'));
  assert.throws(() => f.put('k', 'v', { lease: 42n }), metaCode('lease_not_found'));
  assert.equal(f.revision, 1, 'nothing refused changed the store');
  f.entry((e) => e.leaseInsert(42n, 10, 1000));
  f.put('k', 'v', { lease: 42n });
  f.put('k', '', { ignoreValue: true, ignoreLease: true });
  const [kv] = f.range('k').kvs;
  assert.deepEqual([kv!.value.toString(), kv!.lease, kv!.version], ['v', 42n, 2]);
});

test('the size cap answers what fits and `more` (never nothing); the limit still counts', (t) => {
  const f = fixture(t);
  for (let i = 0; i < 10; i++) f.put(`k${i}`, 'x'.repeat(1000));
  const r = f.range('k', { rangeEnd: prefixEnd('k') }, 3500);
  assert.equal(r.kvs.length, 3);
  assert.equal(r.more, true);
  assert.equal(r.count, 10);
  const tiny = f.range('k', { rangeEnd: prefixEnd('k') }, 10);
  assert.equal(tiny.kvs.length, 1, 'one kv even when it alone is over the cap');
});

test('restart: the store reopens at the index it recorded, with its revision and data', (t) => {
  const f = fixture(t);
  f.put('a', '1');
  f.put('b', '2');
  f.compact(2);
  assert.equal(f.reopen(), 3);
  assert.deepEqual([f.revision, f.store.counters.compactRevision], [3, 2]);
  assert.deepEqual(f.keys(ALL, { rangeEnd: ALL }), ['a', 'b']);
});
