// The Mutex recipe under faults, black-box: 3 raftkit-meta processes, 4 contender processes
// (mutex-worker.ts: MetaClient of every node, its own Session with a 2 s TTL) taking one lock for
// 20 s. Each hold: lock, 250 ms of "work", one guarded write, unlock. The guarded write is a txn
// that puts the hold's fencing token (the lock key's create revision, as a 20-digit decimal) into
// a guard key if the lock key still has that create revision (Mutex.isOwner) and the guard's value
// is below the token (byte order = numeric order). Meanwhile the test kills the raft leader with
// kill -9 and restarts it, pauses a follower with SIGSTOP for 3 s, and pauses the contender that
// holds the lock with SIGSTOP for longer than its TTL (a process that loses its lock without
// knowing: its lease expires, the next contender takes over, then it wakes up and writes).
//
// Checked at the end against the store's own history (every event under the test's prefix, read
// with a watch from the first revision):
// 1. Fencing: the guard's values, in revision order, strictly increase.
// 2. Exclusion in revision space: every successful guarded write at revision W carries the token
//    of the lock's owner at W, the live lock key with the lowest create revision (from the lock
//    keys' puts and deletes in the history). So no write came from a holder whose lock had
//    passed on, whatever the clients believed.
// 3. Every hold was real: at the revision where lock() confirmed it (heldSince) the history shows
//    the contender's own key as the owner, with the token lock() returned; ordered by heldSince,
//    the tokens strictly increase.
// 4. The clients' reports match the store: every write reported ok is in the history at its
//    revision with its token; every guarded write in the history was sent by the hold with that
//    token (reported ok, or with an unknown outcome).
// 5. Exclusion in time: two holds of different contenders overlap in wall-clock time (acquired =
//    lock() resolved; released = the contender stopped counting on the lock, before its unlock
//    was sent) only when the older one (lower token) was lost (its session ended, its write was
//    refused because its key was gone, or its key was gone at unlock), and then none of its
//    writes sent after the newer hold was acquired succeeded, and no write with its token is in
//    the history after the newer hold's heldSince.
// 6. Progress: at least MIN_ACQUISITIONS holds and MIN_WRITES successful writes, holds after each
//    fault ended, every contender ran to its end, and the paused holder (when the pause caught it
//    holding) lost its hold and its write after waking was not applied.
// The test finishes within 60 s.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixEnd, prefixRange, putRequest, watchRequest, type Event } from '@raftkit/metadata-demo';
import { MetaClient } from '@raftkit/metadata-demo/client';
import { tokenString } from '@raftkit/metadata-demo/recipes';
import { spawnNode } from '../support/proc.js';
import { sleep } from '../support/eventually.js';
import { ELECTION_MS, HEARTBEAT_MS, META_BIN, MetaCluster } from './meta-cluster.js';
import type { WorkerConfig } from './mutex-worker.js';

const WORKER_JS = fileURLToPath(new URL('./mutex-worker.js', import.meta.url));
const PREFIX = 'mfault/';
const LOCK = `${PREFIX}lock`;
const GUARD = `${PREFIX}guard`;
const WORKERS = 4;
const RUN_MS = 20_000;
const TTL_S = 2;
const HOLD_MS = 250;
const MIN_ACQUISITIONS = 12;
const MIN_WRITES = 10;

interface Report {
  w: number;
  e: 'session' | 'acquired' | 'write' | 'released' | 'error' | 'done';
  at?: number;
  lease?: string;
  token?: number;
  heldSince?: number;
  sentAt?: number;
  doneAt?: number;
  outcome?: 'ok' | 'refused' | 'unknown';
  revision?: number;
  why?: string;
  lost?: boolean;
  message?: string;
}

interface Hold {
  w: number;
  lease: string;
  token: number;
  heldSince: number;
  acquiredAt: number;
  releasedAt: number;
  lost: boolean;
  why?: string | undefined;
  writes: Report[];
}

interface Worker {
  id: number;
  child: ChildProcess;
  reports: Report[];
  stderr: string;
  exited: Promise<number | null>;
}

