// At most once without a session: internal request keys, the table that drops a second copy,
// and the manager applying it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStateMachineManager } from '../../src/fsm/index.js';
import {
  CommandErrorResult,
  DuplicateCommand,
  MAX_RECORDS_PER_ORIGIN,
  RequestKeyAllocator,
  RequestTable,
  RsmError,
  decodeCommand,
  encodeCommand,
  formatRequestKey,
  isCommandError,
  parseRequestKey,
  type RequestKey,
} from '../../src/rsm/index.js';
import { RaftkitError } from '../../src/common/errors.js';
import type { AppliedEntry } from '../../src/api/node-service.js';
import { KvMachine } from '../fsm/machines.js';
import { T0, applyAll, entry } from './helpers.js';

const key = (seq: number, floor = 1, origin = '2.abc'): RequestKey => ({ origin, seq, floor });

test('request keys round-trip through the header form; malformed ones are refused', () => {
  const k = key(42, 40, '3.0f1e2d');
  assert.equal(formatRequestKey(k), '3.0f1e2d:42:40');
  assert.deepEqual(parseRequestKey('3.0f1e2d:42:40'), k);
  for (const bad of ['', '3.0f:42', '3.0f:0:0', '3.0f:5:6', 'a b:1:1', `${'x'.repeat(65)}:1:1`, '3.0f:01:0', '3.0f:1:-1', '3.0f:99999999999999999:0']) {
    assert.equal(parseRequestKey(bad), undefined, bad);
  }
});

test('the allocator hands out increasing keys whose floor is the lowest one still open', () => {
  const a = new RequestKeyAllocator('1.aa');
  const k1 = a.allocate();
  const k2 = a.allocate();
  const k3 = a.allocate();
  assert.deepEqual([k1.key.seq, k2.key.seq, k3.key.seq], [1, 2, 3]);
  assert.deepEqual([k1.key.floor, k2.key.floor, k3.key.floor], [1, 1, 1]);
  k2.release();
  assert.equal(a.allocate().key.floor, 1, 'seq 1 is still open');
  k1.release();
  k1.release(); // twice is harmless
  const k5 = a.allocate();
  assert.equal(k5.key.floor, 3, 'seqs 1 and 2 are done');
  k3.release();
  assert.equal(a.openCount, 2);
  assert.throws(() => new RequestKeyAllocator('bad origin'), RsmError);
});

test('the table: new, then duplicate with the first result; below the floor expired', () => {
  const t = new RequestTable(60_000);
  assert.deepEqual(t.admit(key(1), T0), { kind: 'new' });
  t.record(key(1), { revision: 1 }, 10);
  assert.deepEqual(t.admit(key(3), T0), { kind: 'new' });
  t.record(key(3), { revision: 2 }, 11);
  // The same key again, also with a newer floor from a later copy: the first result.
  assert.deepEqual(t.admit(key(1), T0), { kind: 'duplicate', index: 10, result: { revision: 1 } });
  // Out of order within the window is fine: seq 2 commits after 3.
  assert.deepEqual(t.admit(key(2), T0), { kind: 'new' });
  t.record(key(2), { revision: 3 }, 12);
  // An entry saying the origin waits for nothing below 3 drops 1 and 2; a late copy of them is expired.
  assert.deepEqual(t.admit(key(4, 3), T0), { kind: 'new' });
  t.record(key(4, 3), null, 13);
  assert.deepEqual(t.admit(key(1), T0), { kind: 'expired', floor: 3 });
  // Seq 2 was applied after 3, so it sits behind 3 and is pruned only when the front reaches it;
  // until then a copy of it is answered its first result. Either way it is not applied again.
  assert.deepEqual(t.admit(key(2, 2), T0), { kind: 'duplicate', index: 12, result: { revision: 3 } }, 'an older floor never lowers it');
  assert.deepEqual(t.admit(key(3), T0), { kind: 'duplicate', index: 11, result: { revision: 2 } });
  assert.deepEqual(t.admit(key(5, 5), T0), { kind: 'new' });
  assert.deepEqual(t.admit(key(2, 2), T0), { kind: 'expired', floor: 5 });
  assert.equal(t.records, 0, 'everything below the floor is gone');
  // Origins are separate.
  assert.deepEqual(t.admit(key(1, 1, '9.ff'), T0), { kind: 'new' });
});

test('the table forgets an origin idle past the TTL (entry time), and bounds each origin', () => {
  const t = new RequestTable(1_000);
  t.admit(key(1, 1, 'a'), T0);
  t.record(key(1, 1, 'a'), 'x', 1);
  t.admit(key(1, 1, 'b'), T0 + 600);
  t.record(key(1, 1, 'b'), 'y', 2);
  assert.equal(t.expire(T0 + 1_200), 1);
  assert.equal(t.size, 1);
  assert.deepEqual(t.admit(key(1, 1, 'b'), T0 + 1_200), { kind: 'duplicate', index: 2, result: 'y' });

  const big = new RequestTable(1_000);
  for (let s = 1; s <= MAX_RECORDS_PER_ORIGIN + 5; s++) {
    assert.equal(big.admit(key(s), T0).kind, 'new');
    big.record(key(s), s, s);
  }
  assert.equal(big.records, MAX_RECORDS_PER_ORIGIN);
  assert.equal(big.admit(key(1), T0).kind, 'expired', 'the oldest were dropped as answered, never applied again');
  assert.equal(big.admit(key(MAX_RECORDS_PER_ORIGIN + 5), T0).kind, 'duplicate');
});

