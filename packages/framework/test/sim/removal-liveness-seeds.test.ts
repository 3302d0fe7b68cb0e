// The two long late-proposals runs that found the removal liveness bug (see
// test/core/removal-liveness.test.ts): a node applied its own removal while the others did not
// know it committed, and only it and a witness held the longest logs, so no election could win.
// Pinned as they were found; the core unit tests build the situation directly.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSeed } from '../../src/sim/run.js';
import { SimViolation } from '../../src/sim/violation.js';

for (const seed of [11, 760]) {
  test(`late-proposals seed ${seed}, 20,000 steps: a leader is elected after the final heal`, () => {
    try {
      runSeed({ seed, steps: 20_000, nodes: 3, profile: 'late-proposals' });
    } catch (e) {
      if (e instanceof SimViolation) assert.fail(e.message);
      throw e;
    }
  });
}
