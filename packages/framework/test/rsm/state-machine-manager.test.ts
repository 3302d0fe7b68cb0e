import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppliedEntry } from '../../src/api/node-service.js';
import { RaftkitError } from '../../src/common/errors.js';
import { Command, StateMachine, createStateMachineManager } from '../../src/fsm/index.js';
import {
  CommandErrorResult,
  RsmError,
  StateMachineManager,
  commandErrorToError,
  decodeCommand,
  isCommandError,
  unwrapCommandResult,
  type ReplicatedMachine,
  DuplicateCommand,
} from '../../src/rsm/index.js';
import { CounterMachine, KvMachine } from '../fsm/machines.js';
import { T0, applyAll, entry, rawEntry } from './helpers.js';

const kvManager = (opts = {}) => createStateMachineManager(new KvMachine(), opts);
const counterManager = (opts = {}) => {
  const counter = new CounterMachine();
  return { counter, m: createStateMachineManager(counter, opts) };
};
/** What a caller is answered: a retry of an applied sequence answers the first result. */
const answer = (r: unknown): any => (r instanceof DuplicateCommand ? r.result : r);
const errorOf = (r: unknown) => (assert.ok(isCommandError(r), `expected an error result, got ${JSON.stringify(r)}`), (r as CommandErrorResult).error);

test('sync commands apply in order and answer their results synchronously', () => {
  const m = kvManager();
  const results = m.apply([entry(2, 'put', { key: 'a', value: '1' }), entry(3, 'put', { key: 'b', value: '2' }), entry(4, 'delete', { key: 'a' })]);
  assert.ok(Array.isArray(results), 'no promise when every handler is synchronous');
  assert.deepEqual(results, [{ revision: 1 }, { revision: 2 }, { deleted: true, revision: 3 }]);
  assert.equal(m.appliedIndex, 4);
});

test('async handlers are awaited in order, mixed with sync ones', async () => {
  const { counter, m } = counterManager();
  const r = m.apply([entry(2, 'add', { by: 1 }), entry(3, 'addLater', { by: 10 }), entry(4, 'add', { by: 100 }), entry(5, 'addLater', { by: 1000 })]);
  assert.ok(r instanceof Promise);
  const results = (await r) as { value: number }[];
  assert.deepEqual(
    results.map((x) => x.value),
    [1, 11, 111, 1111],
  );
  assert.deepEqual(counter.log, [2, 3, 4, 5]);
  // A second apply while one is running queues behind it.
  const first = m.apply([entry(6, 'addLater', { by: 1 })]);
  const second = m.apply([entry(7, 'add', { by: 1 })]);
  assert.deepEqual(((await second) as { value: number }[])[0]!.value, 1113);
  assert.deepEqual(((await first) as { value: number }[])[0]!.value, 1112);
  assert.deepEqual(counter.log.slice(-2), [6, 7]);
});

test('a command gets its entry index, term and the leader-assigned timestamp, which never goes back', async () => {
  const { m } = counterManager();
  const [a, b] = (await applyAll(m, [entry(5, 'add', { by: 1 }, { term: 3, timestamp: T0 + 500 }), entry(6, 'add', { by: 1 }, { term: 4, timestamp: T0 + 100 })])) as {
    index: number;
    term: number;
    timestamp: number;
  }[];
  assert.deepEqual({ index: a!.index, term: a!.term, timestamp: a!.timestamp }, { index: 5, term: 3, timestamp: T0 + 500 });
  assert.deepEqual({ index: b!.index, term: b!.term, timestamp: b!.timestamp }, { index: 6, term: 4, timestamp: T0 + 500 });
  assert.equal(m.entryClock, T0 + 500);
});

