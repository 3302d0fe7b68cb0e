// RaftLog (stable storage + unstable tail) and UnstableLog in isolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog } from '../../src/core/raft-log.js';
import { UnstableLog } from '../../src/core/log-unstable.js';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { RaftError } from '../../src/core/errors.js';
import { EntryType, type Entry, type Snapshot } from '../../src/core/types.js';
import { emptyConfState } from '../../src/core/conf-state.js';

const ent = (index: number, term: number, data = ''): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) });
const ents = (from: number, terms: number[]): Entry[] => terms.map((t, i) => ent(from + i, t));

/** A log whose storage holds entries 1..stable.length (terms given) and nothing unstable. */
function logWith(stable: number[], maxApplying = Number.MAX_SAFE_INTEGER): RaftLog {
  const s = new MemoryStorage();
  s.append(ents(1, stable));
  return new RaftLog(s, maxApplying);
}

const terms = (log: RaftLog): number[] => {
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i));
  return out;
};

const isCode = (code: string) => (e: unknown) => e instanceof RaftError && e.code === code;

test('term(): storage, unstable tail, past the end (0) and compacted (throws)', () => {
  const s = new MemoryStorage();
  s.append(ents(1, [1, 1, 2, 2, 3]));
  s.createSnapshot(2, emptyConfState(), new Uint8Array(0));
  s.compact(2);
  const log = new RaftLog(s, Infinity);
  log.append(ents(6, [3, 4]));
  assert.equal(log.firstIndex(), 3);
  assert.equal(log.lastIndex(), 7);
  assert.equal(log.term(2), 1, 'the compaction point keeps its term');
  assert.equal(log.term(3), 2);
  assert.equal(log.term(7), 4);
  assert.equal(log.term(8), 0);
  assert.throws(() => log.term(1), isCode('compacted'));
  assert.equal(log.termOrUndefined(1), undefined);
  assert.equal(log.termOrUndefined(8), undefined);
  assert.equal(log.lastTerm(), 4);
});

test('maybeAppend: matching prefix appends, duplicates are no-ops, conflicts truncate', () => {
  const log = logWith([1, 1, 2]);
  // Mismatching previous entry.
  assert.equal(log.maybeAppend(3, 1, 0, ents(4, [3])), undefined);
  assert.equal(log.maybeAppend(5, 2, 0, []), undefined, 'previous entry beyond the end');
  // Matching: appends.
  assert.equal(log.maybeAppend(3, 2, 0, ents(4, [3, 3])), 5);
  assert.deepEqual(terms(log), [1, 1, 2, 3, 3]);
  // A duplicate of what is there changes nothing (and does not truncate the tail).
  assert.equal(log.maybeAppend(2, 1, 0, ents(3, [2])), 3);
  assert.deepEqual(terms(log), [1, 1, 2, 3, 3]);
  // A conflict truncates from the first differing entry.
  assert.equal(log.maybeAppend(2, 1, 0, ents(3, [4])), 3);
  assert.deepEqual(terms(log), [1, 1, 4]);
});

test('maybeAppend commits up to min(leader commit, last new entry)', () => {
  const log = logWith([1, 1, 1, 1]);
  log.maybeAppend(1, 1, 10, ents(2, [1]));
  assert.equal(log.committed, 2, 'not beyond what this message vouches for');
  log.maybeAppend(4, 1, 3, []);
  assert.equal(log.committed, 3);
  log.maybeAppend(4, 1, 1, []);
  assert.equal(log.committed, 3, 'commit never moves back');
});

test('maybeAppend refuses to overwrite a committed entry', () => {
  const log = logWith([1, 1, 1]);
  log.commitTo(3);
  assert.throws(() => log.maybeAppend(1, 1, 3, ents(2, [2])), /conflicts with committed/);
});

test('findConflict: first index that is missing or has another term', () => {
  const log = logWith([1, 2, 3]);
  assert.equal(log.findConflict([]), 0);
  assert.equal(log.findConflict(ents(1, [1, 2, 3])), 0);
  assert.equal(log.findConflict(ents(2, [2, 3, 4])), 4);
  assert.equal(log.findConflict(ents(2, [5])), 2);
});

