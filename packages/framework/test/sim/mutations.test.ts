// The checker must catch a broken core. Each test-only mutation disables one safety rule; a
// bounded search over Figure-8-shaped runs has to end in a safety violation, found by the
// generic invariant checker, and the same seeds must pass with the rule in place.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSeed, sweep } from '../../src/sim/run.js';
import { MUTATIONS } from '../../src/sim/scenario.js';
import type { Invariant } from '../../src/sim/violation.js';

const MAX_SEEDS = 200;
const STEPS = 3000;
const SAFETY: Invariant[] = ['election-safety', 'log-matching', 'leader-completeness', 'state-machine-safety', 'read-linearizability', 'durability'];

describe('mutation checks', () => {
  for (const mutation of MUTATIONS) {
    test(`the checker catches the '${mutation}' mutation`, () => {
      const found = sweep({ start: 1, count: MAX_SEEDS, steps: STEPS, profile: 'figure8', mutation, stopAtFirst: true });
      assert.equal(found.failures.length, 1, `no violation in ${MAX_SEEDS} seeds with ${mutation}`);
      const { seed, violation } = found.failures[0]!;
      assert.ok(SAFETY.includes(violation.invariant), `expected a safety violation, got ${violation.message}`);
      assert.ok(violation.replay.includes(`--seed ${seed}`) && violation.replay.includes(`--mutation ${mutation}`), violation.replay);

      // Replaying gives the very same violation.
      assert.throws(
        () => runSeed({ seed, steps: STEPS, profile: 'figure8', mutation }),
        (e: Error) => e.message === violation.message,
      );

      // Without the mutation, every seed searched passes.
      const clean = sweep({ start: 1, count: seed, steps: STEPS, profile: 'figure8' });
      assert.deepEqual(
        clean.failures.map((f) => f.violation.message),
        [],
      );
    });
  }
});