test('handler errors become deterministic error results; a RaftkitError keeps its code', async () => {
  const { counter, m } = counterManager();
  const results = await applyAll(m, [entry(2, 'fail'), entry(3, 'failLater'), entry(4, 'add', { by: 'x' }), entry(5, 'nope', {}), entry(6, 'add', { by: 2 })]);
  assert.deepEqual(errorOf(results[0]), { code: 'command_failed', message: 'the counter refuses' });
  assert.deepEqual(errorOf(results[1]), { code: 'conflict', message: 'not now', details: { hint: 'later' } });
  assert.equal(errorOf(results[2]).code, 'bad_request');
  assert.deepEqual(errorOf(results[2]).details, { field: 'by', fields: [{ field: 'by', message: 'by must be an integer number' }] });
  assert.match(errorOf(results[3]).message, /no command "nope" \(commands: add, addLater, fail, failLater, reset\)/);
  assert.equal(errorOf(results[3]).code, 'unknown_command');
  assert.equal((results[4] as { value: number }).value, 2, 'later entries still apply');
  assert.equal(counter.value, 2);
  // As JSON (the watch stream and the proposer's answer) an error result is { error: { code, message } }.
  assert.equal(JSON.stringify(results[0]), '{"error":{"code":"command_failed","message":"the counter refuses"}}');
});

test('error results map to RaftkitErrors for the proposer', () => {
  const conflict = commandErrorToError(new CommandErrorResult('conflict', 'no', { hint: 1 }));
  assert.equal(conflict.code, 'conflict');
  assert.deepEqual(conflict.details, { hint: 1 });
  const failed = commandErrorToError(new CommandErrorResult('command_failed', 'boom'));
  assert.equal(failed.code, 'internal');
  assert.deepEqual(failed.details, { reason: 'command_failed' });
  assert.equal(commandErrorToError(new CommandErrorResult('stale_sequence', 'old')).code, 'conflict');
  assert.deepEqual(unwrapCommandResult({ revision: 1 }), { revision: 1 });
  assert.throws(
    () => unwrapCommandResult(new CommandErrorResult('bad_request', 'x', { field: 'k' })),
    (e: unknown) => e instanceof RaftkitError && e.details.field === 'k',
  );
});

test('results travel as plain JSON copies: undefined is null, later changes do not leak in', () => {
  const shared = { n: 1 };
  const machine: ReplicatedMachine = {
    type: 'raw',
    checkCommand: () => undefined,
    executeCommand: (name) => (name === 'obj' ? shared : name === 'big' ? { n: 10n } : undefined),
    executeQuery: () => undefined,
    captureState: () => ({}),
    restoreState: () => undefined,
  };
  const m = new StateMachineManager(machine);
  const [obj, none, big] = m.apply([entry(2, 'obj'), entry(3, 'void'), entry(4, 'big')]) as unknown[];
  shared.n = 2;
  assert.deepEqual(obj, { n: 1 });
  assert.equal(none, null);
  assert.match(errorOf(big).message, /not JSON-serialisable/);
});

test('the proposer checks the entry as replicas will decode it, and applies its own entry with the args it converted', () => {
  const checked: unknown[] = [];
  const executed: { args: unknown; prepared: unknown }[] = [];
  const machine: ReplicatedMachine = {
    type: 'raw',
    checkCommand: (_name, args) => {
      checked.push(args);
      return { value: { converted: args } };
    },
    executeCommand: (_name, args, _ctx, prepared) => {
      executed.push({ args, prepared: prepared?.value });
      return null;
    },
    executeQuery: () => undefined,
    captureState: () => ({}),
    restoreState: () => undefined,
  };
  const proposer = new StateMachineManager(machine);
  const when = new Date(0);
  const bytes = proposer.prepareCommand('x', { when, gone: undefined }, {}, T0);
  // A Date is checked as the string the entry carries; an undefined field is not there at all.
  assert.deepEqual(checked, [{ when: when.toISOString() }]);
  void proposer.apply([{ index: 2, term: 1, type: 0, data: bytes }]);
  // Another replica (and a copy of the bytes here) decodes and converts on its own.
  void new StateMachineManager(machine).apply([{ index: 2, term: 1, type: 0, data: bytes }]);
  void proposer.apply([{ index: 3, term: 1, type: 0, data: bytes.slice() }]);
  assert.deepEqual(executed, [
    { args: { when: when.toISOString() }, prepared: { converted: { when: when.toISOString() } } },
    { args: { when: when.toISOString() }, prepared: undefined },
    { args: { when: when.toISOString() }, prepared: undefined },
  ]);
});

