// Exactly-once commands (X-Raft-Client-Id / X-Raft-Sequence) on a 3-node raftkit-kv cluster:
// retries answer the first result and apply once, also across kill -9 of the leader.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCluster, readNdjson, sleep, type Reply } from './kv-cluster.js';

const c = new KvCluster([1, 2, 3]);
const run = Date.now().toString(36);
const k = (s: string) => `once-${run}/${s}`;
const session = (client: string, seq: number) => ({ 'x-raft-client-id': `${run}-${client}`, 'x-raft-sequence': String(seq) });

before(async () => {
  await c.startAll();
});

after(async () => {
  await c.stopAll();
});

/** The store's current revision: a put of a scratch key answers it (and moves it by one). */
async function bump(id: number): Promise<{ revision: number; index: number }> {
  const r = await c.ok(id, 'put', { key: k('scratch'), value: String(Date.now()) });
  return { revision: r.result.revision, index: r.index };
}

test('a retried command (same client id and sequence) answers the first result and applies once', async () => {
  const leader = await c.waitLeader();
  const [f1, f2] = c.ids.filter((id) => id !== leader) as [number, number];
  const r0 = await bump(leader);
  const h = session('a', 1);
  const first = await c.ok(f1, 'put', { key: k('a'), value: 'one' }, { headers: h });
  assert.equal(first.result.revision, r0.revision + 1);
  // retries: on the leader, on both followers, concurrently, and with different args
  const retries: Reply[] = [];
  retries.push(await c.command(leader, 'put', { key: k('a'), value: 'one' }, { headers: h }));
  retries.push(...(await Promise.all([f1, f2, leader, f2].map((id) => c.command(id, 'put', { key: k('a'), value: 'one' }, { headers: h })))));
  retries.push(await c.command(f2, 'put', { key: k('a'), value: 'DIFFERENT' }, { headers: h }));
  for (const r of retries) {
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.result, first.result, 'a retry answers the first result');
  }
  // applied once: the value is the first one, the key's revision is the first put's, and the
  // store's revision moved by exactly one
  for (const id of c.ids) {
    const g = await c.query(id, 'get', { key: k('a') });
    assert.deepEqual(g.body.result, { value: 'one', revision: first.result.revision });
  }
  const r1 = await bump(f2);
  assert.equal(r1.revision, r0.revision + 2, 'the store revision moved once for seven sends');

  // the next sequence is a new command
  const second = await c.ok(leader, 'put', { key: k('a'), value: 'two' }, { headers: session('a', 2) });
  assert.equal(second.result.revision, r1.revision + 1);
  // an older sequence than the last applied one is refused (409), not applied
  const stale = await c.command(f1, 'put', { key: k('a'), value: 'stale' }, { headers: session('a', 1) });
  assert.equal(stale.status, 409, stale.text);
  assert.equal(stale.body.error, 'conflict');
  assert.equal((await c.query(f1, 'get', { key: k('a') })).body.result.value, 'two');
  // a retry of the latest still answers its first result
  const again = await c.ok(f2, 'put', { key: k('a'), value: 'two' }, { headers: session('a', 2) });
  assert.deepEqual(again.result, second.result);
  // sequences may skip numbers (increasing, not necessarily contiguous)
  const skip = await c.ok(f2, 'put', { key: k('a'), value: 'ten' }, { headers: session('a', 10) });
  assert.equal(skip.result.revision, second.result.revision + 1, 'the stale send and the retry did not move the revision');
});

test('the same client id and sequence sent concurrently to every node as a first send applies once', async () => {
  const r0 = await bump(await c.waitLeader());
  const h = session('concurrent', 1);
  const replies = await Promise.all([...c.ids, ...c.ids].map((id, i) => c.command(id, 'put', { key: k('concurrent'), value: `try-${i}` }, { headers: h })));
  for (const r of replies) assert.equal(r.status, 200, r.text);
  const results = replies.map((r) => JSON.stringify(r.body.result));
  assert.equal(new Set(results).size, 1, `every send answers the one result: ${results}`);
  assert.equal(replies[0]!.body.result.revision, r0.revision + 1);
  const g = await c.query(c.ids[0]!, 'get', { key: k('concurrent') });
  assert.equal(g.body.result.revision, r0.revision + 1);
  assert.match(g.body.result.value, /^try-\d$/);
  const r1 = await bump(c.ids[1]!);
  assert.equal(r1.revision, r0.revision + 2, 'six concurrent sends moved the store once');
});

test('exactly-once covers delete and cas: a retried successful cas still answers succeeded:true', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  const cas = await c.ok(f, 'cas', { key: k('cas'), expected: null, value: 'x' }, { headers: session('cas', 1) });
  assert.equal(cas.result.succeeded, true);
  // without a session the same cas would now fail; with the same session it answers the first result
  const retry = await c.ok(leader, 'cas', { key: k('cas'), expected: null, value: 'x' }, { headers: session('cas', 1) });
  assert.deepEqual(retry.result, cas.result);
  const del = await c.ok(f, 'delete', { key: k('cas') }, { headers: session('cas', 2) });
  assert.equal(del.result.deleted, true);
  const delRetry = await c.ok(leader, 'delete', { key: k('cas') }, { headers: session('cas', 2) });
  assert.deepEqual(delRetry.result, del.result, 'a retried delete still answers deleted:true');
  const plain = await c.ok(leader, 'delete', { key: k('cas') });
  assert.equal(plain.result.deleted, false);
  assert.equal(plain.result.revision, del.result.revision);
});

