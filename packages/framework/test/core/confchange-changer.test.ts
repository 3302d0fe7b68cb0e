// The configuration Changer: the arithmetic of single-server changes, joint configurations and
// their validation, on a ProgressTracker directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changer, restoreConfig } from '../../src/core/confchange/changer.js';
import { ConfChangeTransition, ConfChangeType, type ConfChangeSingle } from '../../src/core/confchange/types.js';
import { ProgressTracker, toConfState } from '../../src/core/tracker/progress-tracker.js';
import { RaftError } from '../../src/core/errors.js';
import { emptyConfState } from '../../src/core/conf-state.js';
import type { ConfState } from '../../src/core/types.js';

const invalid = (e: unknown) => e instanceof RaftError && e.code === 'conf_change_invalid';
const av = (nodeId: number): ConfChangeSingle => ({ type: ConfChangeType.AddVoter, nodeId });
const al = (nodeId: number): ConfChangeSingle => ({ type: ConfChangeType.AddLearner, nodeId });
const aw = (nodeId: number): ConfChangeSingle => ({ type: ConfChangeType.AddWitness, nodeId });
const rm = (nodeId: number): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });

function tracker(cs: Partial<ConfState>, lastIndex = 10): ProgressTracker {
  const t = new ProgressTracker(8, 0);
  const r = restoreConfig(t, { ...emptyConfState(), ...cs }, lastIndex);
  t.config = r.config;
  t.progress = r.progress;
  return t;
}

/** Applies a change and swaps it in, as the core does. */
function apply(t: ProgressTracker, transition: ConfChangeTransition, ...changes: ConfChangeSingle[]): ConfState {
  const r = new Changer(t, 10).apply({ transition, changes });
  t.config = r.config;
  t.progress = r.progress;
  return toConfState(t.config);
}

test('single-server changes: add, promote, demote, remove', () => {
  const t = tracker({ voters: [1, 2, 3] });
  let cs = apply(t, ConfChangeTransition.Auto, al(4));
  assert.deepEqual([cs.voters, cs.learners], [[1, 2, 3], [4]]);
  assert.equal(t.progress.get(4)!.isLearner, true);
  assert.equal(t.progress.get(4)!.recentActive, true, 'a new member does not trip check-quorum');
  assert.equal(t.progress.get(4)!.next, 10);
  cs = apply(t, ConfChangeTransition.Auto, av(4));
  assert.deepEqual([cs.voters, cs.learners], [[1, 2, 3, 4], []]);
  assert.equal(t.progress.get(4)!.isLearner, false);
  cs = apply(t, ConfChangeTransition.Auto, al(1));
  assert.deepEqual([cs.voters, cs.learners], [[2, 3, 4], [1]]);
  cs = apply(t, ConfChangeTransition.Auto, rm(1));
  assert.deepEqual([cs.voters, cs.learners], [[2, 3, 4], []]);
  assert.equal(t.progress.has(1), false);
  cs = apply(t, ConfChangeTransition.Auto, rm(9));
  assert.deepEqual(cs.voters, [2, 3, 4], 'removing a non-member changes nothing');
});

test('simple(): more than one voter changed at once is refused', () => {
  const t = tracker({ voters: [1, 2, 3] });
  assert.throws(() => new Changer(t, 10).simple([av(4), av(5)]), invalid);
  assert.throws(() => new Changer(t, 10).simple([rm(1), av(4)]), invalid);
  // Learner-only changes may be several.
  const r = new Changer(t, 10).simple([al(4), al(5)]);
  assert.deepEqual(toConfState(r.config).learners, [4, 5]);
});