test('corrupt entries apply as deterministic error results and never throw', () => {
  const m = kvManager();
  const results = m.apply([rawEntry(2, 'not json'), rawEntry(3, '{"c":"put"}'), rawEntry(4, new Uint8Array([0xff])), entry(5, 'put', { key: 'k', value: 'v' })]) as unknown[];
  assert.deepEqual(
    results.slice(0, 3).map((r) => errorOf(r).code),
    ['bad_entry', 'bad_entry', 'bad_entry'],
  );
  assert.match(errorOf(results[1]).message, /timestamp/);
  assert.deepEqual(results[3], { revision: 1 });
  assert.equal(m.appliedIndex, 5);
  // Same entries, same results on another replica.
  const again = kvManager().apply([rawEntry(2, 'not json'), rawEntry(3, '{"c":"put"}'), rawEntry(4, new Uint8Array([0xff]))]) as unknown[];
  assert.deepEqual(JSON.stringify(again), JSON.stringify(results.slice(0, 3)));
});

test('sessions: a duplicate sequence answers the first result and applies once', async () => {
  const { counter, m } = counterManager();
  const s = (seq: number) => ({ clientId: 'c1', sequence: seq });
  const results = (await applyAll(m, [
    entry(2, 'add', { by: 1 }, s(1)),
    entry(3, 'add', { by: 1 }, s(1)),
    entry(4, 'add', { by: 5 }, { clientId: 'c2', sequence: 1 }),
    entry(5, 'add', { by: 1 }, s(2)),
    entry(6, 'add', { by: 1 }, s(2)),
    entry(7, 'add', { by: 1 }),
    entry(8, 'add', { by: 1 }),
  ])) as { value: number; index: number }[];
  assert.deepEqual(
    results.map((r) => answer(r).value),
    [1, 1, 6, 7, 7, 8, 9],
  );
  assert.ok(results[1] instanceof DuplicateCommand);
  assert.equal((results[1] as unknown as DuplicateCommand).index, 2, 'the duplicate answers the index of the entry that applied it');
  assert.equal(answer(results[1]).index, 2, 'and its first result');
  assert.equal(counter.value, 9);
  assert.deepEqual(counter.log, [2, 4, 5, 7, 8]);
  assert.equal(m.sessionCount, 2);
});

test('sessions: an older sequence than the last answers stale_sequence; gaps are fine', async () => {
  const { counter, m } = counterManager();
  const results = await applyAll(m, [
    entry(2, 'add', { by: 1 }, { clientId: 'c', sequence: 5 }),
    entry(3, 'add', { by: 1 }, { clientId: 'c', sequence: 3 }),
    entry(4, 'add', { by: 1 }, { clientId: 'c', sequence: 9 }),
    entry(5, 'add', { by: 1 }, { clientId: 'c', sequence: 5 }),
  ]);
  assert.equal(errorOf(results[1]).code, 'stale_sequence');
  assert.match(errorOf(results[1]).message, /sequence 3 of client "c" is older than its last applied sequence 5/);
  assert.equal((results[2] as { value: number }).value, 2);
  assert.equal(errorOf(results[3]).code, 'stale_sequence');
  assert.equal(counter.value, 2);
});

test('sessions: a failed command is answered the same failure on retry, without running again', async () => {
  const { counter, m } = counterManager();
  let calls = 0;
  counter.failLater = async () => {
    calls++;
    throw new RaftkitError('conflict', `refused on call ${calls}`);
  };
  const results = await applyAll(m, [entry(2, 'failLater', undefined, { clientId: 'c', sequence: 1 }), entry(3, 'failLater', undefined, { clientId: 'c', sequence: 1 })]);
  assert.deepEqual(errorOf(results[0]), { code: 'conflict', message: 'refused on call 1' });
  assert.deepEqual(errorOf(answer(results[1])), errorOf(results[0]));
  assert.equal(calls, 1);
});

