// Election through MetaClient and the gRPC server (fake store): campaign, proclaim, resign,
// leader and observe, and a leader whose session dies replaced by the next candidate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KeyValue } from '../../src/api/etcd-types.js';
import { Election, NotLeaderError, Session } from '../../src/recipes/index.js';
import { sleep, startRecipeBed, stillPending, within, type RecipeBed } from './recipe-fixture.js';
import { waitFor } from '../client/client-fixture.js';

describe('Election', () => {
  let bed: RecipeBed;
  const sessions: Session[] = [];

  const candidate = async (name: string, ttl = 10) => {
    const client = bed.client();
    const session = await Session.create(client, { ttl });
    sessions.push(session);
    return { client, session, election: new Election(client, session, name) };
  };

  before(async () => {
    bed = await startRecipeBed();
  });

  after(async () => {
    for (const s of sessions) s.orphan();
    await bed.close();
  });

  it('campaigns, proclaims, resigns; leader() and observe() follow', async () => {
    const [a, b, watcher] = await Promise.all([candidate('el/one'), candidate('el/one'), candidate('el/one')]);
    const seen: (string | undefined)[] = [];
    const stop = watcher.election.observe((kv: KeyValue | undefined) => seen.push(kv?.value.toString()));
    await waitFor(() => seen.length === 1);
    assert.deepEqual(seen, [undefined], 'nobody leads at first');

    await a.election.campaign('a');
    await waitFor(() => seen.length === 2);
    const bLeads = b.election.campaign('b');
    assert.equal(await stillPending(bLeads, 200), true, 'b waits while a leads');
    const leader = await watcher.election.leader();
    assert.deepEqual([leader?.key.toString(), leader?.value.toString()], [a.election.key, 'a']);

    await a.election.proclaim('a2');
    await waitFor(() => seen.length === 3);
    await a.election.resign();
    await within(bLeads, 2000, 'b leads once a resigned');
    await waitFor(() => seen.length === 4);
    await assert.rejects(a.election.proclaim('late'), NotLeaderError);
    assert.ok(b.election.revision > 0);
    await b.election.resign();
    await waitFor(() => seen.length === 5);
    assert.deepEqual(seen, [undefined, 'a', 'a2', 'b', undefined]);
    stop();
  });

  it('campaigning again with the same session keeps the key and takes the new value', async () => {
    const a = await candidate('el/again');
    await a.election.campaign('first');
    const rev = a.election.revision;
    await a.election.campaign('second');
    assert.equal(a.election.revision, rev);
    assert.equal((await a.election.leader())?.value.toString(), 'second');
    await a.election.resign();
  });

  it('a leader whose session dies is replaced; its proclaim is refused', async () => {
    const a = await candidate('el/lost', 2);
    const b = await candidate('el/lost');
    await a.election.campaign('a');
    const bLeads = b.election.campaign('b');
    await sleep(100);
    a.session.orphan();
    await within(bLeads, 3500, "b leads once a's lease expired");
    await assert.rejects(a.election.proclaim('still me?'), NotLeaderError);
    assert.equal((await b.election.leader())?.value.toString(), 'b');
    await b.election.resign();
  });

  it('gives up a campaign when its signal aborts, leaving no key', async () => {
    const a = await candidate('el/abort');
    const b = await candidate('el/abort');
    await a.election.campaign('a');
    const abort = new AbortController();
    const bLeads = b.election.campaign('b', abort.signal);
    await sleep(100);
    abort.abort();
    await assert.rejects(bLeads);
    assert.equal(b.election.key, undefined);
    assert.equal((await a.election.leader())?.value.toString(), 'a');
    await a.election.resign();
    assert.equal(await a.election.leader(), undefined);
  });
});
