// At most once without sessions, under leader pauses and kill -9, on a 3-node raftkit-kv cluster.
//
// Eight client loops send puts of globally unique values, cas and linearizable gets over four
// keys, mostly to followers (which forward to the leader), with a 1.5 s client timeout, no
// session headers and no client retries. Meanwhile the leader is SIGSTOPped for 2-3.5 s and
// resumed, or (every third round) killed with SIGKILL and restarted. Afterwards the applied log is
// read through the watch from index 1 on every node, and:
//   1. no written value was applied twice (a forwarder or leader re-sending a command whose first
//      copy a stalled leader had appended shows up as the same value at two indexes);
//   2. every acknowledged put / cas is in the log at the index it answered;
//   3. each key's history is linearizable (unknown outcomes may or may not have taken effect);
//   4. the run did enough work and injected enough faults to mean something.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { KvCluster, eventually, sleep, type Reply, type Watch, type WatchEntry } from './kv-cluster.js';
import type { Proc } from '../support/proc.js';
import { checkRegister, explain, type RegisterOp } from '../support/linearizability.js';

// No snapshot during the run: the watch replays the applied log from index 1 out of each node's
// ring of recent entries (snapshot-entries + retained entries long).
const c = new KvCluster([1, 2, 3], { extraArgs: ['--snapshot-entries', '200000'] });
const run = Date.now().toString(36);
const KEYS = [0, 1, 2, 3].map((i) => `amo-${run}/k${i}`);
const WORKERS = 8;
const CLIENT_TIMEOUT_MS = 1500;
const FAULT_WINDOW_MS = 45_000;

/** Every process this test started (restarts make new ones), for the stderr report. */
const started: Proc[] = [];
/** Nodes this test SIGSTOPped and has not resumed yet. */
const paused = new Set<number>();

before(async () => {
  await c.startAll();
  for (const p of c.procs.values()) started.push(p);
});

after(async () => {
  for (const id of paused) c.procs.get(id)?.child.kill('SIGCONT');
  paused.clear();
  await c.stopAll();
});

type Outcome = 'ok' | 'fail' | 'info';

interface HistoryOp {
  id: number;
  process: number;
  key: string;
  type: 'put' | 'get' | 'cas';
  /** put / cas: the value written; get: the value read (when ok). */
  value: string | null;
  expected?: string | null;
  /** cas: whether it swapped (when ok). */
  succeeded?: boolean;
  node: number;
  call: number;
  ret: number;
  outcome: Outcome;
  /** ok: the answer's index and revision; otherwise what went wrong. */
  index?: number;
  revision?: number;
  detail?: string;
}

const rand = (n: number) => Math.floor(Math.random() * n);

/**
 * The outcome of a non-200 answer: only an answer that certainly comes before any proposal is a
 * definite failure; everything else (503 timeout/unavailable, 409, 5xx) may have taken effect.
 */
function outcomeOf(r: Reply): Outcome {
  return [400, 401, 404, 405, 413].includes(r.status) ? 'fail' : 'info';
}

function summary(r: Reply): string {
  return `${r.status} ${r.body?.error ?? ''}${r.body?.outcome ? `/${r.body.outcome}` : ''}`;
}

