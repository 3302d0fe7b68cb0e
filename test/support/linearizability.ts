// A linearizability checker for one read / write / compare-and-set register, after Wing & Gong
// and Lowe, as in Knossos and Porcupine: a depth-first search for a legal sequential order that
// respects real time, memoising every (set of linearized operations, register state) it has seen.
//
// Operations with an unknown outcome (a timeout, a 503, a dropped connection: `ret` = Infinity)
// may take effect at any point after their call, or never. A search only has to place every
// operation with a known outcome; the unknown ones it does not place are taken to happen after
// the end of the history, where nobody observes them (the same as never). Reads with an unknown
// outcome observe nothing and are dropped.
//
// Keys of a KV store are independent registers: check each key's sub-history on its own
// (`checkIndependent`).
//
// Exact reductions that keep the search small on long histories with many unknown operations:
// - values no operation ever observes (no read returned them, no cas compared against them) are
//   one abstract value: the register's behaviour cannot tell them apart;
// - unknown operations with the same effect are interchangeable: only the earliest-called one
//   not yet placed is tried (any placement of them can be rearranged to use them in call order);
// - an unknown operation that would not change the state is never placed (placing it changes
//   nothing that can be observed), nor is one followed at once by a blind write (which erases
//   its effect unseen: the same as leaving it out);
// - a state is dead when the register leaves a value that an operation still to be placed must
//   read, and no operation left can write that value again.
// The search stops with `ok: 'unknown'` after `maxStates` states or `maxMs` milliseconds.

export type RegisterValue = string | null;

export interface RegisterOp {
  id: number | string;
  process: number | string;
  type: 'read' | 'write' | 'cas';
  /** write: the value written. */
  value?: RegisterValue;
  /** cas: the value the register must hold for the swap. */
  expected?: RegisterValue;
  /** cas: the value it swaps in. */
  new?: RegisterValue;
  /**
   * The answer when `ret` is finite: read, the value read (null: missing); cas, whether it swapped
   * (false: a definite "did not match"). Ignored for writes and for unknown outcomes.
   */
  output?: RegisterValue | boolean;
  /** When the operation was sent and when its answer arrived (same clock; Infinity: unknown). */
  call: number;
  ret: number;
}

export interface CheckOptions {
  /** The register's value before any operation (default null: a missing key). */
  initial?: RegisterValue;
  /** Give up with `ok: 'unknown'` after this many explored states (default 1,000,000). */
  maxStates?: number;
  /** Give up with `ok: 'unknown'` after this much time (default 30,000 ms). */
  maxMs?: number;
}

export interface CheckStats {
  /** Operations given (unknown reads included) and the ones the search had to place. */
  ops: number;
  definite: number;
  unknown: number;
  explored: number;
  ms: number;
}

export interface NonLinearizable {
  ok: false;
  reason: string;
  stats: CheckStats;
  /** The longest prefix of a legal order the search found (the last `tail` operations of it). */
  prefixLength: number;
  prefixTail: RegisterOp[];
  /** The register's value after that prefix. */
  stateAfterPrefix: RegisterValue | '<an unobserved value>';
  /** Known-outcome operations that were allowed next after that prefix; none of them leads to a legal order. */
  stuck: RegisterOp[];
  /** Why, for each of `stuck`. */
  stuckWhy: string[];
  /** The known-outcome operation with the earliest return not in the prefix: it had to come next or earlier. */
  blocking: RegisterOp | undefined;
}

export type CheckResult = { ok: true; stats: CheckStats } | NonLinearizable | { ok: 'unknown'; reason: string; stats: CheckStats };

const UNOBSERVED = -1;

