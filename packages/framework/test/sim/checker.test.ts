// The checker on hand-made histories: each invariant fires on a minimal violation of it (so a
// quiet sweep means a correct core, not a blind checker), and the simulator is deterministic
// and free of hidden inputs.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MemoryStorage } from '../../src/core/memory-storage.js';
import { EntryType, Role, type ConfState, type Entry } from '../../src/core/types.js';
import { Checker } from '../../src/sim/checker.js';
import { hashTrace } from './trace-hash.js';
import { runSeed } from '../../src/sim/run.js';
import { INITIAL_APP_STATE, foldData, foldTerm } from '../../src/sim/sim-app.js';
import type { SimNode } from '../../src/sim/sim-node.js';
import { SimViolation, type Invariant } from '../../src/sim/violation.js';

const conf: ConfState = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [3], autoLeave: false };

/** A stand-in for a SimNode whose "core" is a plain log. */
function fakeNode(id: number, opts: { witness?: boolean } = {}) {
  const log: number[] = [0]; // log[i] = term of entry i
  const view = { role: Role.Follower as Role, term: 1, committed: 0 };
  const node = {
    id,
    witness: opts.witness ?? false,
    app: { ...INITIAL_APP_STATE },
    storage: MemoryStorage.bootstrap(conf),
    raft: {
      get role() {
        return view.role;
      },
      get term() {
        return view.term;
      },
      confState: () => conf,
      inspectLog: () => ({
        firstIndex: 1,
        lastIndex: log.length - 1,
        committed: view.committed,
        applied: 0,
        term: (i: number) => log[i] ?? 0,
      }),
    },
  };
  return { node: node as unknown as SimNode, log, view };
}

const entry = (index: number, term: number, data = `w${index}`): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) });

function expectViolation(invariant: Invariant, fn: () => void): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SimViolation, `expected a SimViolation, got ${String(e)}`);
    assert.equal(e.invariant, invariant, e.message);
    assert.match(e.message, /replay: npm run sim -- --seed 7/);
    return true;
  });
}

const newChecker = () => new Checker({ seed: 7, step: 42, replay: 'npm run sim -- --seed 7' }, { index: 0, term: 0 });

function apply(checker: Checker, n: SimNode, e: Entry): void {
  n.app.index = e.index;
  n.app.termChecksum = foldTerm(n.app.termChecksum, e);
  if (!n.witness) n.app.dataChecksum = foldData(n.app.dataChecksum, e);
  checker.applied(n, e);
}

describe('checker', () => {
  test('two leaders in one term', () => {
    const c = newChecker();
    const a = fakeNode(1);
    const b = fakeNode(2);
    a.view.role = b.view.role = Role.Leader;
    a.view.term = b.view.term = 3;
    c.afterStep([a.node]);
    expectViolation('election-safety', () => c.afterStep([a.node, b.node]));
  });

  test('leaders of different terms over time are fine; a witness or learner leading is not', () => {
    const c = newChecker();
    const a = fakeNode(1);
    a.view.role = Role.Leader;
    c.afterStep([a.node]);
    a.view.term = 2;
    c.afterStep([a.node]);
    const w = fakeNode(3, { witness: true });
    w.view.role = Role.Leader;
    w.view.term = 5;
    expectViolation('role-safety', () => c.afterStep([w.node]));
  });

  test('log matching: same index and term on different prefixes, or with different data', () => {
    const c = newChecker();
    c.entriesPersisted(fakeNode(1).node, [entry(1, 1), entry(2, 3)]);
    expectViolation('log-matching', () => c.entriesPersisted(fakeNode(2).node, [entry(1, 2), entry(2, 3)]));
    const d = newChecker();
    d.entriesPersisted(fakeNode(1).node, [entry(1, 1, 'x')]);
    expectViolation('log-matching', () => d.entriesPersisted(fakeNode(2).node, [entry(1, 1, 'y')]));
  });

  test('leader completeness: a new leader missing a committed entry', () => {
    const c = newChecker();
    const a = fakeNode(1);
    a.log.push(1, 1);
    a.view.committed = 2;
    c.afterStep([a.node]);
    const b = fakeNode(2);
    b.log.push(1, 2); // index 2 holds a term-2 entry: not the committed one
    b.view.role = Role.Leader;
    b.view.term = 2;
    expectViolation('leader-completeness', () => c.afterStep([a.node, b.node]));
  });

  test('state machine safety: two nodes commit or apply different entries at one index', () => {
    const c = newChecker();
    const a = fakeNode(1);
    a.log.push(1);
    a.view.committed = 1;
    c.afterStep([a.node]);
    const b = fakeNode(2);
    b.log.push(2);
    b.view.committed = 1;
    expectViolation('state-machine-safety', () => c.afterStep([b.node]));

    const d = newChecker();
    apply(d, fakeNode(1).node, entry(1, 1, 'x'));
    expectViolation('state-machine-safety', () => apply(d, fakeNode(2).node, entry(1, 1, 'y')));
  });

  test('a stale read, and an acknowledged write missing from the final leader', () => {
    const c = newChecker();
    const a = fakeNode(1);
    apply(c, a.node, entry(1, 1));
    apply(c, a.node, entry(2, 1));
    c.writeAcked(a.node, 2, 1, 99);
    c.readServed(a.node, 1, 2, c.maxAckedIndex);
    expectViolation('read-linearizability', () => c.readServed(a.node, 2, 1, c.maxAckedIndex));
    const leader = fakeNode(2);
    leader.log.push(1, 2);
    expectViolation('durability', () => c.finalCheck(leader.node));
  });

  test('a witness must never hold user data', () => {
    const c = newChecker();
    const w = fakeNode(3, { witness: true });
    c.entriesPersisted(w.node, [{ index: 1, term: 1, type: EntryType.Metadata, data: new Uint8Array(0) }]);
    expectViolation('role-safety', () => c.entriesPersisted(w.node, [entry(2, 1)]));
  });
});

describe('determinism and hygiene', () => {
  test('one seed replays to the same trace', () => {
    const run = () => {
      const lines: string[] = [];
      const r = runSeed({ seed: 11, steps: 1500, trace: (l) => lines.push(l) });
      return { hash: hashTrace(lines), lines: lines.length, stats: r.stats };
    };
    const a = run();
    const b = run();
    assert.equal(a.hash, b.hash);
    assert.deepEqual(a.stats, b.stats);
    assert.ok(a.lines > 100);
  });

  test('traces print enums as words', () => {
    const lines: string[] = [];
    runSeed({ seed: 3, steps: 400, trace: (l) => lines.push(l) });
    const text = lines.join('\n');
    assert.match(text, /deliver (Append|Heartbeat|PreVote|Vote) \d+->\d+/);
    assert.match(text, /is (leader|follower|candidate|pre-candidate) term/);
  });

  test('the simulator reads no clock, no Math.random, and no Node built-ins outside cli.ts', () => {
    const dir = new URL('../../../src/sim/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 5);
    for (const f of files) {
      const src = readFileSync(new URL(f, dir), 'utf8').replace(/\/\/.*$/gm, '');
      assert.ok(!/Math\.random/.test(src), `${f} uses Math.random`);
      if (f === 'cli.ts') continue; // the CLI may time a sweep and use Node
      assert.ok(!/Date\.now|new Date\b|performance\.now/.test(src), `${f} reads a clock`);
      assert.ok(!/from ['"]node:/.test(src), `${f} imports a Node built-in`);
    }
  });
});
