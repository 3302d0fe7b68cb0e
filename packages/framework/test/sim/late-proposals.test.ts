// The late-and-re-sent-proposals scenario: commands forwarded, duplicated, delayed past stalls
// and re-sent whenever their outcome is unknown must still apply at most once, because every
// node runs the request table. The control (nodes that apply every copy) must find duplicates,
// or the scenario would prove nothing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EntryType, type Entry } from '../../src/core/types.js';
import { RequestLedger } from '../../src/sim/request-ledger.js';
import { RequestApp } from '../../src/sim/request-app.js';
import { decodeCommand, encodeCommand } from '../../src/sim/request-payload.js';
import { lateProposalsSimulation } from '../../src/sim/late-proposals.js';
import { healAndCheckLiveness } from '../../src/sim/liveness.js';
import { runSeed, sweep } from '../../src/sim/run.js';
import { scenarioFor } from '../../src/sim/scenario.js';
import type { SimNode } from '../../src/sim/sim-node.js';
import { SimViolation } from '../../src/sim/violation.js';
import { hashTrace } from './trace-hash.js';

const PROFILE = 'late-proposals';
const SEEDS = 100;
const CONTROL_SEEDS = 100;
const STEPS = 3000;

/** One control run: nodes apply every copy. The violation it ends in, if any. */
function control(seed: number): SimViolation | undefined {
  const { sim } = lateProposalsSimulation(scenarioFor({ seed, steps: STEPS, profile: PROFILE }), { dedupe: false });
  try {
    while (sim.step < STEPS) sim.stepOnce();
    healAndCheckLiveness(sim);
    return undefined;
  } catch (e) {
    if (e instanceof SimViolation) return e;
    throw e;
  }
}

describe('late and re-sent proposals', () => {
  test(`${SEEDS} seeds: no command applies twice, and the runs do make copies`, () => {
    const summary = sweep({ start: 1, count: SEEDS, steps: STEPS, profile: PROFILE });
    assert.deepEqual(
      summary.failures.map((f) => f.violation.message),
      [],
    );
    const c = summary.coverage;
    for (const [feature, share] of Object.entries({
      'command re-sent': 0.75,
      'command proposed twice': 0.6,
      'copy refused as duplicate': 0.4,
      'leader stalled': 0.5,
      crash: 0.7,
      'snapshot installed': 0.4,
    })) {
      assert.ok((c[feature] ?? 0) >= share * SEEDS, `only ${c[feature]} of ${SEEDS} runs had ${feature}`);
    }
  });

  test(`control: without the table's dedupe, duplicates apply in many of ${CONTROL_SEEDS} seeds`, () => {
    let hits = 0;
    for (let seed = 1; seed <= CONTROL_SEEDS; seed++) {
      const v = control(seed);
      if (!v) continue;
      // Copies are the only thing the control changes: any other failure is a bug of its own.
      assert.equal(v.invariant, 'at-most-once', v.message);
      assert.match(v.detail, /^command c\d+ \(request n\d+\.\d+:\d+:\d+\) was applied at index \d+ and again at index \d+/);
      assert.ok(v.replay.includes(`--seed ${seed}`) && v.replay.includes(`--profile ${PROFILE}`), v.replay);
      hits++;
    }
    // About two thirds hit when this was written; a quarter leaves room for tuning.
    assert.ok(hits >= CONTROL_SEEDS / 4, `only ${hits} of ${CONTROL_SEEDS} control runs applied a command twice`);
  });

  test('one seed replays to the same trace', () => {
    const run = () => {
      const lines: string[] = [];
      const r = runSeed({ seed: 3, steps: STEPS, profile: PROFILE, trace: (l) => lines.push(l) });
      return { hash: hashTrace(lines), stats: r.stats, lines };
    };
    const a = run();
    const b = run();
    assert.equal(a.hash, b.hash);
    assert.deepEqual(a.stats, b.stats);
    assert.ok(
      a.lines.some((l) => / send \d+ n\d+->n\d+/.test(l)),
      'the trace shows the front end',
    );
    assert.ok((a.stats.resends ?? 0) > 0 && (a.stats.proposals ?? 0) > 0);
  });

  test('the CLI runs the profile', () => {
    const cli = fileURLToPath(new URL('../../src/sim/cli.js', import.meta.url));
    const r = spawnSync(process.execPath, [cli, '--seed', '4', '--steps', '800', '--profile', PROFILE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /profile late-proposals/);
    assert.match(r.stdout, /duplicatesRefused \d+/);
  });
});

describe('the request app', () => {
  const node = (id: number) => ({ id, incarnation: 0 }) as unknown as SimNode;
  const entry = (index: number, command: number, seq: number, timestamp: number): Entry => ({
    index,
    term: 1,
    type: EntryType.Normal,
    data: encodeCommand({ command, timestamp, key: { origin: 'n2.0', seq, floor: 1 } }),
  });

  test('the payload round-trips', () => {
    const p = { command: 7, timestamp: 1234.5, key: { origin: 'n3.12', seq: 9, floor: 4 } };
    assert.deepEqual(decodeCommand(encodeCommand(p)), p);
    assert.equal(decodeCommand(new Uint8Array([0x57, 0, 0, 0, 1, 0, 0, 0, 1])), undefined);
  });

  const newLedger = () => {
    const ledger = new RequestLedger((inv, detail) => {
      throw new Error(`${inv}: ${detail}`);
    });
    ledger.issued(1, { origin: 'n2.0', seq: 1, floor: 1 });
    return ledger;
  };

  test('a node restored from a snapshot still refuses a copy applied before it', () => {
    const ledger = newLedger();
    const verdicts: string[] = [];
    const make = (id: number) => new RequestApp(node(id), { ttl: 1000, dedupe: true }, ledger, (_n, _e, _p, v) => verdicts.push(v.kind));
    const a = make(1);
    a.restore(undefined, 0);
    a.apply(entry(1, 1, 1, 10));
    const b = make(2);
    b.restore(a.snapshot(), 1);
    b.apply(entry(2, 1, 1, 20)); // a re-sent copy, proposed later
    assert.deepEqual(verdicts, ['new', 'duplicate']);
    // Without the table the same copy applies again, and the ledger says so.
    const c = new RequestApp(node(3), { ttl: 1000, dedupe: false }, newLedger(), () => {});
    c.restore(undefined, 0);
    c.apply(entry(1, 1, 1, 10));
    assert.throws(() => c.apply(entry(2, 1, 1, 20)), /at-most-once: command c1 .* applied at index 1 and again at index 2/);
  });
});
