// End-to-end tests of the client against a live 3-node raftkit-kv cluster (127.0.0.1 only).
// One cluster serves every test in order; tests that kill a node restart it before they end.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { RaftClient, RaftClientError, type AttemptEvent, type ClientEvent, type RaftClientOptions, type WatchEntry, type WatchEvent } from '../src/index.js';
import type { KvApi } from './kv-api.js';
import type { KvMachine } from './kv-machine.js';
import { KvCluster } from './kv-cluster.js';

const TOKEN = 'client-test-secret';

const attempts = (events: ClientEvent[]) => events.filter((e): e is AttemptEvent => e.type === 'attempt');
const watchEvents = (events: ClientEvent[]) => events.filter((e): e is WatchEvent => e.type === 'watch');

async function rejects(p: Promise<unknown>): Promise<RaftClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RaftClientError, `expected a RaftClientError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

/** Strictly increasing, and every skipped index is explained by a new term (the new leader's no-op entry). */
function assertNoGaps(entries: { index: number; term: number }[]): void {
  for (let i = 1; i < entries.length; i++) {
    const [a, b] = [entries[i - 1]!, entries[i]!];
    assert.ok(b.index > a.index, `index ${b.index} after ${a.index}: duplicate or out of order`);
    assert.ok(b.index === a.index + 1 || b.term > a.term, `gap between ${a.index} and ${b.index} in the same term ${a.term}`);
  }
}

describe('RaftClient against a live raftkit-kv cluster', { timeout: 90_000 }, () => {
  let cluster: KvCluster;
  const clients: RaftClient[] = [];
  const servers: Server[] = [];
  /** Node whose snapshot + restart the compacted test relies on. */
  let compactedNode: number | undefined;

  const makeClient = (opts: Partial<RaftClientOptions> = {}, events?: ClientEvent[]) => {
    const c = new RaftClient({
      endpoints: cluster.urls,
      token: TOKEN,
      backoff: { initialMs: 20, maxMs: 250 },
      ...(events ? { onEvent: (e: ClientEvent) => events.push(e) } : {}),
      ...opts,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    // Snapshots every 50 entries (25 kept behind each): the compacted test needs a log that lost index 1.
    cluster = await KvCluster.start({ token: TOKEN, extraArgs: ['--snapshot-entries', '50'] });
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) s.close();
    await cluster?.stop();
  });

  test('leader routing: the first request to a follower learns the leader, later ones go straight there', async () => {
    const leader = await cluster.waitLeader();
    const followers = cluster.ids.filter((id) => id !== leader);
    const events: ClientEvent[] = [];
    const client = makeClient({ endpoints: [...followers, leader].map((id) => cluster.url(id)) }, events);
    const kv = client.group<KvApi>('kv');

    await kv.command('put', { key: 'route', value: '0' });
    const first = attempts(events);
    assert.deepEqual(
      first.map((e) => [e.url, e.outcome, e.status]),
      [
        [cluster.url(followers[0]!), 'redirect', 421],
        [cluster.url(leader), 'ok', 200],
      ],
    );
    assert.equal(client.leaderOf('kv'), cluster.url(leader));

    events.length = 0;
    for (let i = 1; i <= 5; i++) await kv.command('put', { key: 'route', value: String(i) });
    await kv.query('get', { key: 'route' });
    await kv.query('get', { key: 'route' }, { consistency: 'lease' });
    const later = attempts(events);
    assert.equal(later.length, 7, 'one attempt per call');
    for (const e of later) {
      assert.equal(e.url, cluster.url(leader));
      assert.equal(e.outcome, 'ok');
      assert.equal(e.noForward, true);
      assert.equal(e.forwardedTo, undefined, 'answered by the leader itself, not forwarded');
    }

    // A local read goes to the first endpoint (a follower) and may be served there.
    events.length = 0;
    const local = await kv.query('get', { key: 'route' }, { consistency: 'local' });
    assert.equal(attempts(events)[0]!.url, cluster.url(followers[0]!));
    assert.equal(attempts(events)[0]!.noForward, false);
    assert.ok(local.result.value === null || typeof local.result.value === 'string');
  });

  test('typed command and query round trip, through group<Api>() and typed<Api>()', async () => {
    const client = makeClient();
    const kv = client.group<KvApi>('kv');
    const put = await kv.command('put', { key: 'typed', value: 'one' });
    const revision: number = put.result.revision;
    assert.ok(revision > 0 && put.index > 0);
    const got = await kv.query('get', { key: 'typed' });
    const value: string | null = got.result.value;
    assert.equal(value, 'one');
    assert.equal(got.result.revision, revision);
    assert.ok(got.index >= put.index);

    const proxy = client.typed<KvApi>('kv');
    assert.equal(proxy.commands.put, proxy.commands.put, 'methods are stable');
    const cas = await proxy.commands.cas({ key: 'typed', expected: 'one', value: 'two' });
    assert.equal(cas.result.succeeded, true);
    assert.equal(cas.result.revision, revision + 1);
    const failed = await proxy.commands.cas({ key: 'typed', expected: 'one', value: 'three' });
    assert.deepEqual(failed.result, { succeeded: false, revision: revision + 1 });
    const range = await proxy.queries.range({ prefix: 'typ' }, { consistency: 'lease' });
    assert.deepEqual(range.result.items, [{ key: 'typed', value: 'two', revision: revision + 1 }]);
    const del = await proxy.commands.delete({ key: 'typed' });
    assert.deepEqual(del.result, { deleted: true, revision: revision + 2 });

    // Untyped: anything goes, results are unknown.
    const raw = await client.group('kv').query('get', { key: 'typed' });
    assert.deepEqual(raw.result, { value: null, revision: 0 });

    // Concurrent commands of one client use session lanes: none is refused as a stale sequence.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => kv.command('put', { key: `lane-${i}`, value: 'x' })));
    const revisions = many.map((r) => r.result.revision).sort((a, b) => a - b);
    assert.equal(new Set(revisions).size, 20);
    assert.equal(revisions[19]! - revisions[0]!, 19, 'twenty consecutive revisions');
  });

  test('machine<typeof KvMachine>(): typed from the class, routed by the live schema, read once', async () => {
    const events: ClientEvent[] = [];
    const kv = makeClient({}, events).machine<typeof KvMachine>('kv');

    const put = await kv.put({ key: 'machine', value: 'one' });
    const revision: number = put.result.revision;
    const got = await kv.get({ key: 'machine' }, { consistency: 'lease' });
    assert.deepEqual(got.result, { value: 'one', revision });
    const cas = await kv.cas({ key: 'machine', expected: 'one', value: 'two' });
    assert.deepEqual(cas.result, { succeeded: true, revision: revision + 1 });
    const range = await kv.range({ prefix: 'machin' });
    assert.deepEqual(range.result.items, [{ key: 'machine', value: 'two', revision: revision + 1 }]);
    assert.deepEqual((await kv.delete({ key: 'machine' })).result, { deleted: true, revision: revision + 2 });

    // The @Snapshot hook is a public method of the class but no operation: the schema says so.
    const hook = await rejects(kv.save());
    assert.equal(hook.code, 'unknown_command');
    assert.match(hook.message, /commands: cas, delete, put; queries: get, range/);

    const calls = attempts(events).filter((e) => e.outcome === 'ok');
    assert.deepEqual(
      calls.map((e) => `${e.kind} ${e.name}`),
      ['schema schema', 'command put', 'query get', 'command cas', 'query range', 'command delete', 'schema schema'],
      'one schema read for the five operations, and one fresh read before refusing save',
    );
  });

  test('typed errors: unknown command 404, bad args 400 and 401 are final, not retried', async () => {
    const events: ClientEvent[] = [];
    const kv = makeClient({}, events).group<KvApi>('kv');

    const unknown = await rejects(kv.command('frobnicate' as 'put', { key: 'a', value: 'b' }));
    assert.equal(unknown.code, 'unknown_command');
    assert.equal(unknown.status, 404);
    assert.match(unknown.message, /frobnicate/);

    events.length = 0;
    const bad = await rejects(kv.command('put', { key: 42 } as unknown as { key: string; value: string }));
    assert.equal(bad.code, 'bad_request');
    assert.equal(bad.status, 400);
    assert.equal(bad.field, 'key');
    // every bad field: the key's type, and the missing value
    assert.deepEqual(
      bad.fields.map((f) => f.field),
      ['key', 'value'],
    );
    assert.equal(attempts(events).filter((e) => e.outcome !== 'redirect').length, 1, 'a 400 is not retried');
    assert.equal(attempts(events).at(-1)!.outcome, 'fail');

    const noGroup = await rejects(makeClient().group('no-such-group').query('get', { key: 'a' }));
    assert.equal(noGroup.code, 'unknown_group');
    assert.equal(noGroup.status, 404);

    const anonEvents: ClientEvent[] = [];
    const anon = new RaftClient({ endpoints: cluster.urls, onEvent: (e) => anonEvents.push(e) });
    clients.push(anon);
    const denied = await rejects(anon.group('kv').command('put', { key: 'a', value: 'b' }));
    assert.equal(denied.code, 'unauthorized');
    assert.equal(denied.status, 401);
    assert.equal(attempts(anonEvents).length, 1);
    const deniedWatch = await rejects(anon.group('kv').watch({ from: 1 }).next());
    assert.equal(deniedWatch.code, 'unauthorized');
    assert.equal(deniedWatch.status, 401);
  });

  test('exactly-once: a command whose answer is lost is retried with the same session and applied once', async () => {
    const leader = await cluster.waitLeader();
    const upstream = new URL(cluster.url(leader));
    let dropped = 0;
    // A proxy that forwards to the leader but drops the connection instead of the first answer.
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            if (req.url!.includes('/commands/') && dropped === 0) {
              dropped++;
              req.socket.destroy();
              return;
            }
            res.writeHead(up.statusCode!, up.headers);
            res.end(Buffer.concat(body));
          });
        });
        out.end(Buffer.concat(chunks));
      });
    });
    servers.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;

    const events: ClientEvent[] = [];
    const kv = makeClient({ endpoints: [`127.0.0.1:${port}`] }, events).group<KvApi>('kv');
    const direct = makeClient().group<KvApi>('kv');
    const before = (await direct.command('put', { key: 'once-marker', value: 'x' })).result.revision;
    const put = await kv.command('put', { key: 'once', value: 'v' });
    assert.equal(dropped, 1);
    const tries = attempts(events);
    assert.equal(tries.length, 2);
    assert.equal(tries[0]!.outcome, 'retry');
    assert.equal(tries[0]!.code, 'network');
    assert.equal(tries[0]!.clientId, tries[1]!.clientId);
    assert.equal(tries[0]!.sequence, tries[1]!.sequence);
    assert.equal(put.result.revision, before + 1, 'the retry answers the first result');
    const after = (await direct.command('put', { key: 'once-marker', value: 'y' })).result.revision;
    assert.equal(after, before + 2, 'the store changed once for the command, not twice');
  });

  test('retries across a leader kill -9 apply every command exactly once', async () => {
    const events: ClientEvent[] = [];
    const client = makeClient({ deadlineMs: 8_000, attemptTimeoutMs: 1_000 }, events);
    const kv = client.group<KvApi>('kv');
    const initial = (await kv.command('put', { key: 'counter', value: '0' })).result.revision;
    const leader = await cluster.waitLeader();
    compactedNode = leader;
    await cluster.snapshot(leader); // for the compacted test: this node restarts from a snapshot

    const N = 60;
    const revisions: number[] = [];
    let killed: Promise<void> | undefined;
    const t0 = Date.now();
    for (let i = 1; i <= N; i++) {
      if (i === 20) killed = new Promise<void>((r) => setImmediate(r)).then(() => cluster.kill(leader)); // while put 20 is in flight
      revisions.push((await kv.command('put', { key: 'counter', value: String(i) })).result.revision);
    }
    await killed;
    const elapsed = Date.now() - t0;
    assert.deepEqual(
      revisions,
      Array.from({ length: N }, (_, i) => initial + i + 1),
      'each put bumped the revision exactly once',
    );
    const got = await kv.query('get', { key: 'counter' });
    assert.deepEqual(got.result, { value: String(N), revision: initial + N });
    const failures = attempts(events).filter((e) => e.outcome !== 'ok');
    assert.ok(failures.length > 0, 'the kill forced retries');
    const newLeader = await cluster.waitLeader();
    assert.notEqual(newLeader, leader);
    assert.equal(client.leaderOf('kv'), cluster.url(newLeader));
    console.log(`# ${N} puts across a leader kill in ${elapsed} ms, ${failures.length} failed attempts (${[...new Set(failures.map((f) => f.code))].join(', ')})`);
    await cluster.restart(leader);
  });

  test('watch resumes on another node after the node it reads from is killed: no gaps, no duplicates', async () => {
    const writerEvents: ClientEvent[] = [];
    const writer = makeClient({ deadlineMs: 8_000, attemptTimeoutMs: 1_000 }, writerEvents).group<KvApi>('kv');
    const from = (await writer.command('put', { key: 'watch-start', value: 'x' })).index + 1;
    const leader = await cluster.waitLeader();
    // The watch starts on the leader, so the kill also moves the writer to a new leader.
    const events: ClientEvent[] = [];
    const seen: WatchEntry<KvApi>[] = [];
    /** [from asked by each connection, last index delivered before it opened]. */
    const resumes: [number, number | undefined][] = [];
    const watcher = makeClient({
      endpoints: [leader, ...cluster.ids.filter((i) => i !== leader)].map((i) => cluster.url(i)),
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'watch' && e.outcome === 'open') resumes.push([e.from, seen.at(-1)?.index]);
      },
    });

    const M = 50;
    const acked: number[] = [];
    let sentinel = 0;
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < M; i++) {
        acked.push((await writer.command('put', { key: `w${i}`, value: String(i) })).index);
        await new Promise((r) => setTimeout(r, 5));
      }
      sentinel = (await writer.command('put', { key: 'watch-end', value: 'x' })).index;
      writing = false;
    })();

    let killedId: number | undefined;
    const stream = watcher.group<KvApi>('kv').watch({ from, signal: AbortSignal.timeout(30_000) });
    for await (const e of stream) {
      seen.push(e);
      if (seen.length === 10) {
        killedId = cluster.idOf(watchEvents(events).at(-1)!.url);
        await cluster.kill(killedId);
      }
      if (e.command === 'put' && e.args.key === 'watch-end') break;
    }
    await writes;
    assert.equal(writing, false);
    assert.ok(killedId !== undefined, 'the watch saw ten entries and its node was killed');
    const opens = watchEvents(events).filter((e) => e.outcome === 'open');
    assert.ok(opens.length >= 2, 'the watch reconnected');
    assert.notEqual(opens[1]!.url, opens[0]!.url, 'to another node');
    assert.equal(resumes[0]![0], from);
    for (const [askedFrom, lastSeen] of resumes.slice(1)) assert.equal(askedFrom, lastSeen! + 1, 'resuming from the last index seen + 1');

    const indexes = seen.map((e) => e.index);
    assert.equal(indexes[0], from);
    assert.equal(indexes.at(-1), sentinel);
    assert.equal(new Set(indexes).size, indexes.length, 'no duplicates');
    assertNoGaps(seen);
    for (const i of acked) assert.ok(indexes.includes(i), `acknowledged index ${i} was watched`);

    // Ground truth: a fresh watch on a node that never went down shows exactly the same entries.
    const survivor = cluster.ids.find((i) => i !== killedId && cluster.isUp(i))!;
    const truthClient = makeClient({ endpoints: [cluster.url(survivor)] });
    const truth: WatchEntry<KvApi>[] = [];
    for await (const e of truthClient.group<KvApi>('kv').watch({ from, signal: AbortSignal.timeout(10_000) })) {
      truth.push(e);
      if (e.index >= sentinel) break;
    }
    assert.deepEqual(seen, truth);
    console.log(`# watched ${seen.length} entries (${from}..${sentinel}) across the kill of node ${killedId}; ${opens.length} connections`);
    await cluster.restart(killedId);
  });

  test('watch from an index a node compacted away throws compacted with firstIndex', async () => {
    assert.ok(compactedNode !== undefined);
    // compactedNode took a snapshot, was killed and restarted; 120 more puts make every node
    // snapshot and compact past index 1 (every 50 entries, 25 kept behind).
    const kv = makeClient().group<KvApi>('kv');
    let last = 0;
    for (let i = 0; i < 120; i++) last = (await kv.command('put', { key: `compact-${i % 10}`, value: String(i) })).index;
    const client = makeClient({ endpoints: [cluster.url(compactedNode)] });
    const err = await rejects(client.group<KvApi>('kv').watch({ from: 1 }).next());
    assert.equal(err.code, 'compacted');
    assert.equal(err.status, 410);
    assert.ok(err.firstIndex !== undefined && err.firstIndex > 1 && err.firstIndex <= last, `firstIndex ${err.firstIndex}`);
    // Every endpoint compacted index 1: the watch through all of them throws compacted too.
    const all = makeClient();
    const allErr = await rejects(all.group<KvApi>('kv').watch({ from: 1 }).next());
    assert.equal(allErr.code, 'compacted');
    assert.ok(allErr.firstIndex !== undefined && allErr.firstIndex > 1);
    // From the firstIndex the node named, it streams.
    const stream = client.group<KvApi>('kv').watch({ from: err.firstIndex });
    const first = await stream.next();
    stream.close();
    assert.equal(first.done, false);
    assert.ok(first.value!.index >= err.firstIndex!);
  });

  test('deadline_exceeded when the whole cluster is down', async () => {
    const events: ClientEvent[] = [];
    const client = makeClient({ deadlineMs: 1_500, attemptTimeoutMs: 500 }, events);
    const kv = client.group<KvApi>('kv');
    await kv.command('put', { key: 'last', value: 'x' });
    for (const id of cluster.ids) await cluster.kill(id);

    const t0 = Date.now();
    const err = await rejects(kv.command('put', { key: 'last', value: 'y' }));
    const elapsed = Date.now() - t0;
    assert.equal(err.code, 'deadline_exceeded');
    assert.ok(err.cause instanceof RaftClientError && err.cause.code === 'network');
    assert.ok(elapsed >= 1_400 && elapsed < 3_000, `gave up after ${elapsed} ms`);
    assert.ok((err.details['attempts'] as number) > 3, 'it kept retrying until the deadline');

    const shortErr = await rejects(kv.query('get', { key: 'last' }, { deadlineMs: 300 }));
    assert.equal(shortErr.code, 'deadline_exceeded');

    const watchErr = await rejects(kv.watch({ from: 1 }).next());
    assert.equal(watchErr.code, 'deadline_exceeded');
  });
});
