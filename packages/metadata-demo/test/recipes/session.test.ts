// Session through MetaClient and the gRPC server (fake store): its lease outlives its TTL while it
// lives, `done` fires when the lease is revoked behind its back, when it is closed, and when the
// store stays out of reach until the lease may have expired (by the session's own clock, never
// later than the store would expire it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { putRequest, rangeRequest } from '../../src/api/request-builders.js';
import { MetaClient } from '../../src/client/index.js';
import { Session } from '../../src/recipes/index.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { sleep, startRecipeBed, stillPending, within, type RecipeBed } from './recipe-fixture.js';

describe('Session', () => {
  let bed: RecipeBed;

  before(async () => {
    bed = await startRecipeBed();
  });

  after(async () => {
    await bed.close();
  });

  it('keeps its lease alive past the TTL, and close() revokes it with its keys', async () => {
    const c = bed.client();
    const s = await Session.create(c, { ttl: 2 });
    await c.put(putRequest('session/owned', 'x', { lease: s.lease }));
    await sleep(3000);
    assert.equal(s.closed, false);
    const ttl = await c.leaseTimeToLive({ id: s.lease, keys: true });
    assert.ok(ttl.ttl >= 0, 'the lease is alive after 1.5 TTLs');
    assert.deepEqual(
      ttl.keys.map((k) => k.toString()),
      ['session/owned'],
    );
    await s.close();
    await within(s.done, 100, 'done after close()');
    assert.equal((await c.leaseTimeToLive({ id: s.lease, keys: false })).ttl, -1);
    assert.equal((await c.range(rangeRequest('session/owned'))).count, 0);
  });

  it('fires done when its lease is revoked by someone else', async () => {
    const s = await Session.create(bed.client(), { ttl: 2 });
    assert.equal(await stillPending(s.done), true);
    await bed.client().leaseRevoke({ id: s.lease });
    // The next keep-alive (every ttl/3) finds the lease gone.
    await within(s.done, 1500, 'done after the revoke');
    assert.equal(s.closed, true);
  });

  it('ends by its own clock when the store is out of reach, no later than the lease expires', async () => {
    const proxy = await startTcpProxy(bed.h.port);
    const c = new MetaClient({ endpoints: [`127.0.0.1:${proxy.port}`], attemptTimeoutMs: 300, connectTimeoutMs: 200 });
    try {
      const s = await Session.create(c, { ttl: 2 });
      await sleep(800);
      const lastAckBefore = Date.now();
      await proxy.refuse();
      await within(s.done, 3000, 'done once the lease may have expired');
      const ended = Date.now();
      assert.ok(ended <= lastAckBefore + 2000 + 150, `ended ${ended - lastAckBefore} ms after the last keep-alive could have been acknowledged`);
      assert.ok(s.validUntil <= ended);
      // And the store does expire it: no keep-alive reached it.
      const other = bed.client();
      const start = Date.now();
      while ((await other.leaseTimeToLive({ id: s.lease, keys: false })).ttl !== -1) {
        assert.ok(Date.now() - start < 3000, 'the store expired the lease');
        await sleep(50);
      }
    } finally {
      c.close();
      await proxy.close();
    }
  });

  it('orphan() stops renewing without revoking: the lease runs out on its own', async () => {
    const c = bed.client();
    const s = await Session.create(c, { ttl: 2 });
    s.orphan();
    await within(s.done, 100, 'done after orphan()');
    assert.ok((await c.leaseTimeToLive({ id: s.lease, keys: false })).ttl >= 0, 'still there at once');
    await sleep(2300);
    assert.equal((await c.leaseTimeToLive({ id: s.lease, keys: false })).ttl, -1);
  });

  it('adopts an existing lease', async () => {
    const c = bed.client();
    const g = await c.leaseGrant({ ttl: 2, id: 0n });
    const s = await Session.create(c, { lease: g.id });
    assert.equal(s.ttl, 2);
    await sleep(2600);
    assert.ok((await c.leaseTimeToLive({ id: g.id, keys: false })).ttl >= 0, 'kept alive');
    await s.close();
  });
});
