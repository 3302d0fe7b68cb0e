// The watch stream (WebSocket and NDJSON) of a 3-node raftkit-kv cluster: order, fields, the
// command's index equals the watch's, resume without gaps or duplicates, errors (400, 404, 410).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCluster, eventually, readNdjson, sleep, type WatchEntry } from './kv-cluster.js';

const c = new KvCluster([1, 2, 3]);
const run = Date.now().toString(36);
const k = (s: string) => `watch-${run}/${s}`;

before(async () => {
  await c.startAll();
});

after(async () => {
  await c.stopAll();
});

interface Sent {
  command: string;
  args: any;
  result: any;
  index: number;
}

/** Runs a mix of put / delete / cas through rotating nodes and returns what each answered. */
async function mixedCommands(n: number, tag: string): Promise<Sent[]> {
  const out: Sent[] = [];
  for (let i = 0; i < n; i++) {
    const id = c.ids[i % c.ids.length]!;
    let command: string;
    let args: any;
    switch (i % 4) {
      case 0:
      case 1:
        command = 'put';
        args = { key: k(`${tag}-${i % 5}`), value: `v${i}` };
        break;
      case 2:
        command = 'delete';
        args = { key: k(`${tag}-${(i + 3) % 5}`) };
        break;
      default:
        command = 'cas';
        args = { key: k(`${tag}-${i % 5}`), expected: i % 8 === 3 ? null : `v${i - 2}`, value: `c${i}` };
    }
    const r = await c.ok(id, command, args);
    out.push({ command, args, result: r.result, index: r.index });
  }
  return out;
}

function assertStrictlyIncreasing(entries: WatchEntry[], what: string): void {
  for (let i = 1; i < entries.length; i++) {
    assert.ok(entries[i]!.index > entries[i - 1]!.index, `${what}: index ${entries[i]!.index} after ${entries[i - 1]!.index}`);
  }
}

/** Every sent command appears at exactly its answered index, with its command, args and result. */
function assertContains(entries: WatchEntry[], sent: Sent[], what: string): void {
  const byIndex = new Map(entries.map((e) => [e.index, e]));
  for (const s of sent) {
    const e = byIndex.get(s.index);
    assert.ok(e, `${what}: no watch entry at index ${s.index} (${s.command} ${JSON.stringify(s.args)})`);
    assert.equal(e.command, s.command, `${what}: command at ${s.index}`);
    assert.deepEqual(e.args, s.args, `${what}: args at ${s.index}`);
    assert.deepEqual(e.result, s.result, `${what}: result at ${s.index}`);
    assert.ok(Number.isInteger(e.term) && e.term >= 1);
  }
}

test('WebSocket watch from an index streams the applied entries in order; each command index equals the watch index', async () => {
  const sent = await mixedCommands(24, 'ws');
  const from = sent[0]!.index;
  const last = sent.at(-1)!.index;
  for (const id of c.ids) {
    await c.waitApplied(id, last);
    const w = c.watch(id, `?from=${from}`);
    try {
      await w.opened;
      await w.until(last);
      assert.equal(w.entries[0]!.index, from, `node ${id}: the stream starts at from`);
      assertStrictlyIncreasing(w.entries, `node ${id}`);
      for (const e of w.entries) assert.deepEqual(Object.keys(e).sort(), ['args', 'command', 'index', 'result', 'term']);
      assertContains(w.entries, sent, `node ${id}`);
      // a single writer and no leader change: nothing but our commands in between
      assert.deepEqual(
        w.entries.filter((e) => e.index <= last).map((e) => e.index),
        sent.map((s) => s.index),
      );
    } finally {
      await w.close();
    }
  }
});

test('a live WebSocket watch (no from) gets new entries as they are applied, on leader and followers', async () => {
  const watches = c.ids.map((id) => c.watch(id, ''));
  try {
    await Promise.all(watches.map((w) => w.opened));
    await sleep(50);
    const sent = await mixedCommands(8, 'live');
    for (const [i, w] of watches.entries()) {
      await w.until(sent.at(-1)!.index);
      assertStrictlyIncreasing(w.entries, `live on node ${c.ids[i]}`);
      assertContains(w.entries, sent, `live on node ${c.ids[i]}`);
      assert.ok(w.entries[0]!.index <= sent[0]!.index);
    }
  } finally {
    await Promise.all(watches.map((w) => w.close()));
  }
});

test('reconnect and resume from last index + 1 while writes flow: no gaps, no duplicates', async () => {
  const leader = await c.waitLeader();
  const follower = c.ids.find((id) => id !== leader)!;
  const start = await c.ok(leader, 'put', { key: k('resume-start'), value: '0' });
  // a writer in the background
  let stop = false;
  const written: Sent[] = [];
  const writer = (async () => {
    let i = 0;
    while (!stop) {
      const args = { key: k(`resume-${i % 7}`), value: `r${i}` };
      const r = await c.ok(c.ids[i % 3]!, 'put', args);
      written.push({ command: 'put', args, result: r.result, index: r.index });
      i++;
    }
  })();
  const got: WatchEntry[] = [];
  try {
    let from = start.index;
    // four sessions, alternating nodes, each cut after a few entries
    for (let s = 0; s < 4; s++) {
      const id = s % 2 === 0 ? follower : leader;
      const w = c.watch(id, `?from=${from}`);
      await w.opened;
      await eventually(async () => (w.entries.length >= 5 ? true : undefined), 10_000, `session ${s} to get 5 entries`);
      await w.close();
      const batch = [...w.entries];
      assert.equal(batch[0]!.index, from, `session ${s} resumes exactly at ${from}`);
      got.push(...batch);
      from = batch.at(-1)!.index + 1;
    }
  } finally {
    stop = true;
    await writer;
  }
  const lastGot = got.at(-1)!.index;
  assertStrictlyIncreasing(got, 'resumed sessions');
  // The reference: one uninterrupted NDJSON stream over the same range.
  const ref = await readNdjson(c.portOf(leader), `/v1/groups/kv/watch?from=${start.index}`, lastGot);
  assert.equal(ref.status, 200);
  const refEntries = ref.lines.filter((e) => e.index <= lastGot);
  assert.deepEqual(got, refEntries, 'the resumed sessions saw exactly the uninterrupted stream');
  assertContains(
    got,
    written.filter((w) => w.index <= lastGot),
    'resumed',
  );
  assert.deepEqual(got[0], { index: start.index, term: got[0]!.term, command: 'put', args: { key: k('resume-start'), value: '0' }, result: start.result });
});

