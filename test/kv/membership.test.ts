// Membership of a raftkit-kv cluster (started with --token) while writes flow: a 4th node joins
// with --join (learner, promoted automatically) and serves local reads; demote / promote; add a
// member through the API; remove members (the leader too); status shows the members throughout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCluster, eventually, sleep } from './kv-cluster.js';

const TOKEN = 'kv-membership-secret';
const c = new KvCluster([1, 2, 3], { token: TOKEN });
const run = Date.now().toString(36);
const k = (s: string) => `mem-${run}/${s}`;
/** The nodes that are members now (writes and checks go to these). */
let members = [1, 2, 3];

before(async () => {
  await c.reserve([4, 5]);
  await c.startAll();
});

after(async () => {
  await c.stopAll();
});

interface Ack {
  key: string;
  value: string;
  revision: number;
  index: number;
}

/**
 * Writes puts through the current members, exactly-once (client id + sequence, retried with the
 * same sequence until 200), so every acknowledged value is known to be the key's latest.
 */
function writer(tag: string) {
  const acked: Ack[] = [];
  let stop = false;
  let retries = 0;
  let slowest = { ms: 0, what: '' };
  let current = '';
  let lastFailure = '';
  let clientTimeouts = 0;
  const loop = (async () => {
    let seq = 0;
    while (!stop) {
      seq++;
      const key = k(`${tag}-${seq % 16}`);
      const value = `${tag}-${seq}`;
      for (let attempt = 0; ; attempt++) {
        const live = members.filter((id) => c.isRunning(id));
        const id = live[(seq + attempt) % live.length]!;
        try {
          const t0 = Date.now();
          current = `put ${seq} (attempt ${attempt}) via node ${id} since ${new Date(t0).toISOString()}`;
          const r = await c.command(id, 'put', { key, value }, { headers: { 'x-raft-client-id': `writer-${tag}`, 'x-raft-sequence': String(seq) }, timeoutMs: 3000 });
          const ms = Date.now() - t0;
          if (ms > slowest.ms) slowest = { ms, what: `put ${seq} via node ${id}: ${r.status} ${r.text.slice(0, 160)}` };
          if (r.status === 200) {
            acked.push({ key, value, revision: r.body.result.revision, index: r.body.index });
            break;
          }
          lastFailure = `${r.status} ${r.text.slice(0, 200)} (${current})`;
          if (r.status !== 503 && r.status !== 421) throw new Error(`writer: put answered ${r.status}: ${r.text}`);
        } catch (e) {
          if ((e as Error).message.startsWith('writer:')) throw e;
          // A proposal stranded on a node that lost leadership is answered only at the 10 s server
          // deadline (see the report); like a real client, give up after 3 s and retry the same
          // sequence elsewhere (exactly-once makes that safe).
          if ((e as Error).message.includes('no answer within')) clientTimeouts++;
          lastFailure = `${(e as Error).message} (${current})`;
        }
        retries++;
        if (attempt > 200) throw new Error(`writer: ${key} not acknowledged after ${attempt} attempts`);
        await sleep(50);
      }
    }
  })();
  return {
    acked,
    get retries() {
      return retries;
    },
    get slowest() {
      return slowest;
    },
    get clientTimeouts() {
      return clientTimeouts;
    },
    /** Waits for `n` more acknowledgements than now. */
    async more(n: number, timeoutMs = 10_000, phase = '') {
      const target = acked.length + n;
      try {
        await eventually(async () => (acked.length >= target ? true : undefined), timeoutMs, `${n} more acknowledged writes`);
      } catch (e) {
        throw new Error(`${phase}: ${(e as Error).message}; in flight: ${current}; last failure: ${lastFailure || 'none'}; now ${new Date().toISOString()}`);
      }
    },
    async stop(): Promise<Ack[]> {
      stop = true;
      await loop;
      return acked;
    },
  };
}

/** The latest acknowledged value of every key. */
function latest(acked: Ack[]): Map<string, Ack> {
  const m = new Map<string, Ack>();
  for (const a of acked) m.set(a.key, a);
  return m;
}

/** Every node in `ids` eventually reports exactly `expected` (id -> role) as the kv members. */
async function waitMembers(ids: number[], expected: Record<number, string>, timeoutMs = 10_000): Promise<void> {
  const want = Object.entries(expected)
    .map(([id, role]) => `${id}:${role}`)
    .sort()
    .join(',');
  for (const id of ids) {
    await eventually(
      async () => {
        const g = await c.kvStatus(id);
        const got = g.members
          .map((m: any) => `${m.id}:${m.role}`)
          .sort()
          .join(',');
        return got === want ? true : undefined;
      },
      timeoutMs,
      `node ${id} to list members ${want}`,
    );
  }
}

/** Checks that node `id` serves, with local reads, every acknowledged key's latest value. */
async function assertServes(id: number, acked: Ack[]): Promise<void> {
  const last = acked.reduce((m, a) => Math.max(m, a.index), 0);
  await c.waitApplied(id, last, 15_000);
  const want = latest(acked);
  for (const [key, a] of want) {
    const g = await c.query(id, 'get', { key }, 'local');
    assert.equal(g.status, 200, g.text);
    assert.deepEqual(g.body.result, { value: a.value, revision: a.revision }, `node ${id}: ${key}`);
  }
}