const Kind = { Read: 0, Write: 1, CasOk: 2, CasFail: 3, WriteUnknown: 4, CasUnknown: 5 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

interface Op {
  src: RegisterOp;
  idx: number;
  kind: Kind;
  definite: boolean;
  call: number;
  ret: number;
  /** Read: the value read; CasOk / CasFail / CasUnknown: the expected value. */
  need: number;
  /** Write / CasOk / WriteUnknown / CasUnknown: the value written. */
  produce: number;
  /** Unknown operations: their effect class. */
  cls: number;
}

/** A small deterministic PRNG (mulberry32) for the Zobrist hashes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function describeValue(v: RegisterValue | undefined): string {
  return v === null || v === undefined ? 'nil' : JSON.stringify(v);
}

/** One line per operation, e.g. `#12 p3 write "w3-7" [1203.4, 1209.1]` or `... [1203.4, ?]`. */
export function formatOp(op: RegisterOp, origin = 0): string {
  const t = (x: number) => (Number.isFinite(x) ? (x - origin).toFixed(1) : '?');
  let what: string;
  switch (op.type) {
    case 'read':
      what = `read -> ${op.ret === Infinity ? '?' : describeValue(op.output as RegisterValue)}`;
      break;
    case 'write':
      what = `write ${describeValue(op.value)}${op.ret === Infinity ? ' (unknown outcome)' : ''}`;
      break;
    case 'cas':
      what = `cas ${describeValue(op.expected)} -> ${describeValue(op.new)} ${op.ret === Infinity ? '(unknown outcome)' : op.output ? 'ok' : 'failed'}`;
      break;
  }
  return `#${op.id} p${op.process} ${what} [${t(op.call)}, ${t(op.ret)}]`;
}

/** Checks one register's history. */
export function checkRegister(history: readonly RegisterOp[], o: CheckOptions = {}): CheckResult {
  const t0 = Date.now();
  const maxStates = o.maxStates ?? 1_000_000;
  const maxMs = o.maxMs ?? 30_000;
  const initialValue = o.initial ?? null;

  // ------------------------------------------------------------------ normalise
  const kept: RegisterOp[] = [];
  for (const op of history) {
    if (!Number.isFinite(op.call)) throw new Error(`operation ${op.id}: call must be a finite time`);
    if (!(op.ret >= op.call)) throw new Error(`operation ${op.id}: ret (${op.ret}) must be >= call (${op.call}) or Infinity`);
    if (op.type === 'read' && op.ret === Infinity) continue; // an unknown read observes nothing
    kept.push(op);
  }
  // Values something observes: read outputs and cas expected values (and the initial value).
  const ids = new Map<RegisterValue, number>();
  const names: RegisterValue[] = [];
  const idOf = (v: RegisterValue | undefined): number => {
    const key = v ?? null;
    let id = ids.get(key);
    if (id === undefined) {
      id = names.length;
      ids.set(key, id);
      names.push(key);
    }
    return id;
  };
  idOf(initialValue);
  for (const op of kept) {
    if (op.type === 'read') idOf(op.output as RegisterValue);
    if (op.type === 'cas') idOf(op.expected);
  }
  const valueId = (v: RegisterValue | undefined) => ids.get(v ?? null) ?? UNOBSERVED;

  const classes = new Map<string, number>();
  const ops: Op[] = kept.map((src, idx) => {
    const definite = src.ret !== Infinity;
    const op: Op = { src, idx, kind: Kind.Read as Kind, definite, call: src.call, ret: src.ret, need: UNOBSERVED, produce: UNOBSERVED, cls: -1 };
    if (src.type === 'read') {
      op.need = valueId(src.output as RegisterValue);
    } else if (src.type === 'write') {
      op.kind = definite ? Kind.Write : Kind.WriteUnknown;
      op.produce = valueId(src.value);
    } else {
      op.need = valueId(src.expected);
      op.produce = valueId(src.new);
      if (!definite) op.kind = Kind.CasUnknown;
      else if (src.output === true) op.kind = Kind.CasOk;
      else if (src.output === false) op.kind = Kind.CasFail;
      else throw new Error(`operation ${src.id}: a cas with a known outcome needs output true or false`);
    }
    if (!definite) {
      const key = `${op.kind}:${op.kind === Kind.CasUnknown ? op.need : ''}:${op.produce}`;
      let cls = classes.get(key);
      if (cls === undefined) {
        cls = classes.size;
        classes.set(key, cls);
      }
      op.cls = cls;
    }
    return op;
  });
  const n = ops.length;
  const definiteOps = ops.filter((x) => x.definite);
  const byCall = [...definiteOps].sort((a, b) => a.call - b.call || a.idx - b.idx);
  const byRet = [...definiteOps].sort((a, b) => a.ret - b.ret || a.idx - b.idx);
  // Members of each unknown class in call order; used[c] of them are placed (always a prefix).
  const members: Op[][] = Array.from({ length: classes.size }, () => []);
  for (const x of ops) if (!x.definite) members[x.cls]!.push(x);
  for (const m of members) m.sort((a, b) => a.call - b.call || a.idx - b.idx);
  const used = new Int32Array(classes.size);

  // Operations still to be placed that need the register to hold a value, and those that can
  // still write it (for the dead-state rule).
  const nv = names.length;
  const pendingNeed = new Int32Array(nv);
  const producers = new Int32Array(nv);
  for (const x of ops) {
    if (x.definite && (x.kind === Kind.Read || x.kind === Kind.CasOk)) pendingNeed[x.need]!++;
    if (x.kind !== Kind.Read && x.kind !== Kind.CasFail && x.produce !== UNOBSERVED) producers[x.produce]!++;
  }

  const stats: CheckStats = { ops: history.length, definite: definiteOps.length, unknown: n - definiteOps.length, explored: 0, ms: 0 };
  const done = () => {
    stats.ms = Date.now() - t0;
    return stats;
  };

  // A value that must be read but that nothing writes (and is not the initial value).
  for (const x of byRet) {
    if ((x.kind === Kind.Read || x.kind === Kind.CasOk) && x.need !== valueId(initialValue)) {
      const writer = ops.some((w) => w.kind !== Kind.Read && w.kind !== Kind.CasFail && w.produce === x.need && w.call <= x.ret);
      if (!writer) {
        return {
          ok: false,
          reason: `${formatOp(x.src)} needs ${describeValue(names[x.need]!)}, which no operation called before it returned writes`,
          stats: done(),
          prefixLength: 0,
          prefixTail: [],
          stateAfterPrefix: initialValue,
          stuck: [x.src],
          stuckWhy: ['needs a value nothing writes'],
          blocking: x.src,
        };
      }
    }
  }

  // ------------------------------------------------------------------ search
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const isSet = (i: number) => (bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  const random = rng(0x5eed);
  const z1 = new Uint32Array(n).map(() => random());
  const z2 = new Uint32Array(n).map(() => random());
  const z3 = new Uint32Array(n).map(() => random());
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  const toggle = (i: number) => {
    bits[i >>> 5]! ^= 1 << (i & 31);
    h1 = (h1 ^ z1[i]!) >>> 0;
    h2 = (h2 ^ z2[i]!) >>> 0;
    h3 = (h3 ^ z3[i]!) >>> 0;
  };
  // 96-bit Zobrist hashes of the placed set; a collision (about states^2 / 2^97) could only hide a
  // legal order, never invent one.
  const seen = new Set<string>();
  const keyOf = (state: number) => `${h1},${h2},${h3},${state}`;

  interface Frame {
    cands: Op[];
    i: number;
    /** The operation placed to reach this frame (undefined for the root) and the state before it. */
    entered: Op | undefined;
    prevState: number;
    retPtr: number;
    callPtr: number;
  }

  let state = valueId(initialValue);
  let placedDefinite = 0;
  const stack: Frame[] = [];
  const placed: Op[] = [];
  let best = { depth: -1, prefix: [] as Op[], state, stuck: [] as Op[], why: [] as string[], blocking: undefined as Op | undefined };

  /** Step: the new state, or undefined when the operation cannot take effect in `s` (or would change nothing, when unknown). */
  const step = (x: Op, s: number): number | undefined => {
    switch (x.kind) {
      case Kind.Read:
        return s === x.need ? s : undefined;
      case Kind.Write:
        return x.produce;
      case Kind.CasOk:
        return s === x.need ? x.produce : undefined;
      case Kind.CasFail:
        return s !== x.need ? s : undefined;
      case Kind.WriteUnknown:
        return x.produce !== s ? x.produce : undefined;
      case Kind.CasUnknown:
        return s === x.need && x.produce !== s ? x.produce : undefined;
    }
  };

  const makeFrame = (entered: Op | undefined, prevState: number, retPtr: number, callPtr: number): Frame | 'done' => {
    while (retPtr < byRet.length && isSet(byRet[retPtr]!.idx)) retPtr++;
    if (retPtr === byRet.length) return 'done';
    while (callPtr < byCall.length && isSet(byCall[callPtr]!.idx)) callPtr++;
    const minRet = byRet[retPtr]!.ret;
    // Right after an unknown operation, a blind write would erase its effect unseen: that order is
    // no different from leaving the unknown one out, which the search covers anyway.
    const blindOk = entered === undefined || entered.definite;
    const cands: Op[] = [];
    const wanted = new Set<number>();
    for (let j = callPtr; j < byCall.length; j++) {
      const x = byCall[j]!;
      if (x.call > minRet) break;
      if (isSet(x.idx)) continue;
      if (!blindOk && x.kind === Kind.Write) continue;
      cands.push(x);
      if (x.kind === Kind.Read || x.kind === Kind.CasOk) wanted.add(x.need);
    }
    const first: Op[] = [];
    const later: Op[] = [];
    for (let c = 0; c < members.length; c++) {
      const x = members[c]![used[c]!];
      if (x === undefined || x.call > minRet || (!blindOk && x.kind === Kind.WriteUnknown)) continue;
      (wanted.has(x.produce) ? first : later).push(x);
    }
    cands.push(...first, ...later);
    return { cands, i: 0, entered, prevState, retPtr, callPtr };
  };

  const describe = (v: number) => (v === UNOBSERVED ? ('<an unobserved value>' as const) : names[v]!);
  const show = (v: number) => (v === UNOBSERVED ? '<an unobserved value>' : describeValue(names[v]!));
  const record = (f: Frame) => {
    if (placedDefinite <= best.depth) return;
    const stuck = f.cands.filter((x) => x.definite);
    const why = stuck.map((x) => {
      const ns = step(x, state);
      if (ns === undefined) return `does not fit the register (${show(state)})`;
      if (ns !== state && state !== UNOBSERVED && pendingNeed[state]! - (x.kind === Kind.CasOk ? 1 : 0) > 0 && producers[state]! - (x.produce === state ? 1 : 0) === 0) {
        const needer = byCall.find((y) => y !== x && !isSet(y.idx) && (y.kind === Kind.Read || y.kind === Kind.CasOk) && y.need === state);
        return `would overwrite ${show(state)} for good, but ${needer ? formatOp(needer.src) : 'a later operation'} must still see it`;
      }
      return 'fits, but no legal order continues from it';
    });
    best = { depth: placedDefinite, prefix: placed.slice(-12), state, stuck, why, blocking: byRet[f.retPtr] };
  };

  const place = (x: Op) => {
    toggle(x.idx);
    placed.push(x);
    if (x.definite) {
      placedDefinite++;
      if (x.kind === Kind.Read || x.kind === Kind.CasOk) pendingNeed[x.need]!--;
    } else used[x.cls]!++;
    if (x.kind !== Kind.Read && x.kind !== Kind.CasFail && x.produce !== UNOBSERVED) producers[x.produce]!--;
  };
  const unplace = (x: Op) => {
    toggle(x.idx);
    placed.pop();
    if (x.definite) {
      placedDefinite--;
      if (x.kind === Kind.Read || x.kind === Kind.CasOk) pendingNeed[x.need]!++;
    } else used[x.cls]!--;
    if (x.kind !== Kind.Read && x.kind !== Kind.CasFail && x.produce !== UNOBSERVED) producers[x.produce]!++;
  };

  const root = makeFrame(undefined, state, 0, 0);
  if (root === 'done') return { ok: true, stats: done() };
  seen.add(keyOf(state));
  stack.push(root);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.i === 0) record(f);
    if (f.i >= f.cands.length) {
      // every continuation from here failed: backtrack
      stack.pop();
      if (f.entered) {
        unplace(f.entered);
        state = f.prevState;
      }
      continue;
    }
    const x = f.cands[f.i++]!;
    const ns = step(x, state);
    if (ns === undefined) continue;
    place(x);
    // dead state: leaving a value that an operation still to place must see, with no writer left
    if (ns !== state && state !== UNOBSERVED && pendingNeed[state]! > 0 && producers[state]! === 0) {
      unplace(x);
      continue;
    }
    const key = keyOf(ns);
    if (seen.has(key)) {
      unplace(x);
      continue;
    }
    seen.add(key);
    if (++stats.explored >= maxStates || ((stats.explored & 1023) === 0 && Date.now() - t0 > maxMs)) {
      return {
        ok: 'unknown',
        reason: `gave up after ${stats.explored} states in ${Date.now() - t0} ms (best prefix ${best.depth} of ${definiteOps.length} known-outcome operations)`,
        stats: done(),
      };
    }
    const prev = state;
    state = ns;
    const next = makeFrame(x, prev, f.retPtr, f.callPtr);
    if (next === 'done') return { ok: true, stats: done() };
    stack.push(next);
  }
  return {
    ok: false,
    reason: `no legal order: the longest legal prefix places ${best.depth} of ${definiteOps.length} known-outcome operations (register ${show(best.state)}); none of the ${best.stuck.length} allowed next leads on`,
    stats: done(),
    prefixLength: best.depth,
    prefixTail: best.prefix.map((x) => x.src),
    stateAfterPrefix: describe(best.state),
    stuck: best.stuck.map((x) => x.src),
    stuckWhy: best.why,
    blocking: best.blocking?.src,
  };
}