test('across kill -9 of the leader: retry on the survivors until success, the store changed once', async (t) => {
  const leader = await c.waitLeader();
  const survivors = c.ids.filter((id) => id !== leader);
  // one command acknowledged before the kill: its retry on the new leader must not apply again
  const pre = await c.ok(leader, 'put', { key: k('pre'), value: 'pre' }, { headers: session('pre', 1) });
  const r0 = await bump(leader);
  const clients = Array.from({ length: 10 }, (_, i) => `k${i}`);
  // Fire the commands at the leader 2 ms apart and kill it midway: some are acknowledged, some
  // may be committed without an answer, some lost; the retries below must apply each exactly once.
  const inflight: Promise<Reply | Error>[] = [];
  for (const cl of clients) {
    inflight.push(
      c.command(leader, 'put', { key: k(cl), value: `val-${cl}` }, { headers: session(cl, 1), timeoutMs: 5000 }).then(
        (r) => r,
        (e: Error) => e,
      ),
    );
    await sleep(2);
    if (cl === 'k4') void c.kill(leader);
  }
  await c.kill(leader);
  const early = await Promise.all(inflight);
  t.diagnostic(`in flight at the kill: ${early.filter((r) => !(r instanceof Error) && r.status === 200).length} of ${clients.length} answered 200 before it`);
  const t0 = Date.now();
  const results = new Map<string, any>();
  let attempts = 0;
  while (results.size < clients.length) {
    if (Date.now() - t0 > 20_000) assert.fail(`no success for ${clients.filter((x) => !results.has(x))} within 20 s`);
    for (const cl of clients) {
      if (results.has(cl)) continue;
      const id = survivors[attempts++ % survivors.length]!;
      try {
        const r = await c.command(id, 'put', { key: k(cl), value: `val-${cl}` }, { headers: session(cl, 1), timeoutMs: 3000 });
        if (r.status === 200) results.set(cl, { ...r.body, via: id });
        else assert.ok([503, 421].includes(r.status), `a retry answered ${r.status}: ${r.text}`);
      } catch {
        // a connection problem: try the next survivor
      }
    }
    if (results.size < clients.length) await sleep(100);
  }
  const failoverMs = Date.now() - t0;
  t.diagnostic(`all retries succeeded ${failoverMs} ms after the kill`);
  const newLeader = await c.waitLeader(survivors);
  const preRetry = await c.ok(survivors[0]!, 'put', { key: k('pre'), value: 'pre' }, { headers: session('pre', 1) });
  assert.deepEqual(preRetry.result, pre.result, 'the retry of an acknowledged command answers its first result on the new leader');
  // every command applied exactly once: distinct revisions r0+1..r0+n, values as sent
  const revisions = [...results.values()].map((r) => r.result.revision).sort((a, b) => a - b);
  assert.deepEqual(
    revisions,
    clients.map((_, i) => r0.revision + 1 + i),
    `revisions ${revisions} after ${r0.revision}`,
  );
  for (const cl of clients) {
    for (const id of survivors) {
      const g = await c.query(id, 'get', { key: k(cl) });
      assert.deepEqual(g.body.result, { value: `val-${cl}`, revision: results.get(cl).result.revision });
    }
  }
  // a command acknowledged before the kill answers the same result on retry
  early.forEach((r, i) => {
    if (!(r instanceof Error) && r.status === 200) assert.deepEqual(results.get(clients[i]!).result, r.body.result, `${clients[i]}: retry vs first answer`);
  });
  // and nothing else moved the store: the next change is r0 + n + 1
  const r1 = await bump(newLeader);
  assert.equal(r1.revision, r0.revision + clients.length + 1, 'the store changed once per command');
  // the killed node comes back with the same data dir and converges
  c.start(leader);
  await c.waitApplied(leader, r1.index, 15_000);
  for (const cl of clients) {
    const g = await c.query(leader, 'get', { key: k(cl) }, 'local');
    assert.deepEqual(g.body.result, { value: `val-${cl}`, revision: results.get(cl).result.revision });
  }
  assert.ok(failoverMs < 15_000, `fail-over took ${failoverMs} ms`);
});

test('the watch shows a retried command once, and a retry answers the index of the entry that applied it', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  const h = session('watch', 1);
  const first = await c.ok(leader, 'put', { key: k('w'), value: 'first' }, { headers: h });
  const retry = await c.ok(f, 'put', { key: k('w'), value: 'first' }, { headers: h });
  const retryOther = await c.ok(f, 'put', { key: k('w'), value: 'other-args' }, { headers: h });
  assert.deepEqual(retry.result, first.result);
  assert.deepEqual(retryOther.result, first.result);
  const end = await c.ok(leader, 'put', { key: k('w-end'), value: 'x' });
  const r = await readNdjson(c.portOf(leader), `/v1/groups/kv/watch?from=${first.index}`, end.index);
  const puts = r.lines.filter((e) => e.index < end.index && e.args?.key === k('w'));
  // A watcher that replays the stream must see the key set once, never to "other-args".
  assert.deepEqual(
    puts.map((e) => e.args.value),
    ['first'],
    `watch entries for the key: ${JSON.stringify(puts)}`,
  );
  // and a retry answers the first command's index (the one the watch shows)
  assert.equal(retry.index, first.index, 'the retry answers the index of the entry that applied it');
});
