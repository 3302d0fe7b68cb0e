// Unit tests of the register linearizability checker: small histories each way, unknown
// outcomes, cas, the state cap, and random small histories cross-checked by brute force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRegister, explain, type CheckResult, type RegisterOp, type RegisterValue } from './linearizability.js';

const INF = Infinity;
let nextId = 0;
const w = (process: number, value: string, call: number, ret: number): RegisterOp => ({ id: nextId++, process, type: 'write', value, call, ret });
const r = (process: number, output: RegisterValue, call: number, ret: number): RegisterOp => ({ id: nextId++, process, type: 'read', output, call, ret });
const cas = (process: number, expected: RegisterValue, value: string, output: boolean | undefined, call: number, ret: number): RegisterOp => ({
  id: nextId++,
  process,
  type: 'cas',
  expected,
  new: value,
  output,
  call,
  ret,
});

function ok(h: RegisterOp[], msg?: string): CheckResult {
  const res = checkRegister(h);
  assert.equal(res.ok, true, `${msg ?? 'expected linearizable'}\n${explain(res, h)}`);
  return res;
}
function bad(h: RegisterOp[], msg?: string): CheckResult {
  const res = checkRegister(h);
  assert.equal(res.ok, false, `${msg ?? 'expected NOT linearizable'}\n${explain(res, h)}`);
  return res;
}

test('trivial histories', () => {
  ok([]);
  ok([r(1, null, 0, 1)], 'a missing key reads nil');
  bad([r(1, 'x', 0, 1)], 'a value that was never written');
  ok([w(1, 'a', 0, 1), r(2, 'a', 2, 3)]);
  ok([w(1, 'a', 0, 1), w(1, 'b', 2, 3), r(2, 'b', 4, 5)]);
  assert.equal(checkRegister([r(1, 'x', 0, 1)], { initial: 'x' }).ok, true, 'the initial value can be chosen');
});

