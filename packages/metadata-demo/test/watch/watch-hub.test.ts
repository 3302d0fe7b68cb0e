// Watches served from the node's applied state: catch-up from the history in pages then live,
// with writes landing during the catch-up, without gaps or duplicates; etcd's created-then-
// canceled answer for a compacted start; back-pressure; filters and prev_kv; progress; and a
// snapshot installed under a running watch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { WatchCreateRequest, WatchResponse } from '../../src/api/etcd-types.js';
import { prefixEnd, watchRequest } from '../../src/api/request-builders.js';
import { WatchHub } from '../../src/watch/watch-hub.js';
import { MachineFixture } from '../machine/machine-fixture.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

class Sink {
  readonly responses: WatchResponse[] = [];
  /** Answer false (full) from this many sends on. */
  fullAfter = Infinity;
  send(r: WatchResponse): boolean {
    this.responses.push(r);
    return this.responses.length < this.fullAfter;
  }
  /** Every event as "rev:type:key". */
  events(): string[] {
    return this.responses.flatMap((r) => r.events.map((e) => `${e.kv.modRevision}:${e.type}:${e.kv.key}`));
  }
  revisions(): number[] {
    return this.responses.flatMap((r) => r.events.map((e) => e.kv.modRevision));
  }
}

function setup(t: { after: (f: () => void) => void }, o: { pageEvents?: number; progressNotifyMs?: number } = {}) {
  const f = new MachineFixture();
  const hub = new WatchHub({ machine: f.machine, header: (revision) => ({ clusterId: 1n, memberId: 1n, revision, raftTerm: 1 }), ...o });
  t.after(() => {
    hub.close();
    f.close();
  });
  return { f, hub };
}

const watch = (key: string, o: Partial<WatchCreateRequest> = {}) => watchRequest(key, { rangeEnd: prefixEnd(key), watchId: 7, ...o });

test('a watch from an old revision catches up in pages, then goes live; writes during the catch-up are neither lost nor doubled', async (t) => {
  const { f, hub } = setup(t, { pageEvents: 50 });
  for (let i = 0; i < 300; i++) f.put(`k/${i % 17}`, `v${i}`); // revisions 2..301
  f.put('other', 'x'); // not watched
  const sink = new Sink();
  hub.watch(watch('k/', { startRevision: 100 }), sink);
  assert.equal(sink.responses[0]!.created, true);
  assert.equal(sink.responses[0]!.header.revision, 302);
  // Interleave writes with the catch-up's pages.
  for (let i = 0; i < 60; i++) {
    f.put(`k/${i % 5}`, `late${i}`);
    await turn();
  }
  const last = f.machine.store.counters.revision;
  await until(() => sink.revisions().at(-1) === last, 'the last write');
  const revs = sink.revisions();
  const expected = [...Array.from({ length: 202 }, (_, i) => 100 + i), ...Array.from({ length: 60 }, (_, i) => 303 + i)];
  assert.deepEqual(revs, expected, 'every watched revision once, in order, none of the other key');
  assert.ok(sink.responses.length > 5, 'several pages');
});

test('a txn revision arrives whole, in one response, in sub-revision order', async (t) => {
  const { f, hub } = setup(t);
  const sink = new Sink();
  hub.watch(watch('t/'), sink);
  const B = (s: string) => Buffer.from(s).toString('base64');
  f.ok('txn', { success: [{ put: { key: B('t/a'), value: B('1') } }, { put: { key: B('t/b'), value: B('2') } }, { put: { key: B('u/x'), value: B('3') } }] });
  f.ok('deleteRange', { key: B('t/'), rangeEnd: prefixEnd('t/').toString('base64') });
  assert.deepEqual(
    sink.responses.slice(1).map((r) => r.events.map((e) => `${e.type}:${e.kv.key}`)),
    [
      ['put:t/a', 'put:t/b'],
      ['delete:t/a', 'delete:t/b'],
    ],
  );
});

test('a start below the compaction: created, then canceled with the compact revision; from the compact revision on it works', async (t) => {
  const { f, hub } = setup(t);
  for (let i = 0; i < 10; i++) f.put('c', `${i}`); // 2..11
  f.ok('compact', { revision: 6 });
  const old = new Sink();
  hub.watch(watch('c', { startRevision: 3 }), old);
  await until(() => old.responses.length === 2, 'the cancel');
  assert.equal(old.responses[0]!.created, true);
  assert.deepEqual([old.responses[1]!.canceled, old.responses[1]!.compactRevision], [true, 6]);
  const ok = new Sink();
  hub.watch(watch('c', { startRevision: 6 }), ok);
  await until(() => ok.revisions().at(-1) === 11, 'the history from 6');
  assert.deepEqual(ok.revisions(), [6, 7, 8, 9, 10, 11]);
  assert.equal(hub.size, 1, 'the canceled watch is gone');
});

