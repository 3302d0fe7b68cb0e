// A leader's empty Appends (a commit index alone) wait briefly for an Append with entries to the
// same follower of the same group, which replaces them; otherwise they go when their time is up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeMessage } from '../../src/core/raft.js';
import { MessageType, type Entry } from '../../src/core/types.js';
import { CommitHold } from '../../src/host/commit-hold.js';
import type { Envelope } from '../../src/transport/transport.js';

const entry = (index: number): Entry => ({ index, term: 1, type: 0, data: new Uint8Array(0) }) as Entry;
const append = (group: string, to: number, commit: number, entries: Entry[] = []): Envelope => ({
  group,
  message: makeMessage({ type: MessageType.Append, to, index: commit, logTerm: 1, commit, entries }),
});
/** Every group has proposals in flight. */
const busy = () => true;
const describe = (envs: Envelope[]) => envs.map((e) => `${e.group}:${MessageType[e.message.type]}>${e.message.to}@${e.message.commit}/${e.message.entries.length}`);

test('an empty Append replaced by a later Append with entries to the same follower is never sent', async () => {
  const late: Envelope[][] = [];
  const hold = new CommitHold(20, (envs) => late.push(envs));
  const heartbeat: Envelope = { group: 'kv', message: makeMessage({ type: MessageType.Heartbeat, to: 2, commit: 4 }) };
  const now1 = hold.filter([append('kv', 2, 5), append('kv', 3, 5), heartbeat], busy);
  assert.deepEqual(describe(now1), ['kv:Heartbeat>2@4/0'], 'the empty Appends are held, everything else goes now');
  const now2 = hold.filter([append('kv', 2, 6, [entry(7)])], busy);
  assert.deepEqual(describe(now2), ['kv:Append>2@6/1']);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(late.map(describe), [['kv:Append>3@5/0']], "only follower 3's empty Append is sent, once, after the delay");
});

test('held Appends are kept per group and follower, the newest one wins, and a flush sends them at once', () => {
  const late: Envelope[][] = [];
  const hold = new CommitHold(10_000, (envs) => late.push(envs));
  assert.deepEqual(hold.filter([append('a', 2, 1), append('b', 2, 1)], busy), []);
  assert.deepEqual(hold.filter([append('a', 2, 2)], busy), []);
  hold.flush();
  assert.deepEqual(late.map(describe), [['a:Append>2@2/0', 'b:Append>2@1/0']]);
  hold.flush();
  assert.equal(late.length, 1, 'nothing is sent twice');
});

test('a removed group loses what was held for it; a zero delay holds nothing', () => {
  const late: Envelope[][] = [];
  const hold = new CommitHold(10_000, (envs) => late.push(envs));
  hold.filter([append('gone', 2, 3), append('kept', 3, 3)], busy);
  hold.forget('gone');
  hold.flush();
  assert.deepEqual(late.map(describe), [['kept:Append>3@3/0']]);
  const eager = new CommitHold(0, () => assert.fail('nothing is held'));
  const envs = [append('kv', 2, 1)];
  assert.equal(eager.filter(envs, busy), envs);
});

test('a group with nothing in flight sends its empty Appends at once, replacing what was held', () => {
  const late: Envelope[][] = [];
  const hold = new CommitHold(10_000, (envs) => late.push(envs));
  assert.deepEqual(hold.filter([append('kv', 2, 4), append('other', 2, 4)], busy), []);
  const kvIdle = (group: string) => group !== 'kv';
  assert.deepEqual(describe(hold.filter([append('kv', 2, 5), append('other', 2, 5)], kvIdle)), ['kv:Append>2@5/0']);
  hold.flush();
  assert.deepEqual(late.map(describe), [['other:Append>2@5/0']], "kv's held Append was replaced by the one sent");
});
