// The recipes against etcd's own concurrency package, as etcdctl 3.4 runs it, on a real
// raftkit-meta node (the bin, single-node cluster): our Mutex and `etcdctl lock` exclude each
// other on the same name (both ways, and when etcdctl dies holding the lock its lease expiry
// hands it on), and our Election and `etcdctl elect` take turns and observe each other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { prefixRange } from '../../src/api/request-builders.js';
import { Election, LockedError, Mutex, Session } from '../../src/recipes/index.js';
import { etcdctlPath, spawnEtcdctl, type EtcdctlProcess } from '../support/etcdctl.js';
import { startMetaProcess, type MetaProcess } from '../support/meta-process.js';
import { waitFor } from '../client/client-fixture.js';
import { sleep, stillPending, within } from './recipe-fixture.js';

describe('recipes with etcdctl, on a real raftkit-meta node', () => {
  let node: MetaProcess;
  const sessions: Session[] = [];
  const procs: EtcdctlProcess[] = [];

  const session = async (ttl = 10) => {
    const s = await Session.create(node.client(), { ttl });
    sessions.push(s);
    return s;
  };
  const etcdctl = (args: string[]) => {
    const p = spawnEtcdctl(node.grpcPort, args);
    procs.push(p);
    return p;
  };

  before(async () => {
    etcdctlPath();
    node = await startMetaProcess();
  });

  after(async () => {
    for (const p of procs) await p.kill();
    for (const s of sessions) await s.close().catch(() => undefined);
    await node?.stop();
  });

  it('our Mutex and `etcdctl lock` exclude each other', async () => {
    const c = node.client();
    const ours = new Mutex(c, await session(), 'ilock');
    await ours.lock();
    const theirs = etcdctl(['lock', 'ilock', '--ttl', '5']);
    await sleep(1000);
    assert.equal(theirs.output(), '', 'etcdctl waits while we hold the lock');
    assert.equal((await c.range(prefixRange('ilock/'))).count, 2, 'etcdctl queued its key behind ours');
    await ours.unlock();
    // etcdctl prints its key once it holds the lock.
    await theirs.waitFor('ilock/', 5000);
    const other = new Mutex(c, await session(), 'ilock');
    await assert.rejects(other.tryLock(), LockedError);
    const waiting = other.lock();
    assert.equal(await stillPending(waiting, 500), true, 'we wait while etcdctl holds it');
    // Ctrl-C: etcdctl unlocks and exits.
    theirs.child.kill('SIGINT');
    await within(waiting, 5000, 'our lock once etcdctl released');
    await other.unlock();
  });

  it('an etcdctl lock command runs only while we do not hold the lock', async () => {
    const c = node.client();
    const ours = new Mutex(c, await session(), 'ilock2');
    await ours.lock();
    const theirs = etcdctl(['lock', 'ilock2', '--ttl', '5', '--', 'sh', '-c', 'echo ran-at-$(date +%s%3N)']);
    await sleep(800);
    const releasedAt = Date.now();
    await ours.unlock();
    await theirs.waitFor('ran-at-', 5000);
    const ranAt = Number(/ran-at-(\d+)/.exec(theirs.output())![1]);
    assert.ok(ranAt >= releasedAt, `etcdctl's command ran ${releasedAt - ranAt} ms before we released`);
  });

  it("the lock passes to us when etcdctl dies holding it (its session's lease expires)", async () => {
    const c = node.client();
    const theirs = etcdctl(['lock', 'ilock3', '--ttl', '2']);
    await theirs.waitFor('ilock3/', 5000);
    const ours = new Mutex(c, await session(), 'ilock3');
    const waiting = ours.lock();
    assert.equal(await stillPending(waiting, 300), true);
    const killedAt = Date.now();
    theirs.child.kill('SIGKILL');
    await within(waiting, 6000, 'our lock after the dead holder lease expired');
    assert.ok(Date.now() - killedAt >= 1000, 'not before its lease could expire');
    await ours.unlock();
  });

  it('our Election and `etcdctl elect` take turns and observe each other', async () => {
    const c = node.client();
    const ours = new Election(c, await session(), 'ielect');
    const seen: (string | undefined)[] = [];
    const stop = new Election(c, await session(), 'ielect').observe((kv) => seen.push(kv?.value.toString()));
    const observer = etcdctl(['elect', '-l', 'ielect']);
    await ours.campaign('ours');
    await observer.waitFor('ours', 5000);
    const theirs = etcdctl(['elect', 'ielect', 'theirs']);
    await sleep(800);
    assert.ok(!theirs.output().includes('theirs'), 'etcdctl is not elected while we lead');
    await ours.proclaim('ours-2');
    await observer.waitFor('ours-2', 5000);
    await ours.resign();
    await theirs.waitFor('theirs', 5000);
    await observer.waitFor('theirs', 5000);
    await waitFor(() => seen.at(-1) === 'theirs', 5000, 'our observer to see etcdctl lead');
    // Ctrl-C: etcdctl resigns; our next campaign wins at once.
    theirs.child.kill('SIGINT');
    await within(ours.campaign('ours-again'), 5000, 'our campaign after etcdctl resigned');
    await observer.waitFor('ours-again', 5000);
    await waitFor(() => seen.at(-1) === 'ours-again', 5000);
    // (A moment without a leader may show as undefined, depending on who was quicker.)
    assert.deepEqual(
      seen.filter((v) => v !== undefined),
      ['ours', 'ours-2', 'theirs', 'ours-again'],
    );
    await ours.resign();
    stop();
  });
});