test('back-pressure: a full sink pauses the watch; resume() catches it up from the history, in order', async (t) => {
  const { f, hub } = setup(t);
  const sink = new Sink();
  sink.fullAfter = 2; // created, then one event response
  const h = hub.watch(watch('b/'), sink);
  for (let i = 0; i < 20; i++) f.put(`b/${i}`, 'v');
  assert.equal(sink.responses.length, 2, 'nothing is sent to a full sink');
  sink.fullAfter = Infinity;
  h.resume();
  await until(() => sink.revisions().length === 20, 'all twenty');
  assert.deepEqual(
    sink.revisions(),
    Array.from({ length: 20 }, (_, i) => 2 + i),
  );
  f.put('b/live', 'v');
  await until(() => sink.revisions().at(-1) === 22, 'the next write');
  f.put('b/live', 'v2');
  assert.equal(sink.revisions().at(-1), 23, 'live again: sent as it is applied');
});

test('filters and prev_kv, live and from the history; a cancel stops the watch', async (t) => {
  const { f, hub } = setup(t);
  f.put('p', '1');
  f.put('p', '2');
  f.ok('deleteRange', { key: Buffer.from('p').toString('base64') });
  const past = new Sink();
  hub.watch(watchRequest('p', { startRevision: 2, prevKv: true, filters: ['noput'], watchId: 1 }), past);
  await until(() => past.events().length === 1, 'the delete from the history');
  assert.deepEqual(past.events(), ['4:delete:p']);
  assert.equal(past.responses[1]!.events[0]!.prevKv?.value.toString(), '2');
  const live = new Sink();
  const h = hub.watch(watchRequest('p', { prevKv: true, filters: ['nodelete'], watchId: 2 }), live);
  f.put('p', '3');
  f.put('p', '4');
  f.ok('deleteRange', { key: Buffer.from('p').toString('base64') });
  assert.deepEqual(live.events(), ['5:put:p', '6:put:p']);
  assert.equal(live.responses[2]!.events[0]!.prevKv?.value.toString(), '3');
  h.cancel();
  f.put('p', '5');
  assert.equal(live.events().length, 2);
});

test('progress: requestProgress answers the current revision at once when live; progress_notify sends it to idle watches', async (t) => {
  const { f, hub } = setup(t, { progressNotifyMs: 30 });
  const sink = new Sink();
  const h = hub.watch(watchRequest('x', { progressNotify: true }), sink);
  f.put('unrelated', '1');
  h.requestProgress();
  const progress = sink.responses.at(-1)!;
  assert.deepEqual([progress.events.length, progress.header.revision, progress.created], [0, 2, false]);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(sink.responses.length >= 3, 'periodic empty responses while nothing happens');
});

test('a snapshot installed under a watch: it goes on from the new history, or is canceled when that history starts after it', async (t) => {
  const { f, hub } = setup(t);
  const leader = new MachineFixture();
  t.after(() => leader.close());
  // Both start from the same first write, then the leader runs ahead.
  f.put('s/a', '1');
  leader.put('s/a', '1');
  const sink = new Sink();
  hub.watch(watch('s/'), sink);
  const behind = new Sink();
  hub.watch(watch('s/', { startRevision: 2, watchId: 9 }), behind);
  await until(() => behind.revisions().length === 1, 'the first event');
  sink.fullAfter = Infinity;
  for (let i = 0; i < 5; i++) leader.put('s/b', `${i}`); // 3..7
  const file = join(f.dir, 'snap');
  await leader.machine.saveSnapshot(leader.machine.prepareSnapshot(), file);
  await f.machine.recoverFromSnapshot(file);
  await until(() => sink.revisions().at(-1) === 7, 'the events the snapshot brought');
  assert.deepEqual(sink.revisions(), [3, 4, 5, 6, 7]);
  assert.deepEqual(behind.revisions(), [2, 3, 4, 5, 6, 7]);
  // Now the leader compacts past where this node's watches are, and another snapshot comes.
  const stuck = new Sink();
  stuck.fullAfter = 1; // paused right after created
  const stuckHandle = hub.watch(watch('s/', { watchId: 11 }), stuck);
  for (let i = 0; i < 3; i++) leader.put('s/c', `${i}`); // 8..10
  leader.ok('compact', { revision: 10 });
  await leader.machine.saveSnapshot(leader.machine.prepareSnapshot(), file);
  await f.machine.recoverFromSnapshot(file);
  await until(() => sink.responses.at(-1)!.canceled, 'the live watch to be canceled');
  assert.equal(sink.responses.at(-1)!.compactRevision, 10);
  // The paused one learns it when it resumes: it was at 8, the history now starts at 10.
  stuck.fullAfter = Infinity;
  stuckHandle.resume();
  await until(() => stuck.responses.at(-1)!.canceled, 'the paused watch to be canceled');
  assert.equal(stuck.responses.at(-1)!.compactRevision, 10);
});

