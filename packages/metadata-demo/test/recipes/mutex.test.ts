// Mutex through MetaClient and the gRPC server (fake store), each contender with its own client
// and session: mutual exclusion, FIFO order, growing tokens, tryLock, one watch per waiter on its
// predecessor's key only, and a holder whose session dies losing the lock to the next one (and
// its guarded writes refused).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compare, prefixRange, putRequest, rangeRequest, txnRequest } from '../../src/api/request-builders.js';
import type { MetaClient } from '../../src/client/index.js';
import { LockedError, Mutex, Session, SessionExpiredError, tokenString } from '../../src/recipes/index.js';
import { sleep, startRecipeBed, stillPending, within, type RecipeBed } from './recipe-fixture.js';

interface Contender {
  client: MetaClient;
  session: Session;
  mutex: Mutex;
}

describe('Mutex', () => {
  let bed: RecipeBed;
  const sessions: Session[] = [];

  const contender = async (name: string, ttl = 10): Promise<Contender> => {
    const client = bed.client();
    const session = await Session.create(client, { ttl });
    sessions.push(session);
    return { client, session, mutex: new Mutex(client, session, name) };
  };

  /** Resolves once `c`'s key is in the store (it has queued). */
  const queued = async (c: Contender) => {
    for (let i = 0; i < 200; i++) {
      if ((await c.client.range(rangeRequest(c.mutex.key))).count === 1) return;
      await sleep(10);
    }
    throw new Error(`${c.mutex.key} never queued`);
  };

  before(async () => {
    bed = await startRecipeBed();
  });

  after(async () => {
    for (const s of sessions) s.orphan();
    await bed.close();
  });

  it('excludes: among 5 sessions each locking 6 times, one holds at a time and the tokens grow', async () => {
    const cs = await Promise.all(Array.from({ length: 5 }, () => contender('mx/excl')));
    let inside = 0;
    let maxInside = 0;
    const tokens: number[] = [];
    await Promise.all(
      cs.map(async (c) => {
        for (let i = 0; i < 6; i++) {
          const token = await c.mutex.lock();
          inside++;
          maxInside = Math.max(maxInside, inside);
          tokens.push(token);
          assert.equal(c.mutex.token, token);
          await sleep(Math.random() * 10);
          inside--;
          assert.equal(await c.mutex.unlock(), true);
        }
      }),
    );
    assert.equal(maxInside, 1);
    assert.equal(tokens.length, 30);
    for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `token ${tokens[i]} after ${tokens[i - 1]}`);
    assert.equal((await cs[0]!.client.range(prefixRange('mx/excl/'))).count, 0, 'no key left behind');
  });

  it('serves waiters first come, first served, each watching only the key just ahead of its own', async () => {
    const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map(() => contender('mx/fifo')));
    await a!.mutex.lock();
    const watchesBefore = bed.h.backend.watchRequests.length;
    const order: string[] = [];
    const waiting: Promise<void>[] = [];
    for (const [name, x] of [
      ['b', b!],
      ['c', c!],
      ['d', d!],
    ] as const) {
      waiting.push(
        x.mutex.lock().then(async () => {
          order.push(name);
          await x.mutex.unlock();
        }),
      );
      await queued(x);
    }
    await sleep(100);
    assert.deepEqual(order, []);
    await a!.mutex.unlock();
    await within(Promise.all(waiting), 3000, 'every waiter got the lock');
    assert.deepEqual(order, ['b', 'c', 'd']);
    const watched = bed.h.backend.watchRequests.slice(watchesBefore).map((w) => w.key.toString());
    assert.deepEqual(watched.sort(), [a!.mutex.key, b!.mutex.key, c!.mutex.key].sort(), 'one watch per waiter, on its predecessor');
  });

  it('tryLock takes a free lock, and refuses a held one with LockedError leaving no key', async () => {
    const [a, b] = await Promise.all([contender('mx/try'), contender('mx/try')]);
    const token = await a!.mutex.tryLock();
    assert.ok(token > 0);
    await assert.rejects(b!.mutex.tryLock(), LockedError);
    assert.deepEqual(
      (await b!.client.range(prefixRange('mx/try/'))).kvs.map((kv) => kv.key.toString()),
      [a!.mutex.key],
    );
    await a!.mutex.unlock();
    assert.ok((await b!.mutex.tryLock()) > token);
    await b!.mutex.unlock();
  });

  it("passes the lock on when the holder's session dies; the old holder's guarded writes are refused", async () => {
    const a = await contender('mx/lost', 2);
    const b = await contender('mx/lost');
    const tokenA = await a.mutex.lock();
    const guard = 'mx/lost-guard';
    // A value compare on a missing key fails (etcd's rule): the guard starts at token 0.
    await b.client.put(putRequest(guard, tokenString(0)));
    const guardedWrite = (c: Contender, token: number) =>
      c.client.txn(
        txnRequest({
          compare: [c.mutex.isOwner(), compare(guard, 'less', { value: tokenString(token) })],
          success: [{ put: putRequest(guard, tokenString(token)) }],
        }),
      );
    assert.equal((await guardedWrite(a, tokenA)).succeeded, true);
    const bLocked = b.mutex.lock();
    assert.equal(await stillPending(bLocked, 200), true);
    // a's process stops renewing (a crash, a long pause): its lease runs out, its key goes.
    a.session.orphan();
    const tokenB = await within(bLocked, 3500, "b gets the lock once a's lease expired");
    assert.ok(tokenB > tokenA);
    assert.equal((await guardedWrite(a, tokenA)).succeeded, false, 'a no longer owns the lock');
    assert.equal((await guardedWrite(b, tokenB)).succeeded, true);
    assert.equal(await a.mutex.unlock(), false, "a's key was gone already");
    await b.mutex.unlock();
  });

  it('refuses to queue on a closed session, and a waiter whose session ends gets SessionExpiredError', async () => {
    const a = await contender('mx/expired');
    const b = await contender('mx/expired', 2);
    await a.mutex.lock();
    const bLocked = b.mutex.lock();
    await queued(b);
    b.session.orphan();
    // b's key goes with its lease; b's wait ends when a releases (its predecessor is gone first).
    await sleep(2500);
    await a.mutex.unlock();
    await assert.rejects(within(bLocked, 2000, 'b gives up'), SessionExpiredError);
    await assert.rejects(b.mutex.lock(), SessionExpiredError);
  });
});