test('a 4th node joins with --join while writes flow: learner, promoted to voter, serves local reads with the data', async (t) => {
  // data written before the join
  for (let i = 0; i < 20; i++) await c.ok(1 + (i % 3), 'put', { key: k(`seed-${i}`), value: `s${i}` });
  const w = writer('join');
  let acked: Ack[] = [];
  try {
    await w.more(10, 10_000, 'phase 1');
    const leader = await c.waitLeader([1, 2, 3]);
    const through = [1, 2, 3].find((id) => id !== leader)!;
    const t0 = Date.now();
    c.start(4, { join: through });
    // watch the membership from the leader's side while it happens
    const seen = new Set<string>();
    await eventually(
      async () => {
        const g = await c.kvStatus(leader);
        const m = g.members.find((x: any) => x.id === 4);
        if (m) seen.add(m.role);
        return m?.role === 'voter' ? true : undefined;
      },
      20_000,
      'node 4 to be promoted to voter',
      10,
    );
    t.diagnostic(`node 4 was a voter ${Date.now() - t0} ms after starting; roles seen: ${[...seen].join(' -> ')}`);
    assert.ok(seen.has('learner'), 'node 4 was a learner before it became a voter');
    members = [1, 2, 3, 4];
    await waitMembers([1, 2, 3, 4], { 1: 'voter', 2: 'voter', 3: 'voter', 4: 'voter' });
    const st4 = await c.status(4);
    assert.equal(st4.id, 4);
    assert.equal(st4.address, `127.0.0.1:${c.portOf(4)}`);
    const g4 = st4.groups.find((g: any) => g.group === 'kv');
    assert.equal(g4.role, 'follower');
    assert.equal(g4.leader, leader);
    assert.equal(g4.members.find((m: any) => m.id === 4).address, `127.0.0.1:${c.portOf(4)}`);
    await w.more(10, 10_000, 'phase 2');
  } finally {
    acked = await w.stop();
  }
  assert.ok(c.isRunning(4), `node 4 is running: ${c.procs.get(4)!.stderr}`);
  // node 4 serves local reads of everything: the seed data and every write made during the join
  for (let i = 0; i < 20; i++) {
    const g = await eventually(
      async () => {
        const r = await c.query(4, 'get', { key: k(`seed-${i}`) }, 'local');
        return r.body?.result?.value === `s${i}` ? r : undefined;
      },
      10_000,
      `seed-${i} on node 4`,
    );
    assert.equal(g.status, 200);
  }
  await assertServes(4, acked);
  const range = await c.query(4, 'range', { prefix: k('join-') }, 'local');
  assert.deepEqual(
    range.body.result.items.map((i: any) => [i.key, i.value, i.revision]),
    [...latest(acked).values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map((a) => [a.key, a.value, a.revision]),
  );
  // and linearizable reads and commands through it
  const p = await c.ok(4, 'put', { key: k('via-4'), value: 'four' });
  assert.deepEqual((await c.query(4, 'get', { key: k('via-4') })).body.result, { value: 'four', revision: p.result.revision });
});

test('demote and promote while writes flow; status shows the roles; errors 404 / 409 / 400', async () => {
  const w = writer('roles');
  let acked: Ack[] = [];
  try {
    await w.more(5, 10_000, 'phase 3');
    const leader = await c.waitLeader(members);
    const follower = members.find((id) => id !== leader && id !== 4)!;
    // demote node 4 through a follower (forwarded to the leader)
    const d = await c.req(follower, 'POST', '/v1/groups/kv/members/4/demote');
    assert.equal(d.status, 200, d.text);
    assert.deepEqual(d.body, { group: 'kv', id: 4, role: 'learner' });
    await waitMembers(members, { 1: 'voter', 2: 'voter', 3: 'voter', 4: 'learner' });
    await w.more(5, 10_000, 'phase 4');
    // a learner still replicates
    const p = await c.ok(leader, 'put', { key: k('learner-sees'), value: 'yes' });
    await eventually(
      async () => {
        const g = await c.query(4, 'get', { key: k('learner-sees') }, 'local');
        return g.body?.result?.value === 'yes' ? true : undefined;
      },
      10_000,
      'the learner to apply a new write',
    );
    assert.ok((await c.kvStatus(4)).applied >= p.index);
    const again = await c.req(leader, 'POST', '/v1/groups/kv/members/4/demote');
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error, 'conflict');
    // promote it back through node 4 itself
    const pr = await c.req(4, 'POST', '/v1/groups/kv/members/4/promote');
    assert.equal(pr.status, 200, pr.text);
    assert.deepEqual(pr.body, { group: 'kv', id: 4, role: 'voter' });
    await waitMembers(members, { 1: 'voter', 2: 'voter', 3: 'voter', 4: 'voter' });
    const prAgain = await c.req(follower, 'POST', '/v1/groups/kv/members/4/promote');
    assert.equal(prAgain.status, 409, prAgain.text);
    // unknown member / bad ids / unknown group
    for (const action of ['promote', 'demote']) {
      const r = await c.req(follower, 'POST', `/v1/groups/kv/members/9/${action}`);
      assert.equal(r.status, 404, r.text);
      const b = await c.req(follower, 'POST', `/v1/groups/kv/members/abc/${action}`);
      assert.equal(b.status, 400, b.text);
      assert.equal(b.body.field, 'id');
      const g = await c.req(follower, 'POST', `/v1/groups/nogroup/members/4/${action}`);
      assert.equal(g.status, 404, g.text);
      assert.equal(g.body.error, 'unknown_group');
    }
    await w.more(5, 10_000, 'phase 5');
  } finally {
    acked = await w.stop();
  }
  for (const id of members) await assertServes(id, acked);
});

