// The state machine: error results that change nothing but the applied index, restart without
// re-application, snapshots between two instances, the quota and the NOSPACE alarm, the cluster
// id, and the argument classes as the framework checks them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { convertArgs, describeStateMachine } from '@raftkit/framework/fsm';
import { MetaMachine } from '../../src/machine/meta.machine.js';
import { MachineFixture } from './machine-fixture.js';

function fixture(t: { after: (f: () => void) => void }, o = {}): MachineFixture {
  const f = new MachineFixture(o);
  t.after(() => f.close());
  return f;
}

const B = (s: string) => Buffer.from(s).toString('base64');

test("a refused command answers etcd's code, changes nothing, and still records its index", (t) => {
  const f = fixture(t);
  f.put('a', '1');
  const r = f.command('put', { key: B('b'), lease: '77' });
  assert.deepEqual(r, { error: 'lease_not_found' });
  assert.equal(f.machine.store.counters.revision, 2);
  assert.equal(f.machine.store.counters.appliedIndex, 2);
  assert.deepEqual(f.command('compact', { revision: 9 }), { error: 'future_rev' });
  assert.deepEqual(f.command('put', { key: '' }), { error: 'empty_key' });
  assert.equal(f.reopen(), 4, 'open() answers the last index, refused entries included');
});

test('restart: the machine reopens at its index with its data; the cluster id stays the one the first entry chose', (t) => {
  const f = fixture(t);
  f.put('a', '1');
  const clusterId = f.machine.store.counters.clusterId;
  assert.notEqual(clusterId, 0n);
  f.put('b', '2');
  const index = f.index;
  assert.equal(f.reopen(), index);
  assert.equal(f.get('b'), '2');
  assert.equal(f.machine.store.counters.clusterId, clusterId);
  assert.equal(f.machine.store.counters.revision, 3);
});

test('snapshot: one instance saves while it goes on applying, another recovers the same content at the pinned index', async (t) => {
  const a = fixture(t);
  const b = fixture(t);
  for (let i = 0; i < 50; i++) a.put(`k${i}`, `v${i}`);
  a.ok('leaseGrant', { ttl: 30, id: '5' });
  const pinned = a.machine.prepareSnapshot();
  const pinnedIndex = a.index;
  const pinnedSize = a.machine.store.counters.sizeBytes;
  a.put('after', 'the pin'); // not in the snapshot
  const file = join(b.dir, 'incoming.snap');
  await a.machine.saveSnapshot(pinned, file);
  let restored = 0;
  b.machine.onRestored(() => restored++);
  await b.machine.recoverFromSnapshot(file);
  assert.equal(restored, 1);
  assert.equal(b.machine.store.counters.appliedIndex, pinnedIndex);
  assert.equal(b.get('k49'), 'v49');
  assert.equal(b.get('after'), undefined);
  assert.deepEqual(b.machine.store.leaseIds(), [5n]);
  assert.equal(b.machine.store.counters.sizeBytes, pinnedSize, 'counters travel with the file');
  assert.equal(b.machine.store.counters.clusterId, a.machine.store.counters.clusterId);
});

test('quota: a write past it raises NOSPACE on every replica alike; deletes, compaction and revokes pass; disarming lets writes in', (t) => {
  const f = fixture(t);
  f.ok('leaseGrant', { ttl: 60, id: '1' });
  f.put('small', 'x', { quotaBytes: 2000 });
  assert.deepEqual(f.put('big', 'y'.repeat(1000), { quotaBytes: 2000 }), { error: 'no_space' });
  assert.deepEqual(f.ok('alarm', { action: 'get' }).alarms, [{ memberId: '0', alarm: 'nospace' }]);
  assert.deepEqual(f.put('tiny', 'z', { quotaBytes: 1 << 30 }), { error: 'no_space' }, 'the alarm refuses even what would fit');
  assert.deepEqual(f.command('leaseGrant', { ttl: 60 }), { error: 'no_space' });
  assert.deepEqual(f.command('txn', { success: [{ put: { key: B('t') } }] }), { error: 'no_space' });
  f.ok('txn', { success: [{ range: { key: B('small') } }] });
  f.ok('deleteRange', { key: B('small') });
  f.ok('compact', { revision: f.machine.store.counters.revision });
  f.ok('leaseRevoke', { id: '1' });
  assert.equal(f.ok('alarm', { action: 'deactivate', memberId: '0', alarm: 'nospace' }).alarms.length, 1);
  f.put('tiny', 'z', { quotaBytes: 1 << 30 });
  assert.equal(f.get('tiny'), 'z');
});

test('alarms: activate and deactivate per member, get lists them all or by type', (t) => {
  const f = fixture(t);
  f.ok('alarm', { action: 'activate', memberId: '18446744073709551615', alarm: 'corrupt' });
  f.ok('alarm', { action: 'activate', memberId: '2', alarm: 'nospace' });
  assert.equal(f.ok('alarm', { action: 'get' }).alarms.length, 2);
  assert.deepEqual(f.ok('alarm', { action: 'get', alarm: 'corrupt' }).alarms, [{ memberId: '18446744073709551615', alarm: 'corrupt' }]);
  assert.deepEqual(f.ok('alarm', { action: 'deactivate', memberId: '3', alarm: 'nospace' }).alarms, [], 'not that member');
  f.ok('alarm', { action: 'deactivate', memberId: '2', alarm: 'nospace' });
  assert.equal(f.ok('alarm', { action: 'get' }).alarms.length, 1);
});

test('the argument classes refuse bad JSON before it is proposed, naming the field', () => {
  const d = describeStateMachine(MetaMachine);
  const h = (name: string) => d.commands.get(name) ?? d.queries.get(name)!;
  const refused = (name: string, args: unknown, field: RegExp) =>
    assert.throws(
      () => convertArgs(h(name), args),
      (e: Error) => field.test(e.message),
    );
  refused('put', { key: 'not base64!' }, /key must be base64/);
  refused('put', { key: B('k'), lease: 12 }, /lease must be a 64-bit integer/);
  refused('put', { key: B('k'), extra: 1 }, /extra/);
  refused('txn', { success: [{ put: { key: B('k') }, range: { key: B('k') } }] }, /success\[0\] must have exactly one/);
  refused('txn', { success: [{ txn: { failure: [{ put: { key: B('k'), value: 5 } }] } }] }, /success\[0\]\.txn\.failure\[0\]\.put\.value must be base64/);
  refused('txn', { compare: [{ key: B('k'), result: 'equal', target: 'size' }] }, /compare\[0\]\.target/);
  refused('leaseExpire', { ids: ['1', 'x'] }, /ids\[1\]/);
  refused('range', { key: B('k'), sortOrder: 'sideways' }, /sortOrder/);
  assert.doesNotThrow(() => convertArgs(h('txn'), { compare: [{ key: B('k'), result: 'equal', target: 'version' }], success: [{ put: { key: B('k'), value: B('v') } }] }));
  assert.doesNotThrow(() => convertArgs(h('put'), { key: B('k'), value: '', lease: '-9223372036854775808' }));
});
