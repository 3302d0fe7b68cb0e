// The hand-written WatchResponse encoder against protobufjs (through etcd's own service
// definition): every response it encodes decodes to what protobufjs's encoding decodes to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeEventBytes, encodeWatchResponseBytes } from '../../src/wire/watch-response-encoder.js';
import { serviceDefinition } from '../../src/wire/proto.js';
import type { WireEvent, WireKeyValue, WireWatchResponse } from '../../src/wire/wire-types.js';

interface Codec {
  responseSerialize(r: object): Buffer;
  responseDeserialize(b: Buffer): object;
}
const watch = (serviceDefinition('Watch') as unknown as Record<string, Codec>)['Watch']!;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const INT64S = ['0', '1', '127', '128', '300', '16384', '9007199254740991', '9007199254740993', '9223372036854775807', '-1', '-9223372036854775808'];
const UINT64S = ['0', '1', '255', '18446744073709551615', '12345678901234567890'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function kv(r: () => number): WireKeyValue {
  const bytes = () => Buffer.from(Array.from({ length: pick(r, [0, 1, 5, 200]) }, () => Math.floor(r() * 256)));
  return { key: bytes(), create_revision: pick(r, INT64S), mod_revision: pick(r, INT64S), version: pick(r, INT64S), value: bytes(), lease: pick(r, INT64S) };
}

function response(r: () => number): WireWatchResponse {
  const events: WireEvent[] = Array.from({ length: pick(r, [0, 1, 3]) }, () => ({ type: pick(r, [0, 1]), kv: kv(r), prev_kv: r() < 0.5 ? kv(r) : null }));
  return {
    header: { cluster_id: pick(r, UINT64S), member_id: pick(r, UINT64S), revision: pick(r, INT64S), raft_term: pick(r, UINT64S) },
    watch_id: pick(r, INT64S),
    created: r() < 0.3,
    canceled: r() < 0.2,
    compact_revision: pick(r, INT64S),
    cancel_reason: pick(r, ['', 'etcdserver: mvcc: required revision has been compacted', 'é ✓']),
    fragment: r() < 0.1,
    events,
  };
}

test('encoded WatchResponses decode as protobufjs encodes them', () => {
  const r = rng(42);
  for (let i = 0; i < 2000; i++) {
    const res = response(r);
    const ours = watch.responseDeserialize(encodeWatchResponseBytes(res));
    const theirs = watch.responseDeserialize(watch.responseSerialize(res));
    assert.deepEqual(ours, theirs, JSON.stringify(res));
  }
});

test('proto3 defaults are left out, and an event is encoded once however many responses carry it', () => {
  const empty: WireWatchResponse = {
    header: { cluster_id: '0', member_id: '0', revision: '0', raft_term: '0' },
    watch_id: '0',
    created: false,
    canceled: false,
    compact_revision: '0',
    cancel_reason: '',
    fragment: false,
    events: [],
  };
  // Only the (empty) header: tag 1, length 0.
  assert.deepEqual([...encodeWatchResponseBytes(empty)], [0x0a, 0x00]);
  const event: WireEvent = { type: 0, kv: { key: Buffer.from('k'), create_revision: '2', mod_revision: '2', version: '1', value: Buffer.from('v'), lease: '0' }, prev_kv: null };
  assert.equal(encodeEventBytes(event), encodeEventBytes(event), 'the same bytes object, not encoded again');
  const a = encodeWatchResponseBytes({ ...empty, watch_id: '1', events: [event] });
  const b = encodeWatchResponseBytes({ ...empty, watch_id: '2', events: [event] });
  assert.equal(a.length, b.length);
});
