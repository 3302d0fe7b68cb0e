// The membership surface of the API on a 5-process raftkit-kv cluster while writes flow: roles at
// group creation (voters, learners, witnesses), a witness added and removed through
// POST .../members, and several changes at once as one joint-consensus change through
// POST .../membership, automatic and explicit (enter, status shows it, leave).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCluster, eventually, sleep } from './kv-cluster.js';

const c = new KvCluster([1, 2, 3, 4, 5]);
const run = Date.now().toString(36);

before(async () => {
  await c.startAll();
});

after(async () => {
  await c.stopAll();
});

const addr = (id: number) => `127.0.0.1:${c.portOf(id)}`;

async function groupOf(id: number, group: string): Promise<any> {
  return c.groupStatus(id, group);
}

/** "id:role" of every member, sorted, as node `id` reports them. */
async function rolesOn(id: number, group: string): Promise<string> {
  const g = await groupOf(id, group);
  return (g?.members ?? [])
    .map((m: any) => `${m.id}:${m.role}`)
    .sort()
    .join(',');
}

async function waitRoles(ids: number[], group: string, want: string, timeoutMs = 10_000): Promise<void> {
  for (const id of ids)
    await eventually(
      async () => ((await rolesOn(id, group)) === want ? true : undefined),
      timeoutMs,
      `node ${id} to list ${group} members ${want} (has ${await rolesOn(id, group).catch(() => '?')})`,
    );
}

/** Puts through `nodes` (exactly-once sessions, retried on 421/503) until stopped; counts the acknowledged ones. */
function writer(group: string, nodes: () => number[]) {
  let stop = false;
  let acked = 0;
  let lastFailure = '';
  const loop = (async () => {
    let seq = 0;
    while (!stop) {
      seq++;
      for (let attempt = 0; !stop; attempt++) {
        const live = nodes();
        const id = live[(seq + attempt) % live.length]!;
        const r = await c
          .req(id, 'POST', `/v1/groups/${group}/commands/put`, {
            body: { key: `${run}-${seq % 8}`, value: String(seq) },
            headers: { 'x-raft-client-id': `w-${group}-${run}`, 'x-raft-sequence': String(seq) },
            timeoutMs: 3000,
          })
          .catch((e: Error) => ({ status: 0, text: e.message }));
        if (r.status === 200) {
          acked++;
          break;
        }
        lastFailure = `${r.status} ${r.text.slice(0, 200)}`;
        if (r.status !== 503 && r.status !== 421 && r.status !== 0) throw new Error(`writer: put answered ${lastFailure}`);
        if (attempt > 200) throw new Error(`writer: not acknowledged after ${attempt} attempts: ${lastFailure}`);
        await sleep(50);
      }
    }
  })();
  return {
    async more(n: number, what: string) {
      const target = acked + n;
      await eventually(async () => (acked >= target ? true : undefined), 15_000, `${n} more writes to ${group} (${what}); last failure ${lastFailure || 'none'}`);
    },
    async stop() {
      stop = true;
      await loop;
      return acked;
    },
  };
}

test('roles at group creation: voters, a witness and a learner; writes commit through the learner and with a voter down', async () => {
  const bad: [unknown, string][] = [
    [[{ id: 1, address: addr(1), role: 'boss' }], 'members[0].role'],
    [
      [
        { id: 1, address: addr(1), role: 'witness' },
        { id: 2, address: addr(2), role: 'learner' },
      ],
      'members',
    ],
  ];
  for (const [members, field] of bad) {
    const r = await c.req(1, 'POST', '/v1/groups', { body: { group: `bad-${run}`, type: 'kv', members } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.field, field, r.text);
  }
  const members = [
    { id: 1, address: addr(1), role: 'voter' },
    { id: 2, address: addr(2) }, // voter by default
    { id: 3, address: addr(3), role: 'witness' },
    { id: 4, address: addr(4), role: 'learner' },
  ];
  const r = await c.req(1, 'POST', '/v1/groups', { body: { group: 'roles', type: 'kv', members } });
  assert.equal(r.status, 201, r.text);
  await waitRoles([1, 2, 3, 4], 'roles', '1:voter,2:voter,3:witness,4:learner');
  await eventually(async () => ((await groupOf(1, 'roles'))?.leader ? true : undefined), 10_000, 'a leader of roles');
  const leader = (await groupOf(1, 'roles')).leader;
  assert.ok([1, 2].includes(leader), `a witness or learner never leads (leader ${leader})`);
  // through the learner (it forwards)
  const p = await c.req(4, 'POST', '/v1/groups/roles/commands/put', { body: { key: 'a', value: '1' } });
  assert.equal(p.status, 200, p.text);
  await eventually(
    async () => {
      const g = await c.req(4, 'POST', '/v1/groups/roles/queries/get?consistency=local', { body: { key: 'a' } });
      return g.body?.result?.value === '1' ? true : undefined;
    },
    10_000,
    'the learner to hold the data',
  );
  // the witness counts for the quorum: with the other data voter stopped, writes still commit
  const other = leader === 1 ? 2 : 1;
  c.procs.get(other)!.child.kill('SIGSTOP');
  try {
    const q = await c.req(leader, 'POST', '/v1/groups/roles/commands/put', { body: { key: 'a', value: '2' }, timeoutMs: 5000 });
    assert.equal(q.status, 200, `voter ${leader} + witness 3 are a quorum of {1,2,3}: ${q.text}`);
  } finally {
    c.procs.get(other)!.child.kill('SIGCONT');
  }
});

test('a witness is added and removed through POST/DELETE .../members while writes flow', async () => {
  const w = writer('roles', () => [1, 2, 4]);
  try {
    await w.more(5, 'before');
    const add = await c.req(4, 'POST', '/v1/groups/roles/members', { body: { id: 5, address: addr(5), role: 'witness' } });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.body, { group: 'roles', id: 5, address: addr(5), role: 'witness' });
    await waitRoles([1, 2], 'roles', '1:voter,2:voter,3:witness,4:learner,5:witness');
    await w.more(5, 'with witness 5');
    const rm = await c.req(2, 'DELETE', '/v1/groups/roles/members/5');
    assert.equal(rm.status, 200, rm.text);
    await waitRoles([1, 2], 'roles', '1:voter,2:voter,3:witness,4:learner');
    await w.more(5, 'after');
  } finally {
    await w.stop();
  }
});