test('sessions expire by entry time, not wall time', async () => {
  const { counter, m } = counterManager({ sessionTtlMs: 1000 });
  const at = (t: number) => T0 + t;
  await applyAll(m, [
    entry(2, 'add', { by: 1 }, { clientId: 'a', sequence: 1, timestamp: at(0) }),
    entry(3, 'add', { by: 1 }, { clientId: 'b', sequence: 1, timestamp: at(600) }),
    // 'a' is used again within its TTL: a duplicate keeps the session alive.
    entry(4, 'add', { by: 1 }, { clientId: 'a', sequence: 1, timestamp: at(900) }),
    entry(5, 'add', { by: 1 }, { timestamp: at(1700) }),
  ]);
  assert.equal(counter.value, 3, 'the duplicate at 900 did not apply');
  assert.equal(m.sessionCount, 1, 'b (last used at 600) expired at 1700; a (900) did not');
  // After a's TTL the same (client, sequence) is new again.
  await applyAll(m, [entry(6, 'add', { by: 1 }, { clientId: 'a', sequence: 1, timestamp: at(2000) })]);
  assert.equal(counter.value, 4);
  assert.equal(m.sessionCount, 1);
});

test('manager options are checked', () => {
  assert.throws(
    () => kvManager({ sessionTtlMs: 0 }),
    (e: unknown) => e instanceof RsmError && e.code === 'bad_option' && /sessionTtlMs must be a positive/.test(e.message),
  );
  assert.throws(
    () => kvManager({ recentEntries: -1 }),
    (e: unknown) => e instanceof RsmError && /recentEntries must be an integer >= 0/.test(e.message),
  );
  assert.throws(
    () => kvManager({ snapshotHistory: 1.5 }),
    (e: unknown) => e instanceof RsmError && /snapshotHistory must be an integer >= 0/.test(e.message),
  );
});

test('the default snapshot carries fields (a Map too) and sessions; restore brings both back', async () => {
  const a = kvManager();
  void a.apply([
    entry(2, 'put', { key: 'x', value: '1' }, { clientId: 'c', sequence: 1 }),
    entry(3, 'put', { key: 'y', value: '2' }),
    entry(4, 'cas', { key: 'z', expected: null, value: '3' }, { clientId: 'd', sequence: 4 }),
    entry(5, 'fail-unknown', {}, { clientId: 'e', sequence: 1 }),
  ]);
  const bytes = await a.snapshot();
  const b = kvManager();
  void b.apply([entry(2, 'put', { key: 'stale', value: 'gone' })]);
  await b.restore(bytes);
  const kv = (b.machine as unknown as { instance: KvMachine }).instance;
  assert.ok(kv.data instanceof Map);
  assert.deepEqual([...kv.data.keys()], ['x', 'y', 'z']);
  assert.equal(kv.revision, 3);
  assert.equal(b.appliedIndex, 5);
  assert.equal(b.sessionCount, 3);
  assert.deepEqual(await b.query('get', { key: 'x' }), { value: '1', revision: 1 });
  // Sessions survived: the retries answer the first results and change nothing.
  const retried = b.apply([
    entry(6, 'put', { key: 'x', value: 'again' }, { clientId: 'c', sequence: 1 }),
    entry(7, 'cas', { key: 'z', expected: null, value: 'again' }, { clientId: 'd', sequence: 4 }),
    entry(8, 'fail-unknown', {}, { clientId: 'e', sequence: 1 }),
  ]) as unknown[];
  assert.deepEqual(retried.slice(0, 2).map(answer), [{ revision: 1 }, { succeeded: true, revision: 3 }]);
  assert.deepEqual(
    retried.slice(0, 2).map((r) => (r as DuplicateCommand).index),
    [2, 4],
    'each answers the index that applied it',
  );
  assert.ok(isCommandError(answer(retried[2])), 'a restored error result is still an error result');
  assert.equal(errorOf(answer(retried[2])).code, 'unknown_command');
  assert.equal(kv.revision, 3);
  // Both replicas, fed the same entries, now serialise to the same bytes.
  void a.apply([
    entry(6, 'put', { key: 'x', value: 'again' }, { clientId: 'c', sequence: 1 }),
    entry(7, 'cas', { key: 'z', expected: null, value: 'again' }, { clientId: 'd', sequence: 4 }),
    entry(8, 'fail-unknown', {}, { clientId: 'e', sequence: 1 }),
  ]);
  assert.deepEqual(await b.snapshot(), await a.snapshot());
});