test('findConflictByTerm: the last index <= index whose term is <= term', () => {
  const log = logWith([1, 1, 2, 2, 4, 4, 5]);
  assert.deepEqual(log.findConflictByTerm(7, 5), { index: 7, term: 5 });
  assert.deepEqual(log.findConflictByTerm(7, 4), { index: 6, term: 4 });
  assert.deepEqual(log.findConflictByTerm(7, 3), { index: 4, term: 2 });
  assert.deepEqual(log.findConflictByTerm(7, 1), { index: 2, term: 1 });
  assert.deepEqual(log.findConflictByTerm(7, 0), { index: 0, term: 0 });
  assert.deepEqual(log.findConflictByTerm(3, 9), { index: 3, term: 2 });
});

test('findConflictByTerm stops at the compaction point with term 0 (unknown)', () => {
  const s = new MemoryStorage();
  s.append(ents(1, [3, 3, 3, 3]));
  s.createSnapshot(2, emptyConfState(), new Uint8Array(0));
  s.compact(2);
  const log = new RaftLog(s, Infinity);
  assert.deepEqual(log.findConflictByTerm(4, 1), { index: 1, term: 0 });
});

test('isUpToDate: higher last term wins, then the longer log', () => {
  const log = logWith([1, 2, 2]);
  assert.equal(log.isUpToDate(3, 2), true);
  assert.equal(log.isUpToDate(9, 2), true);
  assert.equal(log.isUpToDate(2, 2), false);
  assert.equal(log.isUpToDate(1, 3), true);
  assert.equal(log.isUpToDate(9, 1), false);
});

test('maybeCommit: only an entry of the given (current) term commits', () => {
  const log = logWith([1, 1, 2]);
  assert.equal(log.maybeCommit(2, 2), false, 'index 2 has term 1');
  assert.equal(log.committed, 0);
  assert.equal(log.maybeCommit(3, 2), true);
  assert.equal(log.committed, 3);
  assert.equal(log.maybeCommit(2, 1), false, 'never backwards');
  assert.throws(() => log.commitTo(4), /beyond last index/);
});

test('slice across storage and the unstable tail, within a byte budget, at least one entry', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1, 'aaaa'), ent(2, 1, 'bbbb')]);
  const log = new RaftLog(s, Infinity);
  log.append([ent(3, 2, 'cccc'), ent(4, 2, 'dddd')]);
  assert.deepEqual(
    log.slice(1, 5, Infinity).map((e) => e.index),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    log.slice(2, 4, Infinity).map((e) => e.index),
    [2, 3],
  );
  // Each entry weighs 4 + 16 bytes.
  assert.deepEqual(
    log.slice(1, 5, 40).map((e) => e.index),
    [1, 2],
  );
  assert.deepEqual(
    log.slice(2, 5, 45).map((e) => e.index),
    [2, 3],
  );
  assert.deepEqual(
    log.slice(1, 5, 1).map((e) => e.index),
    [1],
    'always at least one',
  );
  assert.deepEqual(log.slice(3, 3, Infinity), []);
  assert.throws(() => log.slice(1, 6, Infinity), /beyond last index/);
  assert.deepEqual(log.entriesFrom(5, Infinity), []);
});

test('committed entries are handed out once, in order, within maxApplyingSize', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1, 'aaaa'), ent(2, 1, 'bbbb'), ent(3, 1, 'cccc')]);
  const log = new RaftLog(s, 40);
  assert.equal(log.hasNextCommittedEnts(), false);
  log.commitTo(3);
  const first = log.nextCommittedEnts();
  assert.deepEqual(
    first.map((e) => e.index),
    [1, 2],
  );
  log.acceptApplying(2);
  assert.deepEqual(
    log.nextCommittedEnts().map((e) => e.index),
    [3],
  );
  log.acceptApplying(3);
  assert.equal(log.hasNextCommittedEnts(), false);
  log.appliedTo(3);
  assert.equal(log.applied, 3);
  assert.throws(() => log.appliedTo(4), /beyond committed/);
});