test('session-less commands apply at most once under leader pauses and kill -9; the history is linearizable', { timeout: 100_000 }, async (t) => {
  const t0 = performance.now();
  const wall0 = Date.now();
  const rel = (x: number) => ((x - t0) / 1000).toFixed(1);
  /** Relative seconds and the wall clock (to match the nodes' log times). */
  const stamp = () => `${rel(performance.now())}s (${new Date().toISOString().slice(11, 23)})`;
  const faultEnd = wall0 + FAULT_WINDOW_MS;
  const hardEnd = wall0 + 90_000;
  const remaining = (cap: number) => Math.max(1, Math.min(cap, hardEnd - Date.now()));

  let leaderGuess = await c.waitLeader();
  const termBefore: number = (await c.kvStatus(leaderGuess)).term;
  const history: HistoryOp[] = [];
  let stopping = false;
  let nextId = 0;
  const down = new Set<number>();

  // ---------------------------------------------------------------- clients
  const worker = async (p: number) => {
    let n = 0;
    const lastSeen = new Map<string, string | null>();
    while (!stopping && Date.now() < faultEnd) {
      const key = KEYS[rand(KEYS.length)]!;
      const followers = c.ids.filter((id) => id !== leaderGuess);
      const node = Math.random() < 0.8 ? followers[rand(followers.length)]! : c.ids[rand(c.ids.length)]!;
      const dice = Math.random();
      const op: HistoryOp = { id: nextId++, process: p, key, type: 'put', value: null, node, call: 0, ret: Infinity, outcome: 'info' };
      let send: () => Promise<Reply>;
      if (dice < 0.55) {
        op.value = `w${p}-${n++}`;
        send = () => c.command(node, 'put', { key, value: op.value }, { timeoutMs: CLIENT_TIMEOUT_MS });
      } else if (dice < 0.85) {
        op.type = 'get';
        send = () => c.query(node, 'get', { key }, 'linearizable', { timeoutMs: CLIENT_TIMEOUT_MS });
      } else {
        op.type = 'cas';
        op.expected = lastSeen.get(key) ?? null;
        op.value = `w${p}-${n++}`;
        send = () => c.command(node, 'cas', { key, expected: op.expected, value: op.value }, { timeoutMs: CLIENT_TIMEOUT_MS });
      }
      history.push(op);
      op.call = performance.now();
      let r: Reply;
      try {
        r = await send();
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        // refused: the request never reached the node; anything else (timeout, reset) is unknown
        if (err.code === 'ECONNREFUSED') {
          op.ret = performance.now();
          op.outcome = 'fail';
        }
        op.detail = err.code ?? (/no answer within/.test(err.message) ? 'client timeout' : err.message);
        await sleep(20);
        continue;
      }
      if (r.status !== 200) {
        op.outcome = outcomeOf(r);
        if (op.outcome === 'fail') op.ret = performance.now();
        op.detail = summary(r);
        if (r.status >= 500) await sleep(10);
        continue;
      }
      op.ret = performance.now();
      op.outcome = 'ok';
      op.index = r.body.index;
      if (op.type === 'get') {
        op.value = r.body.result.value ?? null;
        op.revision = r.body.result.revision;
        lastSeen.set(key, op.value);
      } else {
        op.revision = r.body.result.revision;
        if (op.type === 'cas') op.succeeded = r.body.result.succeeded;
        if (op.type === 'put' || op.succeeded) lastSeen.set(key, op.value);
      }
    }
  };

  // ---------------------------------------------------------------- faults
  const events: string[] = [];
  let pauses = 0;
  let kills = 0;
  const unexpectedExits: string[] = [];
  const checkExits = () => {
    for (const [id, p] of c.procs) {
      if (!c.isRunning(id) && !down.has(id) && !unexpectedExits.some((s) => s.startsWith(`node ${id} pid ${p.child.pid} `))) {
        unexpectedExits.push(`node ${id} pid ${p.child.pid} exited by itself (code ${p.child.exitCode}, signal ${p.child.signalCode}): ${p.stderr.slice(-2000)}`);
      }
    }
  };
  const restart = (id: number) => {
    down.delete(id);
    started.push(c.start(id));
  };
  const nemesis = async () => {
    let round = 0;
    while (Date.now() < faultEnd - 3000) {
      checkExits();
      for (const id of c.ids) if (!c.isRunning(id) && !down.has(id)) restart(id); // a crash: bring it back
      let leader: number;
      try {
        leader = await c.waitLeader(c.ids, remaining(Math.max(1000, faultEnd - Date.now())));
      } catch {
        continue;
      }
      leaderGuess = leader;
      const child = c.procs.get(leader)!.child;
      if (round % 3 === 2) {
        events.push(`${stamp()} kill -9 n${leader}`);
        down.add(leader);
        await c.kill(leader);
        kills++;
        await sleep(1000);
        restart(leader);
      } else {
        const ms = 2000 + rand(1500);
        events.push(`${stamp()} SIGSTOP n${leader} for ${ms} ms`);
        paused.add(leader);
        child.kill('SIGSTOP');
        pauses++;
        await sleep(ms);
        child.kill('SIGCONT');
        paused.delete(leader);
      }
      round++;
      await sleep(1000);
    }
  };

  const workers = Array.from({ length: WORKERS }, (_, p) => worker(p));
  await nemesis();
  stopping = true;
  await Promise.all(workers);
  const workEnd = performance.now();

  // ---------------------------------------------------------------- settle and read the log
  for (const id of paused) c.procs.get(id)?.child.kill('SIGCONT');
  paused.clear();
  checkExits();
  for (const id of c.ids) if (!c.isRunning(id)) restart(id);
  const leader = await c.waitLeader(c.ids, remaining(20_000));
  const termAfter: number = (await c.kvStatus(leader)).term;
  let attempt = 0;
  const barrier = await eventually(
    async () => {
      // a new value per attempt: an attempt that timed out may still be applied
      const r = await c.command(leader, 'put', { key: `amo-${run}/barrier`, value: `barrier-${attempt++}` }, { timeoutMs: 3000 });
      return r.status === 200 ? (r.body.index as number) : undefined;
    },
    remaining(15_000),
    'the barrier put',
    200,
  );
  for (const id of c.ids) await c.waitApplied(id, barrier, remaining(15_000));
  const watches: Watch[] = c.ids.map((id) => c.watch(id, '?from=1'));
  let logs: WatchEntry[][];
  try {
    await Promise.all(watches.map((w) => w.until(barrier, remaining(20_000))));
    logs = watches.map((w) => w.entries.filter((e) => e.index <= barrier));
  } finally {
    await Promise.all(watches.map((w) => w.close()));
  }

  // ---------------------------------------------------------------- report
  const count = (type: HistoryOp['type'], outcome?: Outcome) => history.filter((o) => o.type === type && (outcome === undefined || o.outcome === outcome)).length;
  const ackedPuts = count('put', 'ok');
  t.diagnostic(`faults: ${pauses} pauses + ${kills} kills: ${events.join('; ')}`);
  t.diagnostic(
    `ops in ${((workEnd - t0) / 1000).toFixed(1)} s: ${history.length}; put ${count('put')} (ok ${ackedPuts}, unknown ${count('put', 'info')}, failed ${count('put', 'fail')}), ` +
      `get ${count('get')} (ok ${count('get', 'ok')}), cas ${count('cas')} (ok ${count('cas', 'ok')}, swapped ${history.filter((o) => o.type === 'cas' && o.succeeded).length}, unknown ${count('cas', 'info')})`,
  );
  const details = new Map<string, number>();
  for (const o of history) if (o.outcome !== 'ok') details.set(`${o.type} ${o.detail}`, (details.get(`${o.type} ${o.detail}`) ?? 0) + 1);
  t.diagnostic(
    `not ok: ${[...details]
      .sort((a, b) => b[1] - a[1])
      .map(([d, n]) => `${n}x ${d}`)
      .join(', ')}`,
  );
  const log = logs[0]!;
  const terms = new Set(log.map((e) => e.term));
  t.diagnostic(`applied log: ${log.length} entries up to index ${barrier}, commands in ${terms.size} terms; term ${termBefore} -> ${termAfter}`);
  t.diagnostic(`node stderr: ${stderrReport()}`);

  // Every check runs and adds its findings; the test fails at the end with all of them.
  const failures: string[] = [];

  // every node applied the same log
  for (let i = 1; i < logs.length; i++) {
    const a = log.map(entryLine);
    const b = logs[i]!.map(entryLine);
    const at = a.findIndex((line, j) => line !== b[j]);
    if (at >= 0 || a.length !== b.length)
      failures.push(
        `node ${c.ids[i]} applied a different log than node ${c.ids[0]} (${b.length} vs ${a.length} entries): first difference at position ${at}: ${a[at]} vs ${b[at]}`,
      );
  }

  // 1. every written value (put or cas) appears at most once in the applied log
  const byValue = new Map<string, WatchEntry[]>();
  for (const e of log) {
    if ((e.command === 'put' || e.command === 'cas') && typeof e.args?.value === 'string') {
      const list = byValue.get(e.args.value) ?? [];
      list.push(e);
      byValue.set(e.args.value, list);
    }
  }
  const sent = new Map(history.filter((o) => o.type !== 'get').map((o) => [o.value!, o]));
  const dups = [...byValue].filter(([, es]) => es.length > 1);
  t.diagnostic(`values applied more than once: ${dups.length} of ${byValue.size}`);
  if (dups.length > 0) {
    const lines = dups.slice(0, 20).map(([v, es]) => {
      const o = sent.get(v);
      const sentBy = o
        ? `sent as ${o.type} via n${o.node} at ${rel(o.call)}s, outcome ${o.outcome}${o.index !== undefined ? ` index ${o.index}` : ''}${o.detail ? ` (${o.detail})` : ''}`
        : 'not sent by this test';
      const key = es[0]!.args.key;
      const between = log.filter((e) => e.index > es[0]!.index && e.index < es.at(-1)!.index && e.args?.key === key && (e.command === 'put' || e.result?.succeeded)).length;
      return `  ${v}: ${es.map((e) => `index ${e.index} term ${e.term} ${e.command} ${JSON.stringify(e.result)}`).join(' | ')}; ${between} other write(s) of ${key} in between; ${sentBy}`;
    });
    failures.push(`1. ${dups.length} value(s) applied more than once (of ${byValue.size}):\n${lines.join('\n')}`);
  }

  // 2. every acknowledged put / cas is in the log at the index it answered; definite failures are not
  const byIndex = new Map(log.map((e) => [e.index, e]));
  const missing: string[] = [];
  for (const o of history) {
    if (o.type === 'get' || o.outcome !== 'ok') continue;
    const e = byIndex.get(o.index!);
    const good = e !== undefined && e.command === o.type && e.args?.key === o.key && e.args?.value === o.value && e.result?.revision === o.revision;
    if (!good)
      missing.push(`  ${o.type} ${o.key}=${o.value} acknowledged at index ${o.index} revision ${o.revision} via n${o.node}; the log has ${e ? entryLine(e) : 'nothing there'}`);
  }
  if (missing.length > 0) failures.push(`2. ${missing.length} acknowledged command(s) not in the log where they answered:\n${missing.slice(0, 20).join('\n')}`);
  const refusedButApplied = history.filter((o) => o.type !== 'get' && o.outcome === 'fail' && byValue.has(o.value!));
  if (refusedButApplied.length > 0) failures.push(`2. definitely failed commands in the log: ${refusedButApplied.map((o) => `${o.value} (${o.detail})`).join(', ')}`);
  const unknownWrites = history.filter((o) => o.type !== 'get' && o.outcome === 'info');
  t.diagnostic(`unknown-outcome puts/cas that took effect: ${unknownWrites.filter((o) => byValue.has(o.value!)).length} of ${unknownWrites.length}`);

  // 3. each key's history is linearizable
  const checkStart = Date.now();
  for (const key of KEYS) {
    const ops: RegisterOp[] = [];
    for (const o of history) {
      if (o.key !== key || o.outcome === 'fail') continue;
      const ret = o.outcome === 'ok' ? o.ret : Infinity;
      if (o.type === 'put') ops.push({ id: o.id, process: o.process, type: 'write', value: o.value, call: o.call, ret });
      else if (o.type === 'get') ops.push({ id: o.id, process: o.process, type: 'read', output: o.value, call: o.call, ret });
      else ops.push({ id: o.id, process: o.process, type: 'cas', expected: o.expected ?? null, new: o.value, output: o.succeeded, call: o.call, ret });
    }
    const keysLeft = KEYS.length - KEYS.indexOf(key);
    const res = checkRegister(ops, { initial: null, maxMs: Math.min(10_000, Math.max(1000, (hardEnd - Date.now()) / keysLeft)) });
    t.diagnostic(`${key}: ${res.ok === true ? explain(res, ops, t0) : res.ok === false ? 'NOT linearizable' : 'undecided'}`);
    if (res.ok !== true)
      failures.push(`3. the history of ${key} is ${res.ok === false ? 'not linearizable' : 'undecided'} (times in ms from the start):\n${explain(res, ops, t0)}`);
  }
  t.diagnostic(`linearizability checked in ${Date.now() - checkStart} ms; whole test ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // 4. not vacuous
  if (unexpectedExits.length > 0) failures.push(`4. node(s) exited by themselves:\n${unexpectedExits.join('\n')}`);
  if (ackedPuts <= 200) failures.push(`4. only ${ackedPuts} puts were acknowledged`);
  if (count('get', 'ok') <= 100) failures.push(`4. only ${count('get', 'ok')} gets answered`);
  if (!history.some((o) => o.type === 'cas' && o.succeeded) || !history.some((o) => o.type === 'cas' && o.outcome === 'ok' && !o.succeeded))
    failures.push('4. cas did not both swap and mismatch');
  if (pauses < 4 || kills < 2 || pauses + kills < 7) failures.push(`4. too few faults: ${pauses} pauses, ${kills} kills`);
  if (termAfter - termBefore < Math.ceil((pauses + kills) / 2)) failures.push(`4. the term moved only from ${termBefore} to ${termAfter} over ${pauses + kills} faults`);

  assert.equal(failures.length, 0, `${failures.join('\n\n')}\n\nfaults: ${events.join('; ')}`);
});

function entryLine(e: WatchEntry): string {
  return `${e.index}/${e.term} ${e.command} ${JSON.stringify(e.args)} -> ${JSON.stringify(e.result)}`;
}

/**
 * Per node (all its processes), the warnings and errors in its stderr, most frequent first, with
 * one sample line of each error and of each warning other than forwarding failures.
 */
function stderrReport(): string {
  const parts: string[] = [];
  for (const id of c.ids) {
    const counts = new Map<string, { n: number; sample: string; notable: boolean }>();
    for (const p of started.filter((x) => x.id === id)) {
      for (const line of p.stderr.split('\n')) {
        if (!line.trim()) continue;
        let what: string;
        let notable = true;
        try {
          const j = JSON.parse(line) as { level?: number; msg?: string };
          what = `${j.level === 40 ? 'warn' : j.level === 50 ? 'error' : j.level === 60 ? 'fatal' : `level ${j.level}`} "${j.msg}"`;
          notable = (j.level ?? 0) >= 50 || !/forwarding to the leader failed|no token configured/.test(j.msg ?? '');
        } catch {
          what = `raw "${line.slice(0, 120)}"`;
        }
        const entry = counts.get(what) ?? { n: 0, sample: line.slice(0, 400), notable };
        entry.n++;
        counts.set(what, entry);
      }
    }
    const top = [...counts].sort((a, b) => b[1].n - a[1].n);
    parts.push(`n${id}: ${top.length === 0 ? 'nothing' : top.map(([w, e]) => `${e.n}x ${w}`).join(', ')}`);
    for (const [, e] of top) if (e.notable) parts.push(`    n${id} sample: ${e.sample}`);
  }
  return parts.join('\n  ');
}