@StateMachine('holder')
class Holder {
  leader: string | undefined = undefined;
  n = 0;
  @Command() set(): void {
    this.leader = 'me';
    this.n++;
  }
}

test('the default restore resets fields that were undefined when captured', async () => {
  const snap = await createStateMachineManager(new Holder()).snapshot();
  const holder = new Holder();
  const b = createStateMachineManager(holder);
  void b.apply([entry(2, 'set')]);
  assert.equal(holder.leader, 'me');
  await b.restore(snap);
  assert.equal(holder.leader, undefined);
  assert.equal(holder.n, 0);
});

test('a custom @Snapshot/@Restore pair is used, and async restore is awaited', async () => {
  const { m } = counterManager();
  await applyAll(m, [entry(2, 'add', { by: 3 }), entry(3, 'add', { by: 4 })]);
  const captured = m.captureSnapshot();
  assert.equal(captured.index, 3);
  await applyAll(m, [entry(4, 'add', { by: 100 })]);
  const bytes = await captured.serialize();
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { version: number; type: string; index: number; state: unknown };
  assert.deepEqual(
    { version: parsed.version, type: parsed.type, index: parsed.index, state: parsed.state },
    { version: 1, type: 'counter', index: 3, state: { v: 7, log: [2, 3] } },
  );
  const other = counterManager();
  await other.m.restore(bytes);
  assert.equal(other.counter.value, 7, 'the capture is the state at its index, not at serialisation');
  assert.equal(other.counter.restores, 1);
});

test('a snapshot cannot be captured mid-apply; snapshot() waits for the apply', async () => {
  const { m } = counterManager();
  const applying = m.apply([entry(2, 'addLater', { by: 5 })]);
  assert.throws(
    () => m.captureSnapshot(),
    (e: unknown) => e instanceof RsmError && e.code === 'busy',
  );
  const bytes = await m.snapshot();
  await applying;
  assert.equal((JSON.parse(new TextDecoder().decode(bytes)) as { state: { v: number } }).state.v, 5);
});

test('snapshot hooks that misbehave give clear errors', async () => {
  const { m } = counterManager();
  const counter = (m.machine as unknown as { instance: CounterMachine }).instance;
  counter.save = (() => Promise.resolve({ v: 1, log: [] })) as never;
  assert.throws(
    () => m.captureSnapshot(),
    (e: unknown) => e instanceof RsmError && e.code === 'snapshot_failed' && /returned a promise/.test(e.message),
  );
  counter.save = (() => {
    throw new Error('disk on fire');
  }) as never;
  assert.throws(
    () => m.captureSnapshot(),
    (e: unknown) => e instanceof RsmError && /could not capture its state: disk on fire/.test(e.message),
  );
  counter.save = (() => ({ v: 10n })) as never;
  await assert.rejects(m.captureSnapshot().serialize(), (e: unknown) => e instanceof RsmError && /not JSON-serialisable/.test(e.message));

  const kv = new KvMachine();
  (kv as unknown as { data: Map<unknown, unknown> }).data.set(1, { value: 'v', revision: 1 });
  assert.throws(
    () => createStateMachineManager(kv).captureSnapshot(),
    (e: unknown) => e instanceof RsmError && /field "data" of KvMachine is a Map with a number key/.test(e.message),
  );
});

