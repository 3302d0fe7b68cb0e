// The leader's expiry driver with a fake clock: it proposes only as leader, only after a
// linearizable read, re-reads the candidates after it, holds back after a stall (also one that
// happened during the read), and never runs two rounds at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseExpiryDriver, type ExpiryDriverOptions } from '../../src/leases/expiry-driver.js';

function harness(o: Partial<ExpiryDriverOptions> = {}) {
  const h = {
    now: 1_000,
    leader: true,
    /** Lease -> expiry (ms). */
    leases: new Map<bigint, number>([[1n, 1_500]]),
    confirms: 0,
    expired: [] as bigint[][],
    confirm: async () => {},
  };
  const driver = new LeaseExpiryDriver({
    isLeader: () => h.leader,
    candidates: (now, limit) =>
      [...h.leases]
        .filter(([, at]) => at <= now)
        .map(([id]) => id)
        .slice(0, limit),
    confirmLeadership: async () => {
      h.confirms++;
      await h.confirm();
    },
    expire: async (ids) => {
      h.expired.push(ids);
      for (const id of ids) h.leases.delete(id);
    },
    graceMs: 1_000,
    periodMs: 100,
    clock: () => h.now,
    ...o,
  });
  const step = async (ms: number) => {
    h.now += ms;
    await driver.tick();
  };
  return { h, driver, step };
}

test('nothing before expiry; after it, one confirmed proposal with the expired ids', async () => {
  const { h, step } = harness();
  await step(100); // 1100
  await step(100);
  await step(100);
  await step(100); // 1400
  assert.equal(h.confirms, 0, 'no quorum round while nothing is due');
  await step(100); // 1500: due
  assert.equal(h.confirms, 1);
  assert.deepEqual(h.expired, [[1n]]);
});

test('only the leader proposes; a failed quorum check proposes nothing and the next tick tries again', async () => {
  const { h, step } = harness();
  h.leader = false;
  for (let i = 0; i < 6; i++) await step(100);
  assert.deepEqual([h.confirms, h.expired.length], [0, 0]);
  h.leader = true;
  h.confirm = async () => {
    throw new Error('not the leader any more');
  };
  await step(100);
  assert.deepEqual([h.confirms, h.expired.length], [1, 0]);
  h.confirm = async () => {};
  await step(100);
  assert.deepEqual(h.expired, [[1n]]);
});

test('the candidates are read again after the quorum round: a keep-alive applied meanwhile saves its lease', async () => {
  const { h, step } = harness();
  h.confirm = async () => {
    h.leases.set(1n, h.now + 5_000); // the keep-alive committed before the read index
  };
  for (let i = 0; i < 6; i++) await step(100);
  assert.equal(h.confirms, 1);
  assert.deepEqual(h.expired, []);
});

test('a stalled driver (a gap much longer than its period) proposes nothing for the grace period', async () => {
  const { h, driver, step } = harness();
  await step(100);
  await step(5_000); // SIGSTOP for 5 s: the lease is long past due
  assert.equal(driver.holding, true);
  assert.deepEqual(h.expired, []);
  for (let i = 0; i < 9; i++) await step(100); // 900 ms of the 1000 ms grace
  assert.deepEqual([h.confirms, h.expired.length], [0, 0]);
  await step(100);
  await step(100);
  assert.deepEqual(h.expired, [[1n]]);
});

test('a stall during the quorum round itself also holds the proposal back', async () => {
  const { h, step } = harness();
  h.confirm = async () => {
    h.now += 3_000; // the process stopped while the read was in flight
  };
  for (let i = 0; i < 5; i++) await step(100);
  assert.equal(h.confirms, 1);
  assert.deepEqual(h.expired, [], 'no expiry right after the stall');
  h.confirm = async () => {};
  for (let i = 0; i < 9; i++) await step(100);
  assert.deepEqual(h.expired, [], 'still within the grace');
  await step(100);
  await step(100);
  assert.deepEqual(h.expired, [[1n]]);
});

test('one round at a time: a tick during a slow round does nothing', async () => {
  const { h, driver } = harness();
  let release!: () => void;
  h.confirm = () => new Promise<void>((r) => (release = r));
  h.now = 2_000;
  const first = driver.tick();
  await driver.tick();
  await driver.tick();
  assert.equal(h.confirms, 1);
  release();
  await first;
  assert.deepEqual(h.expired, [[1n]]);
});