test('NDJSON via a plain GET: same entries as the WebSocket, on every node', async () => {
  const sent = await mixedCommands(10, 'nd');
  const from = sent[0]!.index;
  const last = sent.at(-1)!.index;
  for (const id of c.ids) {
    await c.waitApplied(id, last);
    const r = await readNdjson(c.portOf(id), `/v1/groups/kv/watch?from=${from}`, last);
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^application\/x-ndjson/);
    assert.ok(r.text.endsWith('\n'));
    assertStrictlyIncreasing(r.lines, `ndjson on ${id}`);
    assert.deepEqual(
      r.lines.map((e) => e.index),
      sent.map((s) => s.index),
    );
    assertContains(r.lines, sent, `ndjson on ${id}`);
  }
  // an NDJSON stream from the future waits for the entry
  const leader = await c.waitLeader();
  const next = (await c.kvStatus(leader)).applied + 1;
  const pending = readNdjson(c.portOf(c.ids.find((id) => id !== leader)!), `/v1/groups/kv/watch?from=${next}`, next);
  await sleep(100);
  const p = await c.ok(leader, 'put', { key: k('future'), value: 'f' });
  const r = await pending;
  const e = r.lines.find((x) => x.index === p.index);
  assert.ok(e, `the live NDJSON stream shows ${p.index}: ${r.text}`);
  assert.deepEqual(e.args, { key: k('future'), value: 'f' });
});

test('a bad from is 400 (plain GET and WebSocket upgrade)', async () => {
  for (const from of ['0', '-3', 'abc', '1.5']) {
    const r = await c.req(1, 'GET', `/v1/groups/kv/watch?from=${from}`);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error, 'bad_request');
    assert.equal(r.body.field, 'from');
    const w = c.watch(2, `?from=${from}`);
    const closed = await w.closed;
    assert.equal(closed.status, 400, JSON.stringify(closed));
    assert.equal(JSON.parse(closed.body!).field, 'from');
  }
});

test('after POST snapshot and a restart, the log kept behind the snapshot is still watched, results included', async () => {
  const leader = await c.waitLeader();
  const victim = c.ids.find((id) => id !== leader)!;
  const before = await c.ok(leader, 'put', { key: k('compact'), value: 'a' });
  await c.waitApplied(victim, before.index);
  const snap = await c.req(victim, 'POST', '/v1/groups/kv/snapshot');
  assert.equal(snap.status, 200, snap.text);
  assert.ok(snap.body.index >= before.index);
  // A restart loads the snapshot; the log has kept everything behind it (fewer than 5,000
  // entries), so the whole history stays watchable: the snapshot carries it with the results.
  // (A graceful stop: right after the answer, kill -9 can lose the compaction record; see the report.)
  assert.equal(await c.stop(victim), 0, 'SIGTERM stops the node cleanly');
  c.start(victim);
  await eventually(async () => ((await c.kvStatus(victim))?.leader ? true : undefined), 15_000, `node ${victim} back`);
  const afterRestart = await c.ok(leader, 'put', { key: k('compact'), value: 'b' });
  await c.waitApplied(victim, afterRestart.index);

  const upTo = (lines: any[]) => lines.filter((x) => x.index <= afterRestart.index);
  const restarted = await readNdjson(c.portOf(victim), '/v1/groups/kv/watch?from=1', afterRestart.index);
  assert.equal(restarted.status, 200, restarted.text);
  const old = restarted.lines.find((x) => x.index === before.index);
  assert.deepEqual(old, { index: before.index, term: old?.term, command: 'put', args: { key: k('compact'), value: 'a' }, result: before.result });
  assertStrictlyIncreasing(restarted.lines, 'after the restart');
  // exactly what the leader, which never restarted, shows
  const fromLeader = await readNdjson(c.portOf(leader), '/v1/groups/kv/watch?from=1', afterRestart.index);
  assert.deepEqual(upTo(restarted.lines), upTo(fromLeader.lines));
  // and over the WebSocket too
  const w = c.watch(victim, `?from=${before.index}`);
  try {
    await w.until(afterRestart.index, 10_000);
    assert.deepEqual(upTo(w.entries), upTo(fromLeader.lines.filter((x) => x.index >= before.index)));
  } finally {
    await w.close();
  }
  // the store itself is intact on the restarted node
  const g = await c.query(victim, 'get', { key: k('compact') }, 'local');
  assert.deepEqual(g.body.result, { value: 'b', revision: afterRestart.result.revision });
});
