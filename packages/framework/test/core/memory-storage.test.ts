// MemoryStorage: the Storage contract (ranges, compaction, snapshots, truncating appends) and
// the founding bootstrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RaftError } from '../../src/core/errors.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import { EntryType, type Entry } from '../../src/core/types.js';

const ent = (index: number, term: number, data = 'x'): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) });
const ents = (from: number, terms: number[]): Entry[] => terms.map((t, i) => ent(from + i, t));
const isCode = (code: string) => (e: unknown) => e instanceof RaftError && e.code === code;

function filled(n: number): MemoryStorage {
  const s = new MemoryStorage();
  s.append(
    ents(
      1,
      Array.from({ length: n }, (_, i) => 1 + Math.floor(i / 3)),
    ),
  );
  return s;
}

test('an empty storage: first index 1, last index 0, term(0) = 0', () => {
  const s = new MemoryStorage();
  assert.equal(s.firstIndex(), 1);
  assert.equal(s.lastIndex(), 0);
  assert.equal(s.term(0), 0);
  assert.throws(() => s.term(1), isCode('unavailable'));
  assert.deepEqual(s.initialState().hardState, { term: 0, vote: 0, commit: 0 });
});

test('a founding member starts from a snapshot holding the configuration; a joiner from nothing', () => {
  const cs = { ...emptyConfState(), voters: [1, 2, 3], learners: [4] };
  const s = MemoryStorage.bootstrap(cs);
  const snap = s.snapshot().metadata;
  assert.ok(snap.index >= 1, 'the founding configuration must be in a snapshot a joiner can receive');
  assert.deepEqual(snap.confState.voters, [1, 2, 3]);
  assert.deepEqual(snap.confState.learners, [4]);
  assert.equal(s.firstIndex(), snap.index + 1);
  assert.equal(s.lastIndex(), snap.index);
  assert.equal(s.term(snap.index), snap.term);
  const hs = s.initialState().hardState;
  assert.ok(hs.commit >= snap.index && hs.term >= snap.term);
  // The returned configuration is a copy.
  cs.voters.push(9);
  assert.deepEqual(s.initialState().confState.voters, [1, 2, 3]);
  const joiner = MemoryStorage.bootstrap(emptyConfState());
  assert.equal(joiner.lastIndex(), 0);
  assert.equal(joiner.snapshot().metadata.index, 0);
  assert.throws(() => MemoryStorage.bootstrap({ ...emptyConfState(), learners: [1] }), isCode('config_invalid'));
  assert.throws(() => MemoryStorage.bootstrap({ ...emptyConfState(), voters: [1], votersOutgoing: [1, 2] }), isCode('config_invalid'));
});

test('entries(lo, hi, maxSize): a half-open range, size-limited but at least one entry', () => {
  const s = filled(6);
  assert.deepEqual(
    s.entries(2, 5, Infinity).map((e) => e.index),
    [2, 3, 4],
  );
  assert.deepEqual(
    s.entries(2, 5, 34).map((e) => e.index),
    [2, 3],
    'entries weigh 17 bytes each',
  );
  assert.deepEqual(
    s.entries(2, 5, 0).map((e) => e.index),
    [2],
  );
  assert.throws(() => s.entries(0, 2, Infinity), isCode('compacted'));
  assert.throws(() => s.entries(5, 8, Infinity), isCode('unavailable'));
});

test('append truncates a conflicting tail and may extend the log', () => {
  const s = filled(5);
  s.append(ents(4, [9, 9, 9]));
  assert.equal(s.lastIndex(), 6);
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((i) => s.term(i)),
    [1, 1, 1, 9, 9, 9],
  );
  s.append(ents(2, [7]));
  assert.equal(s.lastIndex(), 2, 'everything after an overwritten entry goes');
  assert.throws(() => s.append(ents(5, [7])), /missing log entry/);
});

test('compaction drops a prefix; appends of compacted entries are skipped', () => {
  const s = filled(6);
  s.createSnapshot(4, emptyConfState(), new Uint8Array([1]));
  s.compact(4);
  assert.equal(s.firstIndex(), 5);
  assert.equal(s.term(4), 2, 'the compaction point keeps its term');
  assert.throws(() => s.term(3), isCode('compacted'));
  assert.throws(() => s.entries(4, 6, Infinity), isCode('compacted'));
  assert.deepEqual(
    s.entries(5, 7, Infinity).map((e) => e.index),
    [5, 6],
  );
  s.compact(2); // older than the current point: nothing happens
  assert.equal(s.firstIndex(), 5);
  s.append(ents(3, [2, 2, 2, 3])); // 3 and 4 are compacted (skipped); 5 and 6 are rewritten
  assert.equal(s.lastIndex(), 6);
  assert.equal(s.term(6), 3);
  assert.throws(() => s.compact(9), /beyond last index/);
});

test('long steady compaction keeps working across the internal reclaim', () => {
  const s = new MemoryStorage();
  for (let i = 1; i <= 5000; i++) {
    s.append([ent(i, 1)]);
    if (i % 7 === 0) s.compact(i - 3);
  }
  assert.equal(s.lastIndex(), 5000);
  assert.equal(s.firstIndex(), 4996, 'the last compaction (at 4998) dropped up to 4995');
  assert.equal(s.term(4995), 1);
  for (let i = s.firstIndex(); i <= 5000; i++) assert.equal(s.entries(i, i + 1, Infinity)[0]!.index, i);
});

test('snapshots: created at an index in the log, only newer ones accepted', () => {
  const s = filled(6);
  const cs = { ...emptyConfState(), voters: [1, 2] };
  const snap = s.createSnapshot(3, cs, new Uint8Array([42]));
  assert.deepEqual(snap.metadata, { index: 3, term: 1, confState: cs });
  assert.equal(s.snapshot(), snap);
  assert.throws(() => s.createSnapshot(3, cs, new Uint8Array()), isCode('snapshot_out_of_date'));
  assert.throws(() => s.createSnapshot(9, cs, new Uint8Array()), /beyond last index/);
  // A snapshot from the leader replaces the whole log.
  const other = new MemoryStorage();
  assert.throws(() => other.applySnapshot({ metadata: { index: 0, term: 0, confState: cs }, data: new Uint8Array() }), isCode('snapshot_out_of_date'));
  other.append(ents(1, [1, 1]));
  other.applySnapshot({ metadata: { index: 10, term: 5, confState: cs }, data: new Uint8Array([1]) });
  assert.equal(other.firstIndex(), 11);
  assert.equal(other.lastIndex(), 10);
  assert.equal(other.term(10), 5);
  assert.deepEqual(other.initialState().confState.voters, [1, 2]);
});

test('hard state is stored as a copy', () => {
  const s = new MemoryStorage();
  const hs = { term: 3, vote: 2, commit: 0 };
  s.setHardState(hs);
  hs.term = 9;
  assert.deepEqual(s.initialState().hardState, { term: 3, vote: 2, commit: 0 });
});