/** Checks each key's sub-history on its own; answers every key's result. */
export function checkIndependent<K>(byKey: Map<K, RegisterOp[]>, o: CheckOptions = {}): Map<K, CheckResult> {
  const out = new Map<K, CheckResult>();
  for (const [k, h] of byKey) out.set(k, checkRegister(h, o));
  return out;
}

/**
 * A readable account of a failed check: the reason, the tail of the longest legal prefix, the
 * stuck operations, and every operation overlapping the blocking one (times relative to `origin`).
 */
export function explain(result: CheckResult, history: readonly RegisterOp[], origin = 0, around = 25): string {
  if (result.ok === true)
    return `linearizable (${result.stats.definite} known + ${result.stats.unknown} unknown-outcome ops, ${result.stats.explored} states, ${result.stats.ms} ms)`;
  if (result.ok === 'unknown') return `undecided: ${result.reason}`;
  const lines = [`NOT linearizable: ${result.reason}`];
  lines.push(`  register after the prefix: ${result.stateAfterPrefix === null ? 'nil' : JSON.stringify(result.stateAfterPrefix)}`);
  lines.push(`  last operations of the longest legal prefix (${result.prefixLength} known-outcome ops placed):`);
  for (const op of result.prefixTail) lines.push(`    ${formatOp(op, origin)}`);
  lines.push('  known-outcome operations allowed next:');
  result.stuck.forEach((op, i) => lines.push(`    ${formatOp(op, origin)}: ${result.stuckWhy[i] ?? ''}`));
  const b = result.blocking;
  if (b) {
    // Known-outcome operations overlapping the blocking one, and unknown-outcome ones called since
    // the earliest of those (older unknown ones overlap everything and would drown the excerpt).
    const known = history.filter((op) => op.ret !== Infinity && op.call <= b.ret && op.ret >= b.call);
    const since = Math.min(...known.map((op) => op.call));
    const near = history
      .filter((op) => (op.ret !== Infinity ? known.includes(op) : op.call >= since && op.call <= b.ret))
      .sort((x, y) => x.call - y.call)
      .slice(-around);
    lines.push(`  operations overlapping ${formatOp(b, origin)} (the last ${near.length}):`);
    for (const op of near) lines.push(`    ${formatOp(op, origin)}`);
  }
  return lines.join('\n');
}
