// The gRPC server driven by the npm etcd3 client (as applications use it), over the fake backend.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3, EtcdLeaseInvalidError, GRPCOutOfRangeError, type IKeyValue, type Watcher } from 'etcd3';
import { startFakeGrpc, type GrpcHarness } from '../support/api-harness.js';

describe('gRPC server with the etcd3 client', () => {
  let h: GrpcHarness;
  let client: Etcd3;

  before(async () => {
    h = await startFakeGrpc();
    client = new Etcd3({ hosts: `127.0.0.1:${h.port}` });
  });

  after(async () => {
    client.close();
    await h.close();
  });

  it('puts, gets, lists a prefix, counts and deletes', async () => {
    await client.put('app/a').value('1');
    await client.put('app/b').value('2');
    await client.put('other').value('x');
    assert.equal(await client.get('app/a').string(), '1');
    assert.equal(await client.get('missing').string(), null);
    assert.deepEqual(await client.getAll().prefix('app/').strings(), { 'app/a': '1', 'app/b': '2' });
    assert.deepEqual(await client.getAll().prefix('app/').keys(), ['app/a', 'app/b']);
    assert.equal(await client.getAll().prefix('app/').count(), 2);
    assert.deepEqual(await client.getAll().prefix('app/').sort('Key', 'Descend').limit(1).keys(), ['app/b']);
    const del = await client.delete().prefix('app/');
    assert.equal(del.deleted, '2');
    assert.deepEqual(await client.getAll().prefix('app/').keys(), []);
  });

  it('runs transactions with client.if(...)', async () => {
    await client.put('txn/k').value('v1');
    const won = await client.if('txn/k', 'Value', '==', 'v1').then(client.put('txn/k').value('v2')).else(client.get('txn/k')).commit();
    assert.equal(won.succeeded, true);
    assert.equal(await client.get('txn/k').string(), 'v2');
    const lost = await client.if('txn/k', 'Version', '>', 5).then(client.put('txn/k').value('v3')).else(client.get('txn/k')).commit();
    assert.equal(lost.succeeded, false);
    assert.equal(lost.responses[0]!.response_range.kvs[0]!.value.toString(), 'v2');
    const created = await client.if('txn/new', 'Create', '==', 0).then(client.put('txn/new').value('first')).commit();
    assert.equal(created.succeeded, true);
  });

  it('reads an old revision, and a compacted one fails as etcd answers (OUT_OF_RANGE)', async () => {
    const first = await client.put('rev/k').value('old').exec();
    await client.put('rev/k').value('new');
    const rev = Number(first.header.revision);
    assert.equal(await client.get('rev/k').revision(rev).string(), 'old');
    await client.kv.compact({ revision: String(rev + 1) });
    await assert.rejects(client.get('rev/k').revision(rev).string(), (e: Error) => {
      assert.ok(e instanceof GRPCOutOfRangeError, `got ${e.constructor.name}`);
      assert.match(e.message, /etcdserver: mvcc: required revision has been compacted/);
      return true;
    });
    await assert.rejects(client.get('rev/k').revision(1_000_000).string(), /required revision is a future revision/);
  });

  it('grants a lease, attaches keys, keeps it alive and revokes it', async () => {
    const lease = client.lease(3);
    await lease.put('leased/k').value('v');
    const id = await lease.grant();
    const renewed = new Promise((resolve) => lease.once('keepaliveSucceeded', resolve));
    const once = await lease.keepaliveOnce();
    assert.equal(once.TTL, '3');
    await renewed;
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
    assert.equal(ttl.grantedTTL, '3');
    assert.deepEqual(
      ttl.keys.map((k) => k.toString()),
      ['leased/k'],
    );
    await lease.revoke();
    assert.equal(await client.get('leased/k').string(), null);
    assert.equal((await client.leaseClient.leaseTimeToLive({ ID: id })).TTL, '-1');
  });

  it('maps an unknown lease to EtcdLeaseInvalidError', async () => {
    await assert.rejects(client.leaseClient.leaseRevoke({ ID: '12345' }), EtcdLeaseInvalidError);
    await assert.rejects(client.put('k').value('v').lease('12345').exec(), EtcdLeaseInvalidError);
  });

  it('watches a prefix with previous values, through puts and deletes', async () => {
    const watcher: Watcher = await client.watch().prefix('w/').withPreviousKV().create();
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      watcher.on('put', (kv: IKeyValue, prev?: IKeyValue) => {
        seen.push(`put ${kv.key.toString()}=${kv.value.toString()} prev=${prev ? prev.value.toString() : '-'}`);
      });
      watcher.on('delete', (kv: IKeyValue, prev?: IKeyValue) => {
        seen.push(`delete ${kv.key.toString()} prev=${prev ? prev.value.toString() : '-'}`);
        resolve();
      });
    });
    await client.put('w/a').value('1');
    await client.put('elsewhere').value('x');
    await client.put('w/a').value('2');
    await client.delete().key('w/a');
    await done;
    assert.deepEqual(seen, ['put w/a=1 prev=-', 'put w/a=2 prev=1', 'delete w/a prev=2']);
    await watcher.cancel();
    assert.equal(h.backend.watchCount, 0);
  });

  it('watches from an old revision', async () => {
    const r1 = await client.put('hist/k').value('a').exec();
    await client.put('hist/k').value('b');
    const watcher = await client.watch().key('hist/k').startRevision(r1.header.revision).create();
    const values: string[] = [];
    await new Promise<void>((resolve) =>
      watcher.on('put', (kv: IKeyValue) => {
        values.push(kv.value.toString());
        if (values.length === 2) resolve();
      }),
    );
    assert.deepEqual(values, ['a', 'b']);
    await watcher.cancel();
  });

  it('lists members and reports status', async () => {
    const members = await client.cluster.memberList({});
    assert.equal(members.members.length, 1);
    assert.equal(members.members[0]!.name, 'fake-1');
    const status = await client.maintenance.status();
    assert.equal(status.version, '3.4.23');
    assert.equal(status.leader, members.members[0]!.ID);
  });
});
