// The seed sweep: hundreds of random runs of the whole fault menu (crashes, partitions, lossy
// and reordering networks, membership changes, transfers, snapshots, learners, witnesses, lease
// and ReadIndex reads), each checked after every step and ended by the liveness phase.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sweep, type SweepSummary } from '../../src/sim/run.js';

const SEEDS = 600;
const STEPS = 5000;

describe('seed sweep', () => {
  let summary: SweepSummary;

  test(`${SEEDS} seeds x ${STEPS} steps hold every invariant`, () => {
    summary = sweep({ start: 1, count: SEEDS, steps: STEPS });
    assert.deepEqual(
      summary.failures.map((f) => f.violation.message),
      [],
    );
  });

  test('the sweep exercises what it claims to', () => {
    const c = summary.coverage;
    const runs = summary.runs - summary.failures.length;
    // Each feature must show up in a good share of the passing runs.
    for (const [feature, share] of Object.entries({
      crash: 0.7,
      partition: 0.7,
      'snapshot installed': 0.4,
      'snapshot sent past the base': 0.15,
      'conf change applied': 0.3,
      'leadership transfer': 0.3,
      'several leaders': 0.7,
      'write acked': 0.9,
      'read served': 0.9,
      witness: 0.1,
      learner: 0.15,
      'lease reads': 0.3,
    })) {
      assert.ok((c[feature] ?? 0) >= share * runs, `only ${c[feature]} of ${runs} runs had ${feature}`);
    }
  });
});