test('Auto with several changes enters a joint configuration with autoLeave; leaving applies learnersNext', () => {
  const t = tracker({ voters: [1, 2, 3] });
  let cs = apply(t, ConfChangeTransition.Auto, av(4), al(3));
  assert.deepEqual(cs.voters, [1, 2, 4]);
  assert.deepEqual(cs.votersOutgoing, [1, 2, 3]);
  assert.deepEqual(cs.learnersNext, [3], 'a demoted outgoing voter is a learner only after leaving');
  assert.deepEqual(cs.learners, []);
  assert.equal(cs.autoLeave, true);
  cs = apply(t, ConfChangeTransition.Auto);
  assert.deepEqual(cs.voters, [1, 2, 4]);
  assert.deepEqual(cs.votersOutgoing, []);
  assert.deepEqual(cs.learners, [3]);
  assert.deepEqual(cs.learnersNext, []);
  assert.equal(cs.autoLeave, false);
  assert.equal(t.progress.get(3)!.isLearner, true);
});

test('leaving a joint configuration drops members only the outgoing half had', () => {
  const t = tracker({ voters: [1, 2, 3] });
  apply(t, ConfChangeTransition.JointExplicit, rm(3), aw(5));
  assert.equal(t.progress.has(3), true, 'still an outgoing voter');
  assert.deepEqual(toConfState(t.config).witnesses, [5]);
  const cs = apply(t, ConfChangeTransition.Auto);
  assert.deepEqual(cs.voters, [1, 2, 5]);
  assert.equal(t.progress.has(3), false);
  assert.deepEqual(cs.witnesses, [5]);
  assert.equal(t.progress.get(5)!.isWitness, true);
});

test('invalid changes: all voters removed, joint from joint / from empty, leave when not joint, witness rules, bad ids', () => {
  const t = tracker({ voters: [1, 2, 3], learners: [4], witnesses: [3] });
  const c = () => new Changer(t, 10);
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [rm(1), rm(2), rm(3)] }), invalid);
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [] }), invalid, 'leave when not joint');
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [av(3)] }), invalid, 'witness to data voter');
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [al(3)] }), invalid, 'witness to learner');
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [aw(4)] }), invalid, 'learner to witness');
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [av(0)] }), invalid);
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [{ type: 'bogus' as ConfChangeType, nodeId: 5 }] }), invalid);
  apply(t, ConfChangeTransition.JointExplicit, av(5));
  assert.throws(() => c().apply({ transition: ConfChangeTransition.JointExplicit, changes: [av(6)] }), invalid, 'joint from joint');
  assert.throws(() => c().apply({ transition: ConfChangeTransition.Auto, changes: [av(6)] }), invalid, 'simple change while joint');
  const empty = tracker({});
  assert.throws(() => new Changer(empty, 0).enterJoint(true, [av(1)]), invalid);
});

test('a refused or unapplied change leaves the live tracker untouched', () => {
  const t = tracker({ voters: [1, 2, 3], learners: [4] });
  const before = new Map([...t.progress].map(([id, pr]) => [id, { ...pr }]));
  const cfgBefore = toConfState(t.config);
  // Computed but not swapped in (as proposeConfChange validates).
  new Changer(t, 10).apply({ transition: ConfChangeTransition.Auto, changes: [av(4)] });
  new Changer(t, 10).apply({ transition: ConfChangeTransition.Auto, changes: [al(1), av(9)] });
  assert.throws(() => new Changer(t, 10).apply({ transition: ConfChangeTransition.Auto, changes: [al(2), rm(1), rm(3)] }), invalid);
  assert.deepEqual(toConfState(t.config), cfgBefore);
  for (const [id, pr] of t.progress) {
    const b = before.get(id)!;
    assert.equal(pr.isLearner, b.isLearner, `learner flag of ${id}`);
    assert.equal(pr.isWitness, b.isWitness);
    assert.equal(pr.next, b.next);
  }
  assert.deepEqual([...t.progress.keys()].sort(), [1, 2, 3, 4]);
});

test('restoreConfig refuses a node that is both voter and learner', () => {
  const t = new ProgressTracker(8, 0);
  assert.throws(() => restoreConfig(t, { ...emptyConfState(), voters: [1, 2], learners: [2] }, 1), invalid);
});
