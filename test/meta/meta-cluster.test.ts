// Three raftkit-meta processes: a put through the leader's gRPC port read back linearizably on a
// follower (etcd's client, raftkit's API and etcd's JSON gateway), and the lease bound across a
// leader kill -9: a lease whose holder stopped renewing expires no sooner than ttl after its last
// keep-alive was sent, and no later than ttl + the stated bound after it was acknowledged, even
// when the leader dies just before the expiry (the new leader's driver expires it); and a leader
// paused with SIGSTOP for longer than a lease's ttl revokes nothing, while the lease is renewed
// through the other nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../support/eventually.js';
import { ELECTION_MS, MetaCluster, runMeta } from './meta-cluster.js';

/** The driver's period, and the slack of polling every 20 ms and of one commit on a busy 2-core machine. */
const DRIVER_PERIOD_MS = 100;
const POLL_AND_COMMIT_MS = 150;
/** The stated bound (README, "Leases"): an election (at most 2 x --election-ms and a vote), the driver's period, a commit. */
const BOUND_MS = 2 * ELECTION_MS + DRIVER_PERIOD_MS + POLL_AND_COMMIT_MS;

test('raftkit-meta: 3 processes', async (t) => {
  const c = new MetaCluster();
  t.after(() => c.stopAll());
  const leader = await c.startAll();
  const [f1, f2] = c.ids.filter((id) => id !== leader);

  await t.test("a put on the leader is read linearizably on a follower, through etcd3, raftkit's API and the JSON gateway", async () => {
    await c.client(leader).put('greeting').value('hello');
    assert.equal(await c.client(f1!).get('greeting').string(), 'hello');
    const r = await c.rangeHttp(f2!, 'greeting');
    assert.equal(Buffer.from(r.kvs[0].value, 'base64').toString(), 'hello');
    assert.equal(r.count, 1);
    // etcd's JSON gateway on the node's HTTP port is wired to the same node.
    const g = await c.req(f2!, 'POST', '/v3/kv/range', { body: { key: Buffer.from('greeting').toString('base64') } });
    assert.equal(g.status, 200, g.text);
    assert.equal(Buffer.from(g.body.kvs[0].value, 'base64').toString(), 'hello');
  });

  await t.test('a leader paused (SIGSTOP) for longer than the ttl revokes nothing when it wakes; the lease renewed through the others lives on', async () => {
    const ttl = 2;
    const via = c.client(f1!);
    const lease = via.lease(ttl, { autoKeepAlive: false });
    await lease.grant();
    await lease.put('kept-alive').value('through the followers');
    const paused = await c.waitLeader();
    let renewing = true;
    let renewals = 0;
    const renew = (async () => {
      while (renewing) {
        try {
          await lease.keepaliveOnce();
          renewals++;
        } catch {
          // the election while the leader is paused: try again
        }
        await sleep(300);
      }
    })();
    try {
      await sleep(600);
      c.procs.get(paused)!.child.kill('SIGSTOP');
      // Longer than the ttl: on the paused leader's clock every lease has run out when it wakes.
      await sleep(ttl * 1000 + 1500);
      c.procs.get(paused)!.child.kill('SIGCONT');
      await sleep(ttl * 1000 + 1000);
      for (const id of c.ids) assert.equal(await c.client(id).get('kept-alive').string(), 'through the followers', `node ${id} still has the key`);
      assert.ok(renewals >= 5, `renewals went on during the pause (${renewals})`);
    } finally {
      renewing = false;
      c.procs.get(paused)!.child.kill('SIGCONT');
      await renew;
    }
    await lease.revoke();
  });

  await t.test('a lease expires within [ttl, ttl + bound] of its last keep-alive when the leader is killed just before its expiry', async () => {
    const ttl = 3;
    const via = c.client(f1!);
    const lease = via.lease(ttl, { autoKeepAlive: false });
    await lease.grant();
    await lease.put('owned').value('by a client that will stop renewing');
    let sent = 0;
    let acked = 0;
    for (let i = 0; i < 3; i++) {
      await sleep(500);
      sent = Date.now();
      const k = await lease.keepaliveOnce();
      acked = Date.now();
      assert.equal(Number(k.TTL), ttl);
    }
    // The client stops renewing. Just before the lease runs out, the leader dies: the expiry has
    // to wait for the new leader's driver.
    const current = await c.waitLeader();
    await sleep(Math.max(0, acked + ttl * 1000 - 250 - Date.now()));
    await c.kill(current);
    const watcher = c.ids.find((id) => id !== current && id !== f1)!;
    let gone = 0;
    while (!gone) {
      try {
        const r = await c.rangeHttp(watcher, 'owned');
        if (r.count === 0) gone = Date.now();
      } catch {
        // the election: no leader for a moment
      }
      if (!gone) await sleep(20);
      if (Date.now() - acked > 30_000) assert.fail('the lease never expired');
    }
    const sinceSent = gone - sent;
    const sinceAck = gone - acked;
    t.diagnostic(`lease expired ${sinceAck} ms after its last acknowledged keep-alive (ttl ${ttl * 1000} ms, overshoot ${sinceAck - ttl * 1000} ms, bound ${BOUND_MS} ms)`);
    assert.ok(sinceSent >= ttl * 1000, `expired ${sinceSent} ms after the keep-alive was sent: before its ttl`);
    assert.ok(sinceAck <= ttl * 1000 + BOUND_MS, `expired ${sinceAck} ms after the keep-alive was acknowledged: past ttl + ${BOUND_MS}`);
    assert.equal(await c.client(watcher).get('owned').string(), null);
  });
});

test('raftkit-meta refuses a bad flag with one line and exit 2', async () => {
  const r = await runMeta(['--max-txn-ops', '0', '--id', '1', '--listen', '127.0.0.1:1', '--data-dir', '/nonexistent']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^raftkit-meta: --max-txn-ops must be a positive integer/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