function startWorker(config: WorkerConfig): Worker {
  const child = spawn(process.execPath, [WORKER_JS, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const w: Worker = { id: config.id, child, reports: [], stderr: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      w.reports.push(JSON.parse(partial.slice(0, nl)) as Report);
      partial = partial.slice(nl + 1);
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    if (w.stderr.length < 50_000) w.stderr += d.toString();
  });
  return w;
}

/** Restarts node `id` of `c` with the arguments MetaCluster.startAll gave it (same ports, same data dir). */
function restart(c: MetaCluster, id: number): void {
  const peers = c.ids.map((i) => `${i}=127.0.0.1:${c.http.get(i)}`).join(',');
  const args = [META_BIN, '--id', String(id), '--listen', `127.0.0.1:${c.http.get(id)}`, '--grpc-listen', `127.0.0.1:${c.grpc.get(id)}`];
  args.push('--peers', peers, '--data-dir', join(c.root, `n${id}`), '--log-level', 'warn');
  args.push('--heartbeat-ms', String(HEARTBEAT_MS), '--election-ms', String(ELECTION_MS));
  c.procs.set(id, spawnNode(id, c.http.get(id)!, join(c.root, `n${id}`), args));
}

/** Every event under `prefix` from revision `from` up to the current revision, from the store's history. */
async function readHistory(client: MetaClient, prefix: string, from: number): Promise<Event[]> {
  const upTo = (await client.range(prefixRange(prefix, { countOnly: true }))).header.revision;
  return new Promise((resolve, reject) => {
    const events: Event[] = [];
    let finished = false;
    const finish = (e?: Error) => {
      if (finished) return;
      finished = true;
      clearInterval(poll);
      clearTimeout(timeout);
      handle.cancel();
      if (e) reject(e);
      else resolve(events);
    };
    const handle = client.watch(watchRequest(prefix, { rangeEnd: prefixEnd(prefix), startRevision: from }), {
      send: (r) => {
        if (r.canceled) finish(new Error(`the history watch was canceled: ${r.cancelReason} (compact revision ${r.compactRevision})`));
        events.push(...r.events);
        const reached = events.length > 0 && events[events.length - 1]!.kv.modRevision >= upTo;
        // A progress answer: every event up to its revision has been sent.
        if (reached || (!r.created && r.events.length === 0 && r.header.revision >= upTo)) finish();
        return true;
      },
    });
    const poll = setInterval(() => handle.requestProgress(), 250);
    const timeout = setTimeout(() => finish(new Error(`the history up to revision ${upTo} did not arrive`)), 10_000);
  });
}

test('Mutex under kill -9 of the leader, SIGSTOP of a follower and of the holder: fenced writes, exclusion, progress', { timeout: 60_000 }, async (t) => {
  const testStart = Date.now();
  const c = new MetaCluster();
  const workers: Worker[] = [];
  let client: MetaClient | undefined;
  t.after(async () => {
    client?.close();
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGCONT');
        w.child.kill('SIGKILL');
      }
    }
    for (const p of c.procs.values()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGCONT');
    await c.stopAll();
  });

  await c.startAll();
  const endpoints = c.ids.map((id) => `127.0.0.1:${c.grpc.get(id)}`);
  client = new MetaClient({ endpoints, callTimeoutMs: 5000, attemptTimeoutMs: 1000, connectTimeoutMs: 500, keepAliveTimeMs: 1000, keepAliveTimeoutMs: 1000 });
  // A value compare on a missing key fails (etcd's rule): the guard starts at token 0.
  const from = (await client.put(putRequest(GUARD, tokenString(0)))).header.revision;

  for (let i = 0; i < WORKERS; i++) {
    // Each contender starts on a different node (and fails over to the others).
    const rotated = [...endpoints.slice(i % endpoints.length), ...endpoints.slice(0, i % endpoints.length)];
    workers.push(startWorker({ id: i + 1, endpoints: rotated, lock: LOCK, guard: GUARD, runMs: RUN_MS, ttl: TTL_S, holdMs: HOLD_MS }));
  }
  const t0 = Date.now();
  const faults: Record<string, { from: number; to: number; detail: string }> = {};
  const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));

  // kill -9 the leader, restart it 2 s later.
  await at(3000);
  const leader = await c.waitLeader();
  const killedAt = Date.now();
  await c.kill(leader);
  await at(5000);
  restart(c, leader);
  faults['leader kill -9'] = { from: killedAt, to: Date.now(), detail: `node ${leader}` };

  // SIGSTOP a follower (another node than the one killed, when it can be) for 3 s.
  await at(8000);
  const leader2 = await c.waitLeader();
  const follower = c.ids.find((id) => id !== leader2 && id !== leader) ?? c.ids.find((id) => id !== leader2)!;
  const stoppedAt = Date.now();
  c.procs.get(follower)!.child.kill('SIGSTOP');
  await sleep(3000);
  c.procs.get(follower)!.child.kill('SIGCONT');
  faults['follower SIGSTOP'] = { from: stoppedAt, to: Date.now(), detail: `node ${follower}` };

  // SIGSTOP the contender holding the lock for longer than its TTL.
  await at(13_000);
  let paused: { worker: Worker; from: number; to: number } | undefined;
  for (let tries = 0; tries < 40 && !paused; tries++) {
    const owner = (await client.range(prefixRange(`${LOCK}/`, { sortOrder: 'ascend', sortTarget: 'create', limit: 1 }))).kvs[0];
    const lease = owner?.key.toString().slice(LOCK.length + 1);
    const worker = workers.find((w) => w.reports.some((r) => r.e === 'session' && r.lease === lease));
    if (worker) {
      worker.child.kill('SIGSTOP');
      const from = Date.now();
      await sleep(TTL_S * 1000 + 1500);
      worker.child.kill('SIGCONT');
      paused = { worker, from, to: Date.now() };
      faults['holder SIGSTOP'] = { from, to: paused.to, detail: `contender ${worker.id}` };
    } else {
      await sleep(25);
    }
  }

  let giveUp: NodeJS.Timeout | undefined;
  const codes = await Promise.race([
    Promise.all(workers.map((w) => w.exited)),
    new Promise<undefined>((resolve) => (giveUp = setTimeout(() => resolve(undefined), Math.max(0, t0 + RUN_MS + 15_000 - Date.now())))),
  ]);
  clearTimeout(giveUp);
  assert.ok(codes, `the contenders did not finish: ${workers.map((w) => `${w.id}: ${w.child.exitCode}`).join(', ')}`);
  for (const w of workers) {
    assert.equal(codes[w.id - 1], 0, `contender ${w.id} exited ${codes[w.id - 1]}: ${w.stderr}`);
    assert.ok(
      w.reports.some((r) => r.e === 'done'),
      `contender ${w.id} ran to its end`,
    );
  }

  // ---- the store's history ----
  const history = await readHistory(client, PREFIX, from);
  const lockKeys: { key: string; created: number; deleted: number }[] = [];
  const guardPuts: { revision: number; token: number }[] = [];
  for (const e of history) {
    const key = e.kv.key.toString();
    if (key === GUARD) {
      if (e.type === 'put' && e.kv.modRevision > from) guardPuts.push({ revision: e.kv.modRevision, token: Number(e.kv.value.toString()) });
    } else if (key.startsWith(`${LOCK}/`)) {
      if (e.type === 'put' && e.kv.version === 1) lockKeys.push({ key, created: e.kv.createRevision, deleted: Infinity });
      else if (e.type === 'delete') {
        const live = lockKeys.find((k) => k.key === key && k.deleted === Infinity);
        assert.ok(live, `a delete of ${key} at ${e.kv.modRevision} with no put before it`);
        live.deleted = e.kv.modRevision;
      }
    }
  }
  /** The lock's owner after revision `rev` was applied: the live key with the lowest create revision. */
  const ownerAt = (rev: number) => lockKeys.filter((k) => k.created <= rev && k.deleted > rev).sort((a, b) => a.created - b.created)[0];

  // ---- the contenders' reports, as holds ----
  const holds: Hold[] = [];
  const errors: string[] = [];
  for (const w of workers) {
    let lease = '';
    let current: Hold | undefined;
    for (const r of w.reports) {
      if (r.e === 'session') lease = r.lease!;
      else if (r.e === 'acquired') {
        current = { w: w.id, lease, token: r.token!, heldSince: r.heldSince!, acquiredAt: r.at!, releasedAt: Infinity, lost: false, writes: [] };
        holds.push(current);
      } else if (r.e === 'write') current!.writes.push(r);
      else if (r.e === 'released') {
        current!.releasedAt = r.at!;
        current!.lost = r.lost === true;
        current!.why = r.why;
        current = undefined;
      } else if (r.e === 'error') errors.push(`contender ${w.id}: ${r.message}`);
    }
  }
  const okWrites = holds.flatMap((h) => h.writes.filter((x) => x.outcome === 'ok').map((x) => ({ ...x, w: h.w })));
  const summary = {
    acquisitions: holds.length,
    okWrites: okWrites.length,
    refusedWrites: holds.flatMap((h) => h.writes).filter((x) => x.outcome === 'refused').length,
    unknownWrites: holds.flatMap((h) =>
      h.writes
        .filter((x) => x.outcome === 'unknown')
        .map((x) => `contender ${h.w} token ${h.token}: ${guardPuts.some((g) => g.token === h.token) ? 'applied' : 'not applied'} (${x.why})`),
    ),
    lostHolds: holds.filter((h) => h.lost).map((h) => `contender ${h.w} token ${h.token}: ${h.why}`),
    guardWrites: guardPuts.length,
    lockKeys: lockKeys.length,
    errors: errors.length,
    faults,
  };
  t.diagnostic(JSON.stringify(summary));
  t.diagnostic(`errors reported by the contenders (retried): ${JSON.stringify(errors.slice(0, 20))}`);

  // 1. Fencing.
  for (let i = 1; i < guardPuts.length; i++) {
    assert.ok(guardPuts[i]!.token > guardPuts[i - 1]!.token, `guard write at ${guardPuts[i]!.revision} (token ${guardPuts[i]!.token}) after token ${guardPuts[i - 1]!.token}`);
  }
  // 2. Exclusion in revision space.
  for (const g of guardPuts) {
    const owner = ownerAt(g.revision);
    assert.equal(
      owner?.created,
      g.token,
      `the guard write at revision ${g.revision} carries token ${g.token}, but the lock's owner then was ${owner ? `${owner.key} (${owner.created})` : 'nobody'}`,
    );
  }
  // 3. Every hold was real at its confirmation, and holds are ordered by token.
  for (const h of holds) {
    const owner = ownerAt(h.heldSince);
    assert.deepEqual([owner?.key, owner?.created], [`${LOCK}/${h.lease}`, h.token], `contender ${h.w} was told it held the lock with token ${h.token} at revision ${h.heldSince}`);
  }
  const bySince = [...holds].sort((a, b) => a.heldSince - b.heldSince);
  for (let i = 1; i < bySince.length; i++)
    assert.ok(bySince[i]!.token > bySince[i - 1]!.token, `tokens by confirmation revision: ${bySince[i - 1]!.token} then ${bySince[i]!.token}`);
  // 4. The reports match the store.
  for (const x of okWrites) {
    assert.ok(
      guardPuts.some((g) => g.revision === x.revision && g.token === x.token),
      `contender ${x.w}'s write of token ${x.token} reported ok at revision ${x.revision} is not in the history`,
    );
  }
  for (const g of guardPuts) {
    const sender = holds.find((h) => h.token === g.token);
    assert.ok(sender, `nobody held token ${g.token}, written at ${g.revision}`);
    assert.ok(
      sender.writes.some((x) => (x.outcome === 'ok' && x.revision === g.revision) || x.outcome === 'unknown'),
      `the write of token ${g.token} at ${g.revision} matches contender ${sender.w}'s reports`,
    );
  }
  // 5. Exclusion in time.
  let overlaps = 0;
  for (const a of holds) {
    for (const b of holds) {
      if (a.w === b.w || a.token >= b.token) continue;
      if (!(a.acquiredAt < b.releasedAt && b.acquiredAt < a.releasedAt)) continue;
      overlaps++;
      assert.ok(
        a.lost,
        `contender ${a.w} (token ${a.token}, held ${a.acquiredAt}-${a.releasedAt}) overlaps contender ${b.w} (token ${b.token}, ${b.acquiredAt}-${b.releasedAt}) without having lost its hold`,
      );
      for (const x of a.writes) {
        if (x.sentAt! > b.acquiredAt) assert.notEqual(x.outcome, 'ok', `contender ${a.w}'s write sent after contender ${b.w} acquired succeeded`);
      }
      assert.ok(!guardPuts.some((g) => g.token === a.token && g.revision > b.heldSince), `token ${a.token} written after token ${b.token} was confirmed at ${b.heldSince}`);
    }
  }
  t.diagnostic(`overlapping holds (each with the older one lost and fenced): ${overlaps}`);
  // 6. Progress.
  assert.ok(holds.length >= MIN_ACQUISITIONS, `${holds.length} acquisitions (at least ${MIN_ACQUISITIONS} expected)`);
  assert.ok(okWrites.length >= MIN_WRITES, `${okWrites.length} successful guarded writes (at least ${MIN_WRITES} expected)`);
  for (const [name, f] of Object.entries(faults)) {
    assert.ok(
      holds.some((h) => h.acquiredAt > f.to),
      `a hold after the ${name} (${f.detail}) ended`,
    );
  }
  assert.ok(paused, 'the pause caught a contender holding (or queued for) the lock');
  const pause = paused;
  const caught = holds.find((h) => h.w === pause.worker.id && h.acquiredAt < pause.from && h.releasedAt > pause.from);
  if (caught) {
    assert.equal(caught.lost, true, 'the paused holder lost its hold');
    for (const x of caught.writes) if (x.sentAt! > pause.from) assert.notEqual(x.outcome, 'ok', "the paused holder's write after waking was applied");
    assert.ok(
      holds.some((h) => h.w !== caught.w && h.acquiredAt > pause.from && h.acquiredAt < pause.to),
      'another contender took the lock while the holder was paused',
    );
  } else {
    t.diagnostic(`the paused contender ${pause.worker.id} was between holds when paused`);
  }
  assert.ok(Date.now() - testStart < 60_000);
});
