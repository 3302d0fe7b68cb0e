// Leases in log time, at the machine: the entry's timestamp is the only clock. A keep-alive
// committed before the expiry entry wins; the expiry entry revokes only what its own timestamp
// says is expired, so a lease never expires before ttl after its last renewal; ids the store
// picks are the same on every replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MachineFixture } from '../machine/machine-fixture.js';
import { isWireError } from '../../src/codec/wire-types.js';
import { grantedTtl, minLeaseTtl, remainingSeconds } from '../../src/leases/lease-rules.js';

function fixture(t: { after: (f: () => void) => void }): MachineFixture {
  const f = new MachineFixture();
  t.after(() => f.close());
  return f;
}

test('lease ids the store picks come from the entry: two replicas applying the same entries pick the same, distinct, positive ids', (t) => {
  const a = fixture(t);
  const b = fixture(t);
  const ids: string[][] = [[], []];
  for (const [i, f] of [a, b].entries()) {
    for (let n = 0; n < 20; n++) {
      f.now += 7;
      ids[i]!.push(f.ok('leaseGrant', { ttl: 30 }).id);
    }
  }
  assert.deepEqual(ids[0], ids[1]);
  assert.equal(new Set(ids[0]).size, 20);
  assert.ok(ids[0]!.every((id) => BigInt(id) > 0n && BigInt(id) < 1n << 63n));
  assert.deepEqual(a.machine.store.leaseIds(), b.machine.store.leaseIds());
});

test("grant: a chosen id, lease_exists on reuse, lease_ttl_too_large past etcd's maximum; the minimum TTL follows the election timeout", (t) => {
  const f = fixture(t);
  assert.equal(f.ok('leaseGrant', { ttl: 10, id: '42' }).id, '42');
  assert.deepEqual(f.command('leaseGrant', { ttl: 10, id: '42' }), { error: 'lease_exists' });
  assert.deepEqual(f.command('leaseGrant', { ttl: 9_000_000_001 }), { error: 'lease_ttl_too_large' });
  assert.equal(minLeaseTtl(1000), 2, 'etcd: 1.5 election timeouts, rounded up');
  assert.equal(minLeaseTtl(300), 1);
  assert.equal(grantedTtl(1, 5000), 8);
  assert.equal(grantedTtl(60, 1000), 60);
});

test("expiry happens only through leaseExpire, and only for leases expired by that entry's timestamp: never before ttl", (t) => {
  const f = fixture(t);
  const t0 = f.now;
  const id = f.ok('leaseGrant', { ttl: 10 }).id as string;
  f.put('held', 'v', { lease: BigInt(id) });
  // The leader asks early (its clock ahead, say): the entry's own timestamp decides.
  f.now = t0 + 9_999;
  assert.deepEqual(f.ok('leaseExpire', { ids: [id] }).expired, []);
  assert.equal(f.get('held'), 'v');
  f.now = t0 + 10_000;
  const rev = f.machine.store.counters.revision;
  assert.deepEqual(f.ok('leaseExpire', { ids: [id, '999'] }).expired, [id], 'an unknown id is skipped');
  assert.equal(f.get('held'), undefined, 'its keys go with it');
  assert.equal(f.machine.store.counters.revision, rev + 1, 'in one revision');
  assert.deepEqual(f.machine.store.leaseIds(), []);
});

test('a keep-alive committed before the expiry entry wins, even one that arrives after the lease ran out by the clock', (t) => {
  const f = fixture(t);
  const t0 = f.now;
  const id = f.ok('leaseGrant', { ttl: 5 }).id as string;
  f.put('k', 'v', { lease: BigInt(id) });
  // The leader saw it expired at t0+5000 and proposed leaseExpire; meanwhile a keep-alive
  // (queued while the leader stalled) was committed first, at t0+6000.
  f.now = t0 + 6_000;
  assert.equal(f.ok('leaseKeepAlive', { id }).ttl, 5);
  f.now = t0 + 6_001;
  assert.deepEqual(f.ok('leaseExpire', { ids: [id] }).expired, [], 'the renewal moved its expiry to t0+11000');
  assert.equal(f.get('k'), 'v');
  f.now = t0 + 11_000;
  assert.deepEqual(f.ok('leaseExpire', { ids: [id] }).expired, [id]);
  // A keep-alive of a lease that is gone answers ttl 0 (etcd's stream does the same).
  assert.equal(f.ok('leaseKeepAlive', { id }).ttl, 0);
});

test('revoke deletes the attached keys in one revision (none without keys); TimeToLive lists keys; remaining seconds truncate like etcd', (t) => {
  const f = fixture(t);
  const withKeys = f.ok('leaseGrant', { ttl: 60, id: '1' }).id as string;
  const bare = f.ok('leaseGrant', { ttl: 60, id: '2' }).id as string;
  f.put('a', '1', { lease: 1n });
  f.put('b', '1', { lease: 1n });
  f.put('c', '1', { lease: 1n });
  f.put('c', '2'); // re-put without the lease: detached
  const ttl = f.machine.leaseTimeToLive({ id: withKeys, keys: true });
  assert.deepEqual(
    ttl.keys.map((k) => Buffer.from(k, 'base64').toString()),
    ['a', 'b'],
  );
  assert.equal(ttl.expiresAt, f.now + 60_000);
  const rev = f.machine.store.counters.revision;
  f.ok('leaseRevoke', { id: bare });
  assert.equal(f.machine.store.counters.revision, rev, 'no keys: no revision');
  f.ok('leaseRevoke', { id: withKeys });
  assert.equal(f.machine.store.counters.revision, rev + 1);
  assert.deepEqual([f.get('a'), f.get('b'), f.get('c')], [undefined, undefined, '2']);
  assert.ok(isWireError(f.command('leaseRevoke', { id: withKeys })));
  assert.equal(f.machine.leaseTimeToLive({ id: withKeys }).found, false);
  assert.equal(remainingSeconds(10_000, 1), 9);
  assert.equal(remainingSeconds(10_000, 12_000), 0);
});
