// The transport-free watch stream (src/wire/watch-session.ts) over the fake backend: holding
// watches while the transport is full, and progress requests answered for the whole stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderCache } from '../../src/wire/header-cache.js';
import { fragments, WatchSession } from '../../src/wire/watch-session.js';
import { encodeWatchResponseBytes } from '../../src/wire/watch-response-encoder.js';
import type { WireWatchResponse } from '../../src/wire/wire-types.js';
import { FakeBackend } from '../fakes/fake-backend.js';
import { recordingLogger } from '../support/recording-logger.js';

function setup() {
  const backend = new FakeBackend();
  const sent: WireWatchResponse[] = [];
  const transport = {
    full: false,
    send(r: WireWatchResponse) {
      sent.push(r);
      return !transport.full;
    },
  };
  const session = new WatchSession(backend, transport, new HeaderCache(), recordingLogger());
  const put = (k: string, v: string) => backend.put({ key: Buffer.from(k), value: Buffer.from(v), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false });
  const values = () => sent.flatMap((r) => r.events.map((e) => `${r.watch_id}:${e.kv.value.toString()}`));
  return { backend, sent, transport, session, put, values };
}

describe('WatchSession', () => {
  it('holds a watch while the transport is full and lets it go on when it drains', async () => {
    const { backend, sent, transport, session, put, values } = setup();
    transport.full = true;
    session.request({ create_request: { key: Buffer.from('k') } });
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.created, true);
    await put('k', '1');
    await put('k', '2');
    assert.equal(sent.length, 1, 'nothing more is sent to a full transport');
    transport.full = false;
    session.drained();
    assert.deepEqual(values(), ['0:1', '0:2']);
    await put('k', '3');
    assert.deepEqual(values(), ['0:1', '0:2', '0:3']);
    session.close();
    assert.equal(backend.watchCount, 0);
    backend.close();
  });

  it('answers a progress request when every watch has reported, once, with the lowest revision', async () => {
    const { backend, sent, transport, session, put } = setup();
    session.request({ create_request: { key: Buffer.from('a') } });
    session.request({ create_request: { key: Buffer.from('b') } });
    await put('a', '1');
    // Watch 1 is held: its progress cannot go out before what it holds.
    transport.full = true;
    await put('b', '1');
    transport.full = false;
    const before = sent.length;
    session.request({ progress_request: {} });
    assert.equal(sent.length, before, 'waits for the held watch');
    session.drained();
    const progress = sent.filter((r) => r.watch_id === '-1');
    assert.equal(progress.length, 1);
    assert.equal(progress[0]!.header.revision, String(backend.revision));
    assert.equal(progress[0]!.events.length, 0);
    session.close();
    backend.close();
  });

  it('does not wait for a watch canceled before it reported progress', async () => {
    const { backend, sent, transport, session, put } = setup();
    session.request({ create_request: { key: Buffer.from('a') } });
    session.request({ create_request: { key: Buffer.from('b') } });
    transport.full = true;
    await put('b', '1');
    transport.full = false;
    session.request({ progress_request: {} });
    assert.equal(sent.filter((r) => r.watch_id === '-1').length, 0, 'watch 1 is held and has not reported');
    session.request({ cancel_request: { watch_id: '1' } });
    const tail = sent.slice(-2).map((r) => `${r.watch_id}${r.canceled ? ' canceled' : ''}`);
    assert.deepEqual(tail, ['1 canceled', '-1']);
    session.close();
    backend.close();
  });

  it('refuses a create the backend throws on with the reason, and one with an unusable id', () => {
    const { backend, sent, session } = setup();
    backend.watch = () => {
      throw new Error('boom');
    };
    session.request({ create_request: { key: Buffer.from('a') } });
    assert.deepEqual([sent[0]!.watch_id, sent[0]!.created, sent[0]!.canceled, sent[0]!.cancel_reason], ['-1', true, true, 'etcdserver: internal error']);
    session.request({ create_request: { key: Buffer.from('a'), watch_id: '9223372036854775807' } });
    assert.match(sent[1]!.cancel_reason, /watch_id .* is out of range/);
    session.close();
    backend.close();
  });
});

describe('fragments (etcd sendFragments)', () => {
  const event = (i: number, bytes: number) => ({
    type: 0,
    kv: { key: Buffer.from(`k${i}`), create_revision: '2', mod_revision: String(2 + i), version: '1', value: Buffer.alloc(bytes, 1), lease: '0' },
    prev_kv: null,
  });
  const response = (events: ReturnType<typeof event>[]): WireWatchResponse => ({
    header: { cluster_id: '1', member_id: '1', revision: '9', raft_term: '1' },
    watch_id: '3',
    created: false,
    canceled: false,
    compact_revision: '0',
    cancel_reason: '',
    fragment: false,
    events,
  });

  it('splits a response of many events at the limit, every piece but the last marked, nothing lost or reordered', () => {
    const r = response(Array.from({ length: 10 }, (_, i) => event(i, 100)));
    const pieces = fragments(r, 500);
    assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
    assert.deepEqual(
      pieces.map((p) => p.fragment),
      [...pieces.slice(1).map(() => true), false],
    );
    assert.deepEqual(
      pieces.flatMap((p) => p.events),
      r.events,
    );
    for (const p of pieces) {
      assert.equal(p.watch_id, '3');
      assert.ok(encodeWatchResponseBytes(p).length < 500, `a piece of ${encodeWatchResponseBytes(p).length} bytes`);
    }
  });

  it('sends whole a response under the limit, and an event larger than the limit alone', () => {
    const small = response([event(0, 10), event(1, 10)]);
    assert.deepEqual(fragments(small, 1000), [small]);
    const one = response([event(0, 5000)]);
    assert.deepEqual(fragments(one, 1000), [one]);
    const mixed = fragments(response([event(0, 10), event(1, 5000), event(2, 10)]), 1000);
    assert.deepEqual(
      mixed.map((p) => p.events.length),
      [1, 1, 1],
    );
  });
});