test('a stale read after a completed write is not linearizable', () => {
  const h = [w(1, 'a', 0, 1), w(2, 'b', 2, 3), r(3, 'a', 4, 5)];
  const res = bad(h);
  assert.match(explain(res, h), /write "b".*would overwrite "a" for good, but #\d+ p3 read -> "a" \[4\.0, 5\.0\] must still see it/, 'the stale read is named');
  bad([w(1, 'a', 0, 1), r(2, null, 2, 3)], 'nil after a completed write');
  bad([w(1, 'a', 0, 10), r(2, 'a', 1, 2), r(3, null, 3, 4)], 'a read may not go back once a later read saw the new value');
});

test('a write and a read that overlap may be ordered either way', () => {
  ok([w(1, 'a', 0, 10), r(2, null, 1, 2)]);
  ok([w(1, 'a', 0, 10), r(2, 'a', 1, 2)]);
  ok([w(1, 'a', 0, 10), r(2, 'a', 1, 2), r(3, 'a', 3, 4)]);
  ok([w(1, 'a', 0, 10), r(2, null, 1, 2), r(3, 'a', 3, 4)]);
  // equal times count as overlapping (a call at the very instant of another's return)
  ok([w(1, 'a', 0, 5), r(2, null, 5, 6)]);
  ok([w(1, 'a', 0, 3), w(2, 'b', 1, 4), r(3, 'a', 5, 6)], 'two concurrent writes: either can be last');
  ok([w(1, 'a', 0, 3), w(2, 'b', 1, 4), r(3, 'b', 5, 6)]);
});

test('an unknown-outcome write may take effect at any later point, or never', () => {
  ok([w(1, 'a', 0, INF), r(2, null, 1, 2), r(3, 'a', 50, 51)], 'it shows up later');
  ok([w(1, 'a', 0, INF), r(2, null, 1, 2), r(3, null, 50, 51)], 'it never shows up');
  ok([w(1, 'a', 0, 1), w(2, 'b', 2, INF), r(3, 'a', 10, 11), r(3, 'b', 20, 21)]);
  bad([w(1, 'a', 0, INF), r(2, 'a', 1, 2), r(3, null, 3, 4)], 'once seen it cannot disappear');
  bad([r(2, null, 0, 1), w(1, 'a', 5, INF), r(3, 'a', 2, 3)], 'it cannot take effect before it was called');
  bad([w(1, 'a', 0, 1), w(2, 'b', 2, INF), r(3, 'b', 10, 11), r(3, 'a', 20, 21)], 'b overwrote a for good');
  ok([r(1, 'zzz', 0, INF), w(2, 'a', 1, 2), r(3, 'a', 3, 4)], 'an unknown read is dropped');
});

test('a duplicated write (applied twice) is caught', () => {
  // A completes, B completes, a later read answers A: only a second application of A explains it
  bad([w(1, 'A', 0, 1), w(2, 'B', 2, 3), r(3, 'A', 4, 5)]);
  // ... also among unknown-outcome writes and overlapping reads
  const h = [
    w(1, 'A', 0, 10),
    w(4, 'x1', 1, INF),
    w(5, 'x2', 2, INF),
    r(2, 'A', 11, 12),
    w(2, 'B', 13, 14),
    w(6, 'x3', 13, INF),
    r(3, 'B', 15, 16),
    r(1, 'x3', 17, 18),
    r(3, 'A', 20, 21),
  ];
  const res = bad(h);
  assert.match(explain(res, h), /p3 read -> "A" \[20\.0, 21\.0\] must still see it/, explain(res, h));
});

test('cas: a definite mismatch is a read that the value differs, an unknown cas may or may not swap', () => {
  ok([cas(1, null, 'a', true, 0, 1), r(2, 'a', 2, 3)]);
  bad([cas(1, 'q', 'a', true, 0, 1)], 'cas expects a value never written');
  bad([w(1, 'a', 0, 1), cas(2, 'a', 'b', false, 2, 3)], 'a definite mismatch while the value matched');
  ok([w(1, 'a', 0, 1), w(3, 'c', 2, 3), cas(2, 'a', 'b', false, 4, 5), r(4, 'c', 6, 7)]);
  ok([w(1, 'a', 0, 1), cas(2, 'a', 'b', undefined, 2, INF), r(3, 'b', 10, 11)], 'an unknown cas that swapped');
  ok([w(1, 'a', 0, 1), cas(2, 'a', 'b', undefined, 2, INF), r(3, 'a', 10, 11)], 'an unknown cas that did not');
  bad([w(1, 'a', 0, 1), cas(2, 'a', 'b', undefined, 2, INF), r(3, 'b', 10, 11), r(3, 'a', 12, 13)]);
  bad([w(1, 'c', 0, 1), cas(2, 'a', 'b', undefined, 2, INF), r(3, 'b', 10, 11)], 'an unknown cas cannot swap a value it did not find');
  // an unknown write whose value nobody reads can still explain a failed cas
  ok([w(1, 'u', 0, 1), w(2, 'v', 2, INF), cas(3, 'u', 'x', false, 3, 4)]);
  bad([w(1, 'u', 0, 1), cas(3, 'u', 'x', false, 3, 4)]);
  ok([cas(1, null, 'a', true, 0, 2), cas(2, null, 'b', false, 1, 3), r(3, 'a', 4, 5)], 'two concurrent cas from nil: one wins');
  bad([cas(1, null, 'a', true, 0, 2), cas(2, null, 'b', true, 1, 3)], 'both cannot win');
});

test('the search stops with "unknown" at the state cap', () => {
  const h: RegisterOp[] = [];
  for (let i = 0; i < 40; i++) h.push(w(1, `v${i}`, 4 * i, 4 * i + 1), r(2, `v${i}`, 4 * i + 2, 4 * i + 3));
  assert.equal(checkRegister(h).ok, true);
  const res = checkRegister(h, { maxStates: 50 });
  assert.equal(res.ok, 'unknown');
  assert.ok(res.stats.explored <= 50);
});

test('a long history with many unknown writes is decided quickly, either way', () => {
  // one register, 8 processes, 6000 operations: writes (15% with an unknown outcome, half of
  // those never taking effect), reads and cas, each overlapping its neighbours
  const rand = lcg(1);
  const h: RegisterOp[] = [];
  const written: RegisterValue[] = [];
  let value: RegisterValue = null;
  let t = 0;
  for (let i = 0; i < 6000; i++) {
    const p = i % 8;
    const call = t;
    t += 1;
    if (rand() < 0.5) {
      const v = `w${p}-${i}`;
      const unknown = rand() < 0.15;
      if (!unknown || rand() < 0.5) {
        value = v;
        written.push(v);
      }
      h.push(w(p, v, call - rand() * 3, unknown ? INF : t + rand() * 3));
    } else if (rand() < 0.8) {
      h.push(r(p, value, call - rand() * 0.4, t + rand() * 0.4));
    } else {
      const expected = rand() < 0.5 ? value : (written[Math.max(0, written.length - 5)] ?? null);
      const v = `c${p}-${i}`;
      const swapped = expected === value;
      if (swapped) {
        value = v;
        written.push(v);
      }
      h.push(cas(p, expected, v, swapped, call - rand() * 0.4, t + rand() * 0.4));
    }
  }
  const res = checkRegister(h, { maxStates: 400_000 });
  assert.equal(res.ok, true, explain(res, h));
  // one stale read in the middle: refuting it means ruling out every order of the first half
  const g = h.find((op) => op.type === 'read' && op.call > 3000)!;
  g.output = h.filter((op) => op.type === 'write' && op.ret < g.call - 20).at(-1)!.value!;
  const stale = checkRegister(h, { maxStates: 400_000 });
  assert.equal(stale.ok, false, explain(stale, h));
  assert.match(explain(stale, h), new RegExp(`#${g.id} p${g.process} read`), 'the stale read is named');
});

// ---------------------------------------------------------------------------------- brute force

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Every subset of the unknown-outcome ops, every real-time-respecting order: is one legal? */
function bruteForce(h: RegisterOp[]): boolean {
  const definite = h.filter((op) => op.ret !== INF);
  const unknown = h.filter((op) => op.ret === INF && op.type !== 'read');
  for (let mask = 0; mask < 1 << unknown.length; mask++) {
    const chosen = [...definite, ...unknown.filter((_, i) => mask & (1 << i))];
    if (search(chosen, [], null)) return true;
  }
  return false;
  function search(left: RegisterOp[], done: RegisterOp[], state: RegisterValue): boolean {
    if (left.length === 0) return true;
    for (const x of left) {
      // x may go next only if no other op still left returned before x was called
      if (left.some((y) => y !== x && y.ret < x.call)) continue;
      let ns: RegisterValue | undefined;
      if (x.type === 'read') ns = x.output === state ? state : undefined;
      else if (x.type === 'write') ns = x.value!;
      else if (x.ret === INF) ns = state === x.expected ? x.new! : state;
      else if (x.output === true) ns = state === x.expected ? x.new! : undefined;
      else ns = state !== x.expected ? state : undefined;
      if (ns === undefined) continue;
      if (
        search(
          left.filter((y) => y !== x),
          [...done, x],
          ns,
        )
      )
        return true;
    }
    return false;
  }
}

test('random small histories: the checker agrees with brute force', () => {
  const rand = lcg(12345);
  let legal = 0;
  let illegal = 0;
  for (let round = 0; round < 1500; round++) {
    const n = 3 + Math.floor(rand() * 5);
    const values = ['a', 'b', 'c'];
    const h: RegisterOp[] = [];
    for (let i = 0; i < n; i++) {
      const call = Math.floor(rand() * 10);
      const unknown = rand() < 0.25;
      const ret = unknown ? INF : call + Math.floor(rand() * 5);
      const kind = rand();
      const pick = (): RegisterValue => (rand() < 0.2 ? null : values[Math.floor(rand() * values.length)]!);
      if (kind < 0.4) h.push(w(i, values[Math.floor(rand() * values.length)]! + (rand() < 0.5 ? i : ''), call, ret));
      else if (kind < 0.75) h.push(r(i, pick(), call, ret));
      else h.push(cas(i, pick(), values[Math.floor(rand() * values.length)]!, unknown ? undefined : rand() < 0.5, call, ret));
    }
    const expected = bruteForce(h);
    const got = checkRegister(h);
    assert.notEqual(got.ok, 'unknown');
    assert.equal(got.ok, expected, `round ${round}: brute force says ${expected}\n${h.map((op) => JSON.stringify(op)).join('\n')}\n${explain(got, h)}`);
    if (expected) legal++;
    else illegal++;
  }
  assert.ok(legal > 200 && illegal > 200, `both kinds were generated: ${legal} legal, ${illegal} illegal`);
});