test('POST .../members adds a learner; DELETE removes members (node 4, then the leader) while writes flow', async (t) => {
  const w = writer('remove');
  let acked: Ack[] = [];
  try {
    await w.more(5, 10_000, 'phase 6');
    const leader = await c.waitLeader(members);
    // bad bodies name the field
    const bad: [unknown, string][] = [
      [{ address: `127.0.0.1:${c.portOf(5)}` }, 'id'],
      [{ id: 'five', address: `127.0.0.1:${c.portOf(5)}` }, 'id'],
      [{ id: 5 }, 'address'],
      [{ id: 5, address: `127.0.0.1:${c.portOf(5)}`, role: 'boss' }, 'role'],
    ];
    for (const [body, field] of bad) {
      const r = await c.req(leader, 'POST', '/v1/groups/kv/members', { body });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, 'bad_request');
      assert.equal(r.body.field, field);
    }
    const dup = await c.req(leader, 'POST', '/v1/groups/kv/members', { body: { id: 4, address: `127.0.0.1:${c.portOf(4)}`, role: 'learner' } });
    assert.equal(dup.status, 409, dup.text);
    // add node 5 as a learner through a follower (no process behind it: a learner is not in the quorum)
    const follower = members.find((id) => id !== leader)!;
    const add = await c.req(follower, 'POST', '/v1/groups/kv/members', { body: { id: 5, address: `127.0.0.1:${c.portOf(5)}`, role: 'learner' } });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.body, { group: 'kv', id: 5, address: `127.0.0.1:${c.portOf(5)}`, role: 'learner' });
    await waitMembers(members, { 1: 'voter', 2: 'voter', 3: 'voter', 4: 'voter', 5: 'learner' });
    const st = await c.kvStatus(leader);
    assert.equal(st.members.find((m: any) => m.id === 5).address, `127.0.0.1:${c.portOf(5)}`);
    await w.more(5, 10_000, 'phase 7');
    const rm5 = await c.req(leader, 'DELETE', '/v1/groups/kv/members/5');
    assert.equal(rm5.status, 200, rm5.text);
    assert.deepEqual(rm5.body, { group: 'kv', id: 5, removed: true });

    // remove node 4 (a voter) through node 4 itself
    const rm4 = await c.req(4, 'DELETE', '/v1/groups/kv/members/4');
    assert.equal(rm4.status, 200, rm4.text);
    members = [1, 2, 3];
    await waitMembers([1, 2, 3], { 1: 'voter', 2: 'voter', 3: 'voter' });
    await w.more(5, 10_000, 'phase 8');
    await c.kill(4);
    const gone = await c.req(leader, 'DELETE', '/v1/groups/kv/members/4');
    assert.equal(gone.status, 404, gone.text);
    const bad4 = await c.req(leader, 'DELETE', '/v1/groups/kv/members/x');
    assert.equal(bad4.status, 400, bad4.text);
    assert.equal(bad4.body.field, 'id');

    // remove the leader itself (sent to a follower): the other two elect a leader and go on
    const current = await c.waitLeader(members);
    const rest = members.filter((id) => id !== current);
    const rmL = await c.req(rest[0]!, 'DELETE', `/v1/groups/kv/members/${current}`);
    assert.equal(rmL.status, 200, rmL.text);
    members = rest;
    await waitMembers(rest, Object.fromEntries(rest.map((id) => [id, 'voter'])));
    const next = await c.waitLeader(rest);
    assert.ok(rest.includes(next));
    await w.more(5, 10_000, 'phase 9');
    await c.kill(current);
  } finally {
    acked = await w.stop();
  }
  t.diagnostic(
    `writer retries during the membership changes: ${w.retries} (${w.clientTimeouts} after a 3 s client timeout); slowest answered request ${w.slowest.ms} ms (${w.slowest.what})`,
  );
  for (const id of members) await assertServes(id, acked);
  // the survivors agree on the status
  const sts = await Promise.all(members.map((id) => c.kvStatus(id)));
  assert.equal(new Set(sts.map((s) => s.leader)).size, 1);
  assert.equal(sts[0].members.length, 2);
});