test('several changes at once go through joint consensus: automatic, then explicit with its own leave', async (t) => {
  const created = await c.req(1, 'POST', '/v1/groups', {
    body: {
      group: 'joint',
      type: 'kv',
      members: [1, 2, 3].map((id) => ({ id, address: addr(id) })).concat([4, 5].map((id) => ({ id, address: addr(id), role: 'learner' }) as any)),
    },
  });
  assert.equal(created.status, 201, created.text);
  await waitRoles([1, 2, 3, 4, 5], 'joint', '1:voter,2:voter,3:voter,4:learner,5:learner');
  let writeVia = [1, 2, 3, 4, 5];
  const w = writer('joint', () => writeVia);
  try {
    await w.more(5, 'before');
    // bad bodies name the field; nothing changes
    const bad: [unknown, string, number][] = [
      [{}, 'changes', 400],
      [{ changes: [{ id: 4, role: 'boss' }] }, 'changes[0].role', 400],
      [{ changes: [{ id: 4, role: 'voter' }], transition: 'sideways' }, 'transition', 400],
      [{ changes: [{ id: 9, role: 'voter' }] }, 'changes[0].address', 400],
      [{ changes: [{ id: 9, role: 'removed' }] }, 'changes[0].id', 404],
      [
        {
          changes: [
            { id: 4, role: 'voter' },
            { id: 4, role: 'learner' },
          ],
        },
        'changes[1].id',
        400,
      ],
    ];
    for (const [body, field, status] of bad) {
      const r = await c.req(2, 'POST', '/v1/groups/joint/membership', { body });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.field, field, r.text);
    }
    const notJoint = await c.req(2, 'POST', '/v1/groups/joint/membership', { body: { changes: [] } });
    assert.equal(notJoint.status, 409, notJoint.text);

    // Automatic: 4 and 5 become voters and 1 and 2 leave, in one change (sent to a follower).
    const auto = await c.req(3, 'POST', '/v1/groups/joint/membership', {
      body: {
        changes: [
          { id: 4, role: 'voter' },
          { id: 5, role: 'voter' },
          { id: 1, role: 'removed' },
          { id: 2, role: 'removed' },
        ],
      },
    });
    assert.equal(auto.status, 200, auto.text);
    assert.equal(auto.body.jointOutgoing, undefined, 'answered once the joint configuration was left');
    assert.deepEqual(auto.body.members.map((m: any) => `${m.id}:${m.role}`).sort(), ['3:voter', '4:voter', '5:voter']);
    writeVia = [3, 4, 5];
    await waitRoles([3, 4, 5], 'joint', '3:voter,4:voter,5:voter');
    await w.more(5, 'after the automatic joint change');

    // Explicit: demote 5 and stay joint until told to leave.
    const enter = await c.req(4, 'POST', '/v1/groups/joint/membership', { body: { changes: [{ id: 5, role: 'learner' }], transition: 'explicit' } });
    assert.equal(enter.status, 200, enter.text);
    assert.deepEqual(enter.body.jointOutgoing, [3, 4, 5]);
    for (const id of [3, 4, 5])
      await eventually(async () => ((await groupOf(id, 'joint'))?.jointOutgoing?.join(',') === '3,4,5' ? true : undefined), 10_000, `node ${id} to show the joint configuration`);
    // While joint, node 5 is listed once, as what it becomes (its outgoing vote shows in jointOutgoing).
    assert.equal(await rolesOn(4, 'joint'), '3:voter,4:voter,5:learner');
    await w.more(5, 'while joint');
    const another = await c.req(4, 'POST', '/v1/groups/joint/membership', { body: { changes: [{ id: 4, role: 'learner' }] } });
    assert.equal(another.status, 409, `no new change while joint: ${another.text}`);
    const leave = await c.req(5, 'POST', '/v1/groups/joint/membership', { body: { changes: [] } });
    assert.equal(leave.status, 200, leave.text);
    assert.equal(leave.body.jointOutgoing, undefined);
    await waitRoles([3, 4, 5], 'joint', '3:voter,4:voter,5:learner');
    for (const id of [3, 4, 5]) assert.equal((await groupOf(id, 'joint')).jointOutgoing, undefined);
    await w.more(5, 'after leaving');
  } finally {
    t.diagnostic(`joint group: ${await w.stop()} writes acknowledged during the changes`);
  }
});
