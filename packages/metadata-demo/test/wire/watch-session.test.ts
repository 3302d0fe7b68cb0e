// The transport-free watch stream (src/wire/watch-session.ts) over the fake backend: holding
// watches while the transport is full, and progress requests answered for the whole stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderCache } from '../../src/wire/header-cache.js';
import { WatchSession } from '../../src/wire/watch-session.js';
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