test('restore refuses bad data with a clear error and changes nothing', async () => {
  const a = kvManager();
  void a.apply([entry(2, 'put', { key: 'k', value: 'v' }, { clientId: 'c', sequence: 1 })]);
  const good = await a.snapshot();
  const text = new TextDecoder().decode(good);
  const enc = (s: string) => new TextEncoder().encode(s);
  const bad = async (data: Uint8Array, pattern: RegExp) => {
    const b = kvManager();
    void b.apply([entry(2, 'put', { key: 'mine', value: '1' })]);
    await assert.rejects(b.restore(data), (e: unknown) => e instanceof RsmError && e.code === 'bad_snapshot' && pattern.test(e.message));
    assert.deepEqual(await b.query('get', { key: 'mine' }), { value: '1', revision: 1 }, 'state unchanged');
    assert.equal(b.appliedIndex, 2);
  };
  await bad(new Uint8Array(0), /is empty/);
  await bad(enc('garbage'), /not UTF-8 JSON/);
  await bad(enc('[]'), /not a JSON object/);
  await bad(enc(text.replace('"version":1', '"version":9')), /version 9 is not supported; this build reads version 1/);
  await bad(enc(text.replace('"type":"kv"', '"type":"counter"')), /type "counter" cannot restore a "kv" state machine/);
  await bad(enc(text.replace('"index":2', '"index":-2')), /index and term/);
  await bad(enc(text.replace('"sessions":[["c",1,', '"sessions":[["c",0,')), /session #0 has a bad sequence/);
  await bad(enc(text.replace(/"state":.*}$/, '"state":[1]}')), /could not restore the snapshot's state: the default restore of KvMachine expects an object/);
  const counter = counterManager();
  await assert.rejects(counter.m.restore(enc('{"version":1,"type":"counter","index":1,"term":1,"clock":0,"sessions":[],"state":{}}')), /counter snapshot needs a number v/);
});

test('every applied entry is emitted to listeners and kept in a ring for resuming watches', async () => {
  const m = kvManager({ recentEntries: 3 });
  assert.deepEqual(m.recent(0), [], 'a fresh manager serves a watch from the start');
  const seen: AppliedEntry[] = [];
  const off = m.onApplied((e) => seen.push(e));
  m.onApplied(() => {
    throw new Error('a broken watcher');
  });
  void m.apply([
    entry(2, 'put', { key: 'a', value: '1' }, { term: 2 }),
    rawEntry(4, 'junk'),
    entry(5, 'put', { key: 'a', value: '1' }, { clientId: 'c', sequence: 1 }),
    entry(7, 'put', { key: 'a', value: '1' }, { clientId: 'c', sequence: 1 }),
  ]);
  assert.deepEqual(seen[0], { index: 2, term: 2, command: 'put', args: { key: 'a', value: '1' }, result: { revision: 1 } });
  assert.equal(seen[1]!.command, '');
  assert.equal((seen[1]!.result as CommandErrorResult).error.code, 'bad_entry');
  // The retry at 7 changed nothing: watchers do not see it (its caller is answered index 5).
  assert.deepEqual(
    seen.map((e) => e.index),
    [2, 4, 5],
  );
  assert.equal(m.appliedIndex, 7);
  void m.apply([entry(8, 'put', { key: 'b', value: '2' })]);
  // The ring holds the last 3: index 2 was evicted, so from <= 2 cannot resume.
  assert.equal(m.recent(2), undefined);
  assert.equal(m.recentFrom, 3);
  assert.deepEqual(
    m.recent(3)!.map((e) => e.index),
    [4, 5, 8],
  );
  assert.deepEqual(
    m.recent(6)!.map((e) => e.index),
    [8],
  );
  assert.deepEqual(m.recent(9), []);
  off();
  void m.apply([entry(9, 'put', { key: 'b', value: '3' })]);
  assert.equal(seen.length, 4, 'unsubscribed');
  assert.deepEqual(
    m.recent(5)!.map((e) => e.index),
    [5, 8, 9],
  );
  // Decoding the same entry again gives the same args the watch showed.
  assert.deepEqual(decodeCommand(entry(2, 'put', { key: 'a', value: '1' }).data).args, seen[0]!.args);
});

test('a restore restarts the ring after the snapshot and tells restore listeners', async () => {
  const a = kvManager();
  void a.apply([entry(2, 'put', { key: 'a', value: '1' }), entry(3, 'put', { key: 'b', value: '2' })]);
  const bytes = await a.snapshot();
  const b = kvManager();
  void b.apply([entry(2, 'put', { key: 'z', value: '0' })]);
  const restored: number[] = [];
  b.onRestored((i) => restored.push(i));
  await b.restore(bytes);
  assert.deepEqual(restored, [3]);
  assert.equal(b.recent(3), undefined);
  assert.deepEqual(b.recent(4), []);
  void b.apply([entry(6, 'put', { key: 'c', value: '3' })]);
  assert.deepEqual(
    b.recent(4)!.map((e) => e.index),
    [6],
  );
});

test('a snapshot carries the latest applied entries, so a restarted node still shows them to a watch', async () => {
  const a = kvManager({ snapshotHistory: 4 });
  const log = [
    entry(2, 'put', { key: 'a', value: '1' }),
    rawEntry(3, 'junk'),
    entry(4, 'put', { key: 'b', value: '2' }, { clientId: 'c', sequence: 1 }),
    entry(5, 'put', { key: 'b', value: '2' }, { clientId: 'c', sequence: 1 }),
    entry(6, 'delete', { key: 'a' }),
    entry(7, 'put', { key: 'c', value: '3' }),
  ];
  void a.apply(log);
  const bytes = await a.snapshot();
  const shown = JSON.parse(JSON.stringify(a.recent(1)));
  // The latest 4 indexes are 4..7: 4, 6 and 7 were shown (the duplicate at 5 never was).
  const b = kvManager({ snapshotHistory: 4 });
  await b.restore(bytes);
  assert.equal(b.recentFrom, 4);
  assert.equal(b.recent(3), undefined);
  assert.deepEqual(
    JSON.parse(JSON.stringify(b.recent(4))),
    shown.filter((e: AppliedEntry) => e.index >= 4),
  );
  void b.apply([entry(8, 'put', { key: 'd', value: '4' })]);
  assert.deepEqual(
    b.recent(4)!.map((e) => e.index),
    [4, 6, 7, 8],
  );
  // The restored node's next snapshot carries the latest 4 indexes again (5..8), from what it holds.
  const c = kvManager();
  await c.restore(await b.snapshot());
  assert.equal(c.recentFrom, 5);
  assert.deepEqual(
    c.recent(5)!.map((e) => e.index),
    [6, 7, 8],
  );
  // Without history (snapshotHistory 0, or a snapshot from before it existed) the ring restarts after the snapshot.
  const plain = kvManager();
  void plain.apply(log);
  const d = kvManager({ snapshotHistory: 4 });
  await d.restore(await plain.snapshot());
  assert.equal(d.recentFrom, 8);
  assert.doesNotMatch(new TextDecoder().decode(await plain.snapshot()), /"history"/);
});

test('the history a snapshot carries is bounded in bytes, newest entries first', async () => {
  const a = kvManager({ snapshotHistory: 100 });
  const big = 'x'.repeat(1 << 20);
  void a.apply([2, 3, 4, 5, 6, 7].map((i) => entry(i, 'put', { key: `k${i}`, value: big })));
  const b = kvManager();
  await b.restore(await a.snapshot());
  // 4 MiB hold the last 3 entries of a little more than 1 MiB each, not a 4th.
  assert.equal(b.recentFrom, 5);
  assert.deepEqual(
    b.recent(5)!.map((e) => e.index),
    [5, 6, 7],
  );
});

test('a bad history is a bad snapshot', async () => {
  const a = kvManager({ snapshotHistory: 2 });
  void a.apply([entry(2, 'put', { key: 'a', value: '1' }), entry(3, 'put', { key: 'a', value: '2' })]);
  const text = new TextDecoder().decode(await a.snapshot());
  assert.match(text, /"history":\{"from":2,"entries":\[\{"index":2,"term":1,"command":"put","args":\{"key":"a","value":"1"\},"result":\{"revision":1\}\}/);
  const enc = (s: string) => new TextEncoder().encode(s);
  for (const [bad, pattern] of [
    [text.replace('"from":2', '"from":9'), /"from" must be an integer between 0 and 4/],
    [text.replace('"entries":[', '"entries":7,"x":['), /"entries" must be an array/],
    [text.replace('{"index":2,', '{"index":3,'), /entry index 3 is out of order/],
    [text.replace('"entries":[', '"entries":[[2],'), /entries must be objects/],
    [text.replace('"term":1,"command":"put","args":{"key":"a","value":"1"}', '"term":1,"args":{"key":"a","value":"1"}'), /entry 2 needs a term, a command, args and a result/],
  ] as const) {
    const b = kvManager();
    void b.apply([entry(2, 'put', { key: 'mine', value: '1' })]);
    await assert.rejects(b.restore(enc(bad)), (e: unknown) => e instanceof RsmError && e.code === 'bad_snapshot' && pattern.test(e.message), bad);
    assert.deepEqual(
      b.recent(2)!.map((e) => e.args),
      [{ key: 'mine', value: '1' }],
      'nothing changed',
    );
  }
});

test('queries run on the current state with validated args; unknown queries are 404s', async () => {
  const { m } = counterManager();
  await applyAll(m, [entry(2, 'add', { by: 2 })]);
  assert.equal(await m.query('current', undefined), 2);
  assert.equal(await m.query('currentLater', {}), 2);
  const applying = m.apply([entry(3, 'addLater', { by: 1 })]);
  assert.equal(await m.query('current', undefined), 3, 'a query waits for the command being applied');
  await applying;
  await assert.rejects(m.query('nope', {}), (e: unknown) => e instanceof RaftkitError && e.code === 'unknown_query');
  const kv = kvManager();
  await assert.rejects(kv.query('get', { key: 1 }), (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && e.details.field === 'key');
  await assert.rejects(kv.query('range', { prefix: 'a', limit: 0 }), (e: unknown) => e instanceof RaftkitError && e.details.field === 'limit');
});

test('prepareCommand validates before encoding, so nothing bad is proposed', () => {
  const m = kvManager();
  const bytes = m.prepareCommand('put', { key: 'k', value: 'v' }, { clientId: 'c', sequence: 3 }, 42);
  assert.deepEqual(decodeCommand(bytes), { command: 'put', args: { key: 'k', value: 'v' }, clientId: 'c', sequence: 3, timestamp: 42 });
  assert.throws(
    () => m.prepareCommand('put', { key: 'k' }),
    (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && e.details.field === 'value',
  );
  assert.throws(
    () => m.prepareCommand('nope', {}),
    (e: unknown) => e instanceof RaftkitError && e.code === 'unknown_command',
  );
  assert.throws(
    () => m.prepareCommand('put', { key: 'k', value: 'v' }, { sequence: 1 }),
    (e: unknown) => e instanceof RaftkitError && /both or neither/.test(e.message),
  );
  const now = Date.now();
  assert.ok(decodeCommand(m.prepareCommand('put', { key: 'k', value: 'v' })).timestamp >= now);
});

test('whenApplied resolves as soon as an apply or a restore reaches the index, and false at its timeout', async () => {
  const m = kvManager();
  void m.apply([entry(2, 'put', { key: 'a', value: '1' })]);
  assert.equal(await m.whenApplied(2, 1), true, 'already applied: at once');
  const settled: string[] = [];
  const four = m.whenApplied(4, 5_000).then((r) => settled.push(`4:${r}`));
  const six = m.whenApplied(6, 5_000).then((r) => settled.push(`6:${r}`));
  const never = m.whenApplied(100, 30).then((r) => settled.push(`100:${r}`));
  void m.apply([entry(3, 'put', { key: 'b', value: '2' })]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(settled, [], 'index 3 releases nobody');
  void m.apply([entry(4, 'put', { key: 'c', value: '3' }), entry(5, 'put', { key: 'd', value: '4' })]);
  await four;
  assert.deepEqual(settled, ['4:true']);
  // A snapshot at 7 installed in place of the state reaches 6 too.
  const other = kvManager();
  void other.apply([entry(2, 'put', { key: 'a', value: '1' }), entry(7, 'put', { key: 'z', value: '9' })]);
  await m.restore(await other.snapshot());
  await six;
  assert.deepEqual(settled, ['4:true', '6:true']);
  await never;
  assert.deepEqual(settled, ['4:true', '6:true', '100:false']);
});
