import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcCluster, eventually, sleep } from './procs.js';

/** Proposes unique values through whichever node leads, until stopped; returns the acknowledged ones. */
function proposer(c: ProcCluster, live: () => number[]) {
  const acked: string[] = [];
  let stop = false;
  let seq = 0;
  const run = (async () => {
    let target = live()[0]!;
    while (!stop) {
      const value = `p${seq++}`;
      try {
        const r = await c.propose(target, value);
        if (r.status === 200) acked.push(value);
        else if (r.status === 421 && r.body.leader) target = r.body.leader;
        else await sleep(50);
      } catch {
        const l = live();
        target = l[(l.indexOf(target) + 1) % l.length] ?? l[0]!;
        await sleep(50);
      }
    }
  })();
  return {
    acked,
    stop: async () => {
      stop = true;
      await run;
    },
  };
}

test('kill -9 of the leader under load: every acknowledged proposal is applied exactly once everywhere', { timeout: 90_000 }, async () => {
  const c = new ProcCluster([1, 2, 3], ['--tick-ms', '20']);
  await c.startAll();
  try {
    const first = await c.waitLeader();
    let down: number | undefined;
    const p = proposer(c, () => c.ids.filter((id) => id !== down));
    await eventually(async () => (p.acked.length >= 100 ? true : undefined), 20_000, '100 acknowledged proposals');
    down = first;
    await c.kill(first);
    const ackedAtKill = p.acked.length;
    await c.waitLeader(
      'g',
      c.ids.filter((id) => id !== first),
    );
    await eventually(async () => (p.acked.length >= ackedAtKill + 100 ? true : undefined), 20_000, 'progress after the kill');
    c.start(first);
    down = undefined;
    await sleep(500);
    await p.stop();
    const acked = p.acked;
    const states = await eventually(
      async () => {
        const all = await Promise.all(c.ids.map((id) => c.get(id, '/state?items=1')));
        const counts = new Set(all.map((s) => s.count));
        return counts.size === 1 && all[0].count >= acked.length ? all : undefined;
      },
      20_000,
      'every node to apply the same history',
    );
    assert.equal(new Set(states.map((s) => s.checksum)).size, 1, 'applied-history checksums differ');
    const items: string[] = states[0].items;
    const seen = new Map<string, number>();
    for (const v of items) seen.set(v, (seen.get(v) ?? 0) + 1);
    for (const v of acked) assert.equal(seen.get(v), 1, `acknowledged ${v} applied ${seen.get(v) ?? 0} times`);
  } finally {
    await c.stopAll();
  }
});

test('a follower stopped (SIGSTOP) for several election timeouts catches up after SIGCONT, by snapshot when compacted', { timeout: 90_000 }, async () => {
  const c = new ProcCluster([1, 2, 3], ['--tick-ms', '20', '--snapshot-entries', '200']);
  await c.startAll();
  try {
    const leader = await c.waitLeader();
    const follower = c.ids.find((id) => id !== leader)!;
    c.signal(follower, 'SIGSTOP');
    await sleep(1500); // several election timeouts (10 ticks of 20 ms)
    for (let i = 0; i < 600; i++) {
      const r = await c.propose(leader, `v${i}`);
      assert.equal(r.status, 200);
    }
    const leaderState = await c.get(leader, '/state');
    assert.ok(leaderState.firstIndex > 300, `the leader compacted its log (first index ${leaderState.firstIndex})`);
    c.signal(follower, 'SIGCONT');
    const st = await eventually(
      async () => {
        const s = await c.get(follower, '/state');
        return s.count === 600 ? s : undefined;
      },
      20_000,
      'the follower to catch up',
    );
    assert.equal(st.checksum, leaderState.checksum);
    assert.equal(await c.leader(), leader, 'the resumed follower did not disrupt the leader');
  } finally {
    await c.stopAll();
  }
});

test('1,000 groups across 3 processes all elect leaders', { timeout: 120_000 }, async () => {
  const c = new ProcCluster([1, 2, 3], ['--groups', '1000', '--tick-ms', '50']);
  await c.startAll();
  try {
    await eventually(
      async () => {
        const st = await c.get(1, '/status');
        const withLeader = st.groups.filter((g: { leader: number }) => g.leader !== 0).length;
        return st.groups.length === 1000 && withLeader === 1000 ? true : undefined;
      },
      90_000,
      'a leader in each of 1,000 groups',
    );
    const r = await c.propose(await c.waitLeader('g500'), 'x', 'g500');
    assert.equal(r.status, 200);
  } finally {
    await c.stopAll();
  }
});

test('a corrupt byte in the log database: start-up fails with a clear message and a non-zero exit', { timeout: 60_000 }, async () => {
  const c = new ProcCluster([1, 2, 3], ['--tick-ms', '20']);
  await c.startAll();
  try {
    const leader = await c.waitLeader();
    for (let i = 0; i < 50; i++) await c.propose(leader, `needle-${String(i).padStart(4, '0')}-payload`);
    const victim = c.ids.find((id) => id !== leader)!;
    await eventually(async () => ((await c.get(victim, '/state')).count === 50 ? true : undefined), 10_000, 'replication');
    c.signal(victim, 'SIGTERM');
    assert.equal(await c.procs.get(victim)!.exited, 0);
    const db = join(c.procs.get(victim)!.dataDir, 'raft.db');
    const bytes = readFileSync(db);
    const at = bytes.indexOf(Buffer.from('needle-0025-payload'));
    assert.ok(at > 0, 'the entry is in the database file');
    bytes[at + 7] = bytes[at + 7]! ^ 0xff;
    writeFileSync(db, bytes);
    const p = c.start(victim);
    const code = await p.exited;
    assert.notEqual(code, 0, `exit ${code}; stderr: ${p.stderr}`);
    const line = p.stderr.trim().split('\n').pop()!;
    assert.match(line, /corrupt/i);
    assert.match(line, /"g"/);
  } finally {
    await c.stopAll();
  }
});