test('the table survives a snapshot round trip and refuses malformed tuples', () => {
  const t = new RequestTable(60_000);
  t.admit(key(1), T0);
  t.record(key(1), { ok: 1 }, 5);
  t.admit(key(2), T0 + 1);
  t.record(key(2), new CommandErrorResult('bad_request', 'no'), 6);
  const copy = RequestTable.fromTuples(60_000, JSON.parse(JSON.stringify(t.toTuples())));
  assert.deepEqual(copy.toTuples(), t.toTuples());
  const dup = copy.admit(key(2), T0 + 2);
  assert.equal(dup.kind, 'duplicate');
  assert.ok(dup.kind === 'duplicate' && isCommandError(dup.result));
  assert.equal(RequestTable.fromTuples(1, undefined).size, 0, 'snapshots from before request keys');
  for (const bad of [
    {},
    [[1, 2]],
    [['o', -1, 0, []]],
    [['o', 0, 0, [[1, 1, null, 2]]]],
    [['o', 0, 0, [[1, 1, 'x', 1]]]],
    [
      ['o', 0, 0, []],
      ['o', 0, 0, []],
    ],
  ]) {
    assert.throws(
      () => RequestTable.fromTuples(1, bad),
      (e: unknown) => e instanceof RsmError && e.code === 'bad_snapshot',
      JSON.stringify(bad),
    );
  }
});

test('the codec carries the key; a session and a key together are refused', () => {
  const bytes = encodeCommand({ command: 'put', args: { a: 1 }, timestamp: T0, request: key(7, 5) });
  assert.deepEqual(decodeCommand(bytes).request, key(7, 5));
  assert.throws(() => encodeCommand({ command: 'put', args: {}, timestamp: T0, request: key(7, 5), clientId: 'c', sequence: 1 }), RaftkitError);
  assert.throws(() => encodeCommand({ command: 'put', args: {}, timestamp: T0, request: { origin: 'o', seq: 3, floor: 4 } }), RaftkitError);
  const forged = new TextEncoder().encode(JSON.stringify({ c: 'put', t: T0, r: ['o', 1] }));
  assert.throws(() => decodeCommand(forged), RsmError);
});

test('a second copy of a keyed command is not applied: it answers the first result, and watchers see one entry', async () => {
  const m = createStateMachineManager(new KvMachine());
  const seen: AppliedEntry[] = [];
  m.onApplied((e) => seen.push(e));
  const put = (index: number, k: RequestKey, value: string) => entry(index, 'put', { key: 'x', value }, { request: k });
  const r = await applyAll(m, [put(2, key(1), 'one'), put(3, key(2), 'two'), put(4, key(1), 'one'), entry(5, 'put', { key: 'y', value: 'z' }, { request: key(3, 1, '3.other') })]);
  assert.deepEqual(r[0], { revision: 1 });
  assert.ok(r[2] instanceof DuplicateCommand);
  assert.deepEqual([(r[2] as DuplicateCommand).index, (r[2] as DuplicateCommand).result], [2, { revision: 1 }]);
  assert.deepEqual(await m.query('get', { key: 'x' }), { value: 'two', revision: 2 }, 'the copy did not overwrite the later write');
  assert.deepEqual(
    seen.map((e) => e.index),
    [2, 3, 5],
  );
  assert.equal(m.appliedIndex, 5);
  // A copy that commits after its origin moved its floor past it is refused, deterministically.
  const late = await applyAll(m, [put(6, key(4, 4), 'four'), put(7, key(2, 1), 'two')]);
  assert.ok(late[1] instanceof DuplicateCommand === false && isCommandError(late[1]) && (late[1] as CommandErrorResult).error.code === 'request_expired');
  // The table travels in snapshots: a restored replica drops the copy too.
  const replica = createStateMachineManager(new KvMachine());
  await replica.restore(await m.snapshot());
  const again = await applyAll(replica, [put(8, key(4, 4), 'four')]);
  assert.ok(again[0] instanceof DuplicateCommand);
  assert.equal(replica.requestRecordCount, m.requestRecordCount);
});

test('prepareCommand puts the key in the entry unless a client session is given', () => {
  const m = createStateMachineManager(new KvMachine());
  assert.deepEqual(decodeCommand(m.prepareCommand('put', { key: 'a', value: 'b' }, { request: key(9) })).request, key(9));
  const withSession = decodeCommand(m.prepareCommand('put', { key: 'a', value: 'b' }, { clientId: 'c', sequence: 1, request: key(9) }));
  assert.equal(withSession.request, undefined);
  assert.equal(withSession.clientId, 'c');
});
