// Inflights (the per-follower window of Appends in flight) and Progress (probe / replicate /
// snapshot states) in isolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from '../../src/core/tracker/inflights.js';
import { Progress } from '../../src/core/tracker/progress.js';
import { ProgressState } from '../../src/core/types.js';

test('inflights: bounded by count', () => {
  const f = new Inflights(3, 0);
  f.add(1, 10);
  f.add(2, 10);
  assert.equal(f.full(), false);
  f.add(3, 10);
  assert.equal(f.full(), true);
  assert.throws(() => f.add(4, 10), /full/);
  assert.equal(f.count, 3);
  assert.equal(f.bytes, 30);
});

test('inflights: bounded by bytes (full once the budget is reached)', () => {
  const f = new Inflights(100, 50);
  f.add(1, 20);
  assert.equal(f.full(), false);
  f.add(2, 29);
  assert.equal(f.full(), false);
  f.add(3, 1);
  assert.equal(f.full(), true);
  f.freeLE(1);
  assert.equal(f.bytes, 30);
  assert.equal(f.full(), false);
});

test('inflights: freeLE frees every message up to an index, in order, across the ring wrap', () => {
  const f = new Inflights(4, 0);
  let next = 1;
  // Go round the ring several times.
  for (let round = 0; round < 5; round++) {
    while (!f.full()) f.add(next++, 1);
    assert.equal(f.count, 4);
    f.freeLE(next - 3); // frees the two oldest
    assert.equal(f.count, 2);
    assert.equal(f.bytes, 2);
  }
  f.freeLE(0);
  assert.equal(f.count, 2, 'an ack below every message frees nothing');
  f.freeLE(next);
  assert.equal(f.count, 0);
  assert.equal(f.bytes, 0);
  f.add(100, 5);
  f.reset();
  assert.equal(f.count, 0);
  assert.equal(f.full(), false);
});

test('progress: probe sends one message, then pauses until an answer', () => {
  const p = new Progress(5, 8, 0, false, false);
  assert.equal(p.state, ProgressState.Probe);
  assert.equal(p.isPaused(), false);
  p.sentEntries(7, 2, 20);
  assert.equal(p.isPaused(), true);
  assert.equal(p.next, 5, 'probe does not advance next optimistically');
  assert.equal(p.maybeUpdate(6), true);
  assert.equal(p.match, 6);
  assert.equal(p.next, 7);
  assert.equal(p.isPaused(), false);
  assert.equal(p.maybeUpdate(6), false, 'a stale ack');
});

test('progress: replicate advances next optimistically and pauses on a full window', () => {
  const p = new Progress(5, 2, 0, false, false);
  p.match = 4;
  p.becomeReplicate();
  assert.equal(p.next, 5);
  p.sentEntries(6, 2, 10);
  assert.equal(p.next, 7);
  p.sentEntries(8, 2, 10);
  assert.equal(p.isPaused(), true);
  p.maybeUpdate(6);
  p.inflights.freeLE(6);
  assert.equal(p.isPaused(), false);
  p.sentEntries(8, 0, 0);
  assert.equal(p.inflights.count, 1, 'an empty Append takes no slot');
});

test('progress: rejections in probe state use the hint; stale ones are ignored', () => {
  const p = new Progress(11, 8, 0, false, false);
  p.match = 2;
  // A probe at prevIndex 10 rejected with hint 5: next goes to 6.
  assert.equal(p.maybeDecrTo(10, 5), true);
  assert.equal(p.next, 6);
  assert.equal(p.maybeDecrTo(10, 1), false, 'a rejection of an older probe');
  // The hint never takes next below match + 1.
  assert.equal(p.maybeDecrTo(5, 0), true);
  assert.equal(p.next, 3);
});

test('progress: a rejection in replicate state falls back to match + 1 unless stale', () => {
  const p = new Progress(1, 8, 0, false, false);
  p.match = 4;
  p.becomeReplicate();
  p.sentEntries(9, 5, 50);
  assert.equal(p.maybeDecrTo(3, 0), false, 'rejected index below match: stale');
  assert.equal(p.maybeDecrTo(7, 2), true);
  assert.equal(p.next, 5);
});

test('progress: snapshot state pauses; leaving it resumes after the snapshot', () => {
  const p = new Progress(1, 8, 0, false, false);
  p.becomeSnapshot(20);
  assert.equal(p.isPaused(), true);
  assert.equal(p.pendingSnapshot, 20);
  p.becomeProbe();
  assert.equal(p.next, 21, 'probing resumes after the snapshot index');
  assert.equal(p.pendingSnapshot, 0);
});