test('catch-ups from memory and from the history table give the same events, also when a watch falls out of the memory window', async (t) => {
  const f = new MachineFixture();
  const header = (revision: number) => ({ clusterId: 1n, memberId: 1n, revision, raftTerm: 1 });
  const hubs = {
    memory: new WatchHub({ machine: f.machine, header, pageEvents: 7 }),
    table: new WatchHub({ machine: f.machine, header, pageEvents: 7, recentRevisions: 0 }),
    window: new WatchHub({ machine: f.machine, header, pageEvents: 7, recentRevisions: 10 }),
  };
  t.after(() => {
    for (const h of Object.values(hubs)) h.close();
    f.close();
  });
  const B = (s: string) => Buffer.from(s).toString('base64');
  const requests = [
    watch('k/'),
    watchRequest('k/1', { prevKv: true, watchId: 2 }),
    watch('k/', { filters: ['noput'], prevKv: true }),
    watch('k/', { filters: ['nodelete'] }),
    watch('k/', { startRevision: 1, prevKv: true }),
  ];
  const runs = Object.entries(hubs).map(([name, hub]) => {
    const sinks = requests.map(() => new Sink());
    // Full after a few responses: paused, then resumed to catch up.
    sinks.forEach((s, i) => (s.fullAfter = 2 + i));
    const handles = requests.map((r, i) => hub.watch(r, sinks[i]!));
    return { name, sinks, handles };
  });
  let x = 0;
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 40; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const key = `k/${x % 9}`;
      if (x % 7 === 0) f.ok('deleteRange', { key: B(key) });
      else if (x % 5 === 0)
        f.ok('txn', {
          success: [
            { put: { key: B(key), value: B(`t${i}`) } },
            { put: { key: B(`k/${((x % 9) + 1 + ((x >> 4) % 8)) % 9}`), value: B('u') } },
            { put: { key: B('z'), value: B('z') } },
          ],
        });
      else f.put(key, `v${round}.${i}`);
    }
    for (const r of runs) r.sinks.forEach((s) => (s.fullAfter = s.responses.length + 3));
    for (const r of runs) for (const h of r.handles) h.resume();
    await turn();
  }
  for (const r of runs) r.sinks.forEach((s) => (s.fullAfter = Infinity));
  for (const r of runs) for (const h of r.handles) h.resume();
  const last = f.machine.store.counters.revision;
  const seen = (s: Sink) => s.responses.flatMap((res) => res.events.map((e) => `${e.kv.modRevision}:${e.type}:${e.kv.key}:${e.kv.value}:${e.prevKv?.value ?? '-'}`));
  for (const r of runs) await until(() => r.sinks.every((s) => s.responses.at(-1)!.header.revision === last || s.revisions().at(-1) === last), `${r.name} caught up`);
  await until(() => runs.every((r) => seen(r.sinks[0]!).length === seen(runs[1]!.sinks[0]!).length), 'the same length');
  for (let i = 0; i < requests.length; i++) {
    const table = seen(runs[1]!.sinks[i]!);
    assert.ok(table.length > 0, `watch ${i} saw events`);
    assert.deepEqual(seen(runs[0]!.sinks[i]!), table, `watch ${i}: memory and table agree`);
    assert.deepEqual(seen(runs[2]!.sinks[i]!), table, `watch ${i}: a small window and the table agree`);
    const revs = runs[1]!.sinks[i]!.revisions();
    assert.deepEqual(
      revs,
      [...revs].sort((a, b) => a - b),
      `watch ${i}: in order`,
    );
  }
});