test('restore from a snapshot: the log starts after it and everything up to it is committed', () => {
  const log = logWith([1, 1]);
  const snap: Snapshot = { metadata: { index: 10, term: 4, confState: emptyConfState() }, data: new Uint8Array(0) };
  log.restore(snap);
  assert.equal(log.committed, 10);
  assert.equal(log.firstIndex(), 11);
  assert.equal(log.lastIndex(), 10);
  assert.equal(log.term(10), 4);
  assert.equal(log.lastTerm(), 4);
  assert.equal(log.hasNextCommittedEnts(), false, 'the snapshot itself is applied, not entries');
  assert.equal(log.snapshot(), snap);
});

// ------------------------------------------------------------------ UnstableLog

test('unstable: append at the end, replace from before the offset, truncate in the middle', () => {
  const u = new UnstableLog(5);
  u.truncateAndAppend(ents(5, [1, 1, 1]));
  assert.equal(u.maybeLastIndex(), 7);
  u.truncateAndAppend(ents(8, [2]));
  assert.deepEqual(
    u.entries.map((e) => [e.index, e.term]),
    [
      [5, 1],
      [6, 1],
      [7, 1],
      [8, 2],
    ],
  );
  u.truncateAndAppend(ents(6, [3]));
  assert.deepEqual(
    u.entries.map((e) => [e.index, e.term]),
    [
      [5, 1],
      [6, 3],
    ],
  );
  u.truncateAndAppend(ents(4, [4, 4]));
  assert.equal(u.offset, 4);
  assert.deepEqual(
    u.entries.map((e) => [e.index, e.term]),
    [
      [4, 4],
      [5, 4],
    ],
  );
});

test('unstable: entries handed out are not handed out again, unless overwritten', () => {
  const u = new UnstableLog(1);
  u.truncateAndAppend(ents(1, [1, 1, 1]));
  assert.equal(u.nextEntries().length, 3);
  u.acceptInProgress();
  assert.equal(u.nextEntries().length, 0);
  u.truncateAndAppend(ents(4, [1]));
  assert.deepEqual(
    u.nextEntries().map((e) => e.index),
    [4],
  );
  u.acceptInProgress();
  // A conflict at 2 makes 2.. go out again.
  u.truncateAndAppend(ents(2, [2]));
  assert.deepEqual(
    u.nextEntries().map((e) => [e.index, e.term]),
    [[2, 2]],
  );
});

test('unstable: stableTo forgets persisted entries, but not ones overwritten meanwhile', () => {
  const u = new UnstableLog(1);
  u.truncateAndAppend(ents(1, [1, 1, 1]));
  u.acceptInProgress();
  u.stableTo(2, 1);
  assert.equal(u.offset, 3);
  assert.deepEqual(
    u.entries.map((e) => e.index),
    [3],
  );
  // Entry 3 was rewritten in term 2 before the write of (3, term 1) completed.
  u.truncateAndAppend(ents(3, [2]));
  u.stableTo(3, 1);
  assert.deepEqual(
    u.entries.map((e) => [e.index, e.term]),
    [[3, 2]],
    'the newer entry is still unstable',
  );
  u.stableTo(3, 2);
  assert.deepEqual(u.entries, []);
});

test('unstable: a snapshot is handed out once and forgotten once persisted', () => {
  const u = new UnstableLog(1);
  const snap: Snapshot = { metadata: { index: 7, term: 3, confState: emptyConfState() }, data: new Uint8Array(0) };
  u.restore(snap);
  assert.equal(u.maybeFirstIndex(), 8);
  assert.equal(u.maybeLastIndex(), 7);
  assert.equal(u.maybeTerm(7), 3);
  assert.equal(u.nextSnapshot(), snap);
  u.acceptInProgress();
  assert.equal(u.nextSnapshot(), undefined);
  u.stableSnapTo(6);
  assert.equal(u.snapshot, snap, 'another index does not clear it');
  u.stableSnapTo(7);
  assert.equal(u.snapshot, undefined);
});
