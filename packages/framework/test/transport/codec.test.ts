import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MessageType, type Entry, type Message } from '../../src/core/types.js';
import {
  FrameError,
  FrameKind,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeMessages,
  encodeSnapshotAbort,
  encodeSnapshotAck,
  encodeSnapshotBegin,
  encodeSnapshotChunk,
  envelopeProblem,
  type Frame,
} from '../../src/transport/codec.js';
import type { Envelope } from '../../src/transport/transport.js';

const MAX = Number.MAX_SAFE_INTEGER;
const bytes = (...v: number[]) => new Uint8Array(v);

function msg(over: Partial<Message> = {}): Message {
  return { type: MessageType.Heartbeat, from: 1, to: 2, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...over };
}

function roundTrip(envs: Envelope[]): Envelope[] {
  const frame = decodeFrame(encodeMessages(envs));
  assert.equal(frame.kind, FrameKind.Messages);
  return (frame as Extract<Frame, { kind: FrameKind.Messages }>).envelopes;
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FrameError, `expected FrameError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected a FrameError');
}

const NETWORK_TYPES = [
  MessageType.Append,
  MessageType.AppendResponse,
  MessageType.Vote,
  MessageType.VoteResponse,
  MessageType.PreVote,
  MessageType.PreVoteResponse,
  MessageType.Snapshot,
  MessageType.Heartbeat,
  MessageType.HeartbeatResponse,
  MessageType.TransferLeader,
  MessageType.TimeoutNow,
  MessageType.ReadIndex,
  MessageType.ReadIndexResponse,
];

function fullMessage(type: MessageType, seed: number): Message {
  const m = msg({
    type,
    from: 1 + seed,
    to: MAX - seed,
    term: MAX - 1,
    logTerm: 2 ** 40 + seed,
    index: 2 ** 32 + seed,
    commit: 2 ** 31,
    reject: seed % 2 === 0,
    rejectHint: 127 + seed,
  });
  if (type === MessageType.Snapshot) {
    m.snapshot = {
      metadata: {
        index: MAX,
        term: 2 ** 53 - 2,
        confState: { voters: [1, 2, MAX], learners: [4], votersOutgoing: [1, 2, 3], learnersNext: [3], witnesses: [2], autoLeave: true },
      },
      data: new Uint8Array(1000).map((_, i) => i & 0xff),
    };
    if (seed % 2 === 0) m.snapshot.metadata.history = { from: 1, termChecksum: 0xffffffff, dataChecksum: seed };
  } else {
    m.entries = [
      { term: 3, index: m.index + 1, type: EntryType.Normal, data: bytes(1, 2, 3) },
      { term: 3, index: m.index + 2, type: EntryType.ConfChange, data: new Uint8Array(0) },
      { term: 4, index: m.index + 3, type: EntryType.Metadata, data: bytes(255) },
      { term: 4, index: 7, type: EntryType.Normal, data: new Uint8Array(300).fill(7) }, // not consecutive
      { term: MAX, index: MAX, type: EntryType.Normal, data: bytes(0) },
    ];
  }
  m.context = seed % 3 === 0 ? new Uint8Array(0) : bytes(seed, 42);
  m.leaseTick = seed % 2 === 0 ? 0 : MAX;
  m.transfer = seed % 2 === 0;
  return m;
}

test('every network message type round-trips with every field', () => {
  const envs: Envelope[] = NETWORK_TYPES.map((t, i) => ({ group: ['alpha', 'beta', 'γρουπ/ü', 'x'.repeat(255)][i % 4]!, message: fullMessage(t, i) }));
  assert.deepEqual(roundTrip(envs), envs);
});

test('optional fields: absent stays absent, present-but-zero stays present', () => {
  const plain = msg({ type: MessageType.Vote, term: 9 });
  const [a] = roundTrip([{ group: 'g', message: plain }]);
  assert.deepEqual(a!.message, plain);
  assert.ok(!('context' in a!.message) && !('leaseTick' in a!.message) && !('transfer' in a!.message) && !('snapshot' in a!.message));
  const zeros = msg({ context: new Uint8Array(0), leaseTick: 0, transfer: false });
  const [b] = roundTrip([{ group: 'g', message: zeros }]);
  assert.deepEqual(b!.message, zeros);
  assert.equal(b!.message.transfer, false);
});

test('an empty snapshot and an empty conf state round-trip', () => {
  const m = msg({
    type: MessageType.Snapshot,
    snapshot: {
      metadata: { index: 0, term: 0, confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false } },
      data: new Uint8Array(0),
    },
  });
  assert.deepEqual(roundTrip([{ group: 'g', message: m }]), [{ group: 'g', message: m }]);
});

test('numbers round-trip exactly at every varint width up to 2^53-1', () => {
  const values: number[] = [
    0,
    1,
    127,
    128,
    255,
    16383,
    16384,
    2 ** 21 - 1,
    2 ** 21,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 35,
    2 ** 42,
    2 ** 49 - 1,
    2 ** 49,
    MAX - 1,
    MAX,
  ];
  const envs = values.map((v) => ({
    group: 'n',
    message: msg({
      type: MessageType.Append,
      term: v,
      logTerm: v,
      index: v,
      commit: v,
      rejectHint: v,
      entries: [{ term: v, index: v, type: EntryType.Normal, data: new Uint8Array(0) }],
    }),
  }));
  assert.deepEqual(roundTrip(envs), envs);
});

test('consecutive entries are compact (index and term implied)', () => {
  const entries: Entry[] = [];
  for (let i = 0; i < 100; i++) entries.push({ term: 7, index: 1001 + i, type: EntryType.Normal, data: new Uint8Array(0) });
  const frame = encodeMessages([{ group: 'g', message: msg({ type: MessageType.Append, term: 7, index: 1000, entries }) }]);
  // 100 entries × (kind + length) plus a small header.
  assert.ok(frame.length < 100 * 2 + 30, `frame is ${frame.length} bytes`);
});

test('snapshot stream frames round-trip', () => {
  const m = fullMessage(MessageType.Snapshot, 1);
  const withoutData = { ...m, snapshot: { ...m.snapshot!, data: new Uint8Array(0) } };
  const begin = decodeFrame(encodeSnapshotBegin(7, 123456789, { group: 'snap', message: m }));
  assert.deepEqual(begin, { kind: FrameKind.SnapshotBegin, streamId: 7, totalSize: 123456789, envelope: { group: 'snap', message: withoutData } });
  const data = new Uint8Array(5000).map((_, i) => i * 7);
  const chunk = decodeFrame(encodeSnapshotChunk(7, MAX - 5000, data));
  assert.deepEqual(chunk, { kind: FrameKind.SnapshotChunk, streamId: 7, offset: MAX - 5000, data });
  assert.deepEqual(decodeFrame(encodeSnapshotAck(7, true)), { kind: FrameKind.SnapshotAck, streamId: 7, ok: true, reason: '' });
  assert.deepEqual(decodeFrame(encodeSnapshotAck(9, false, 'too big')), { kind: FrameKind.SnapshotAck, streamId: 9, ok: false, reason: 'too big' });
  const long = decodeFrame(encodeSnapshotAbort(3, 'é'.repeat(300)));
  assert.equal(long.kind, FrameKind.SnapshotAbort);
  assert.equal((long as { reason: string }).reason, 'é'.repeat(127)); // cut at a character boundary
});

test('decoded bytes are copies by default and views with copy: false; Buffers decode to plain Uint8Arrays', () => {
  const env = { group: 'g', message: msg({ type: MessageType.Append, entries: [{ term: 1, index: 1, type: EntryType.Normal, data: bytes(1, 2, 3) }], context: bytes(4) }) };
  const buf = Buffer.from(encodeMessages([env]));
  const copied = (decodeFrame(buf) as Extract<Frame, { kind: FrameKind.Messages }>).envelopes[0]!.message;
  assert.equal(copied.entries[0]!.data.constructor, Uint8Array);
  assert.notEqual(copied.entries[0]!.data.buffer, buf.buffer);
  assert.deepEqual(copied, env.message);
  const viewed = (decodeFrame(buf, { copy: false }) as Extract<Frame, { kind: FrameKind.Messages }>).envelopes[0]!.message;
  assert.equal(viewed.entries[0]!.data.buffer, buf.buffer);
  assert.deepEqual(viewed, env.message);
});

test('encode rejects values that cannot be represented', () => {
  const bad: [string, Envelope][] = [
    ['local type', { group: 'g', message: msg({ type: MessageType.Hup }) }],
    ['zero from', { group: 'g', message: msg({ from: 0 }) }],
    ['negative term', { group: 'g', message: msg({ term: -1 }) }],
    ['fractional index', { group: 'g', message: msg({ index: 1.5 }) }],
    ['unsafe commit', { group: 'g', message: msg({ commit: MAX + 1 }) }],
    ['NaN', { group: 'g', message: msg({ logTerm: NaN }) }],
    ['empty group', { group: '', message: msg() }],
    ['long group', { group: 'x'.repeat(256), message: msg() }],
    ['lone surrogate', { group: 'a\ud800', message: msg() }],
    ['bad entry type', { group: 'g', message: msg({ type: MessageType.Append, entries: [{ term: 1, index: 1, type: 3 as EntryType, data: bytes() }] }) }],
    ['entry data not bytes', { group: 'g', message: msg({ type: MessageType.Append, entries: [{ term: 1, index: 1, type: 0, data: [1] as unknown as Uint8Array }] }) }],
    ['snapshot without snapshot', { group: 'g', message: msg({ type: MessageType.Snapshot }) }],
    ['snapshot on a heartbeat', { group: 'g', message: { ...fullMessage(MessageType.Snapshot, 1), type: MessageType.Heartbeat } }],
    [
      'zero voter id',
      {
        group: 'g',
        message: (() => {
          const m = fullMessage(MessageType.Snapshot, 1);
          m.snapshot!.metadata.confState.voters = [0];
          return m;
        })(),
      },
    ],
  ];
  for (const [what, env] of bad) {
    assert.equal(
      errorCode(() => encodeMessages([env])),
      'invalid_input',
      what,
    );
    assert.notEqual(envelopeProblem(env), null, what);
  }
  assert.equal(envelopeProblem({ group: 'g', message: fullMessage(MessageType.Append, 2) }), null);
  // A failed encode leaves the shared scratch buffer usable.
  const ok = [{ group: 'g', message: msg() }];
  assert.deepEqual(roundTrip(ok), ok);
});

test('decode rejects malformed frames with specific codes', () => {
  const good = encodeMessages([{ group: 'g', message: msg({ term: 5 }) }]);
  const with_ = (i: number, v: number) => {
    const c = good.slice();
    c[i] = v;
    return c;
  };
  assert.equal(
    errorCode(() => decodeFrame(new Uint8Array(0))),
    'truncated',
  );
  assert.equal(
    errorCode(() => decodeFrame(with_(0, 2))),
    'bad_version',
  );
  assert.equal(
    errorCode(() => decodeFrame(with_(1, 99))),
    'bad_kind',
  );
  assert.equal(
    errorCode(() => decodeFrame(bytes(...good, 0))),
    'trailing_bytes',
  );
  assert.ok(['truncated', 'bad_count'].includes(errorCode(() => decodeFrame(good.subarray(0, good.length - 1)))));
  for (let n = 0; n < good.length; n++) assert.ok(['truncated', 'bad_count'].includes(errorCode(() => decodeFrame(good.subarray(0, n)))));
  // Layout: [1][1][groups=1][len=1]['g'][msgs=1][gi=0][type][flags][from][to]...
  assert.equal(
    errorCode(() => decodeFrame(with_(7, MessageType.CheckQuorum))),
    'bad_enum',
  ); // a local type
  assert.equal(
    errorCode(() => decodeFrame(with_(7, 23))),
    'bad_enum',
  );
  assert.equal(
    errorCode(() => decodeFrame(with_(8, 128))),
    'reserved_bits',
  );
  assert.equal(
    errorCode(() => decodeFrame(with_(8, 32))),
    'reserved_bits',
  ); // transfer value without flag
  assert.equal(
    errorCode(() => decodeFrame(with_(9, 0))),
    'bad_id',
  ); // from = 0
  assert.equal(
    errorCode(() => decodeFrame(with_(6, 1))),
    'bad_group',
  ); // group index out of the table
  assert.equal(
    errorCode(() => decodeFrame(with_(4, 0xff))),
    'bad_utf8',
  );
  assert.equal(
    errorCode(() => decodeFrame(with_(8, 2))),
    'inconsistent',
  ); // snapshot flag on a heartbeat
  // Overlong varint (0x80 0x00), and one above 2^53-1.
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.SnapshotAbort, 0x81, 0x00, 0))),
    'bad_varint',
  );
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.SnapshotAbort, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0))),
    'out_of_range',
  );
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.SnapshotAbort, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0))),
    'bad_varint',
  );
  // Counts far beyond the frame are refused before allocating anything.
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.Messages, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f))),
    'bad_count',
  );
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.Messages, 0, 0xff, 0xff, 0xff, 0x7f))),
    'bad_count',
  );
  // Duplicate names in the group table.
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.Messages, 2, 1, 103, 1, 103, 0))),
    'bad_group',
  );
  // Stream id 0, empty chunk, bad ack status.
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.SnapshotChunk, 0, 0, 1))),
    'bad_id',
  );
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.SnapshotChunk, 1, 0))),
    'truncated',
  );
  assert.equal(
    errorCode(() => decodeFrame(bytes(1, FrameKind.SnapshotAck, 1, 2, 0))),
    'bad_enum',
  );
  // A snapshot stream header may not carry inline data.
  const begin = encodeSnapshotBegin(1, 10, { group: 'g', message: fullMessage(MessageType.Snapshot, 0) });
  const inline = bytes(...begin.subarray(0, begin.length - 3), 1, 9, ...begin.subarray(begin.length - 2));
  assert.equal(
    errorCode(() => decodeFrame(inline)),
    'inconsistent',
  );
  assert.equal(
    errorCode(() => decodeFrame('x' as unknown as Uint8Array)),
    'invalid_input',
  );
});

// --- fuzz ---------------------------------------------------------------------------------

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A decoded frame is "valid" if it re-encodes and decodes to the same value. */
function assertValid(f: Frame): void {
  switch (f.kind) {
    case FrameKind.Messages:
      assert.deepEqual(decodeFrame(encodeMessages(f.envelopes)), f);
      break;
    case FrameKind.SnapshotBegin:
      assert.deepEqual(decodeFrame(encodeSnapshotBegin(f.streamId, f.totalSize, f.envelope)), f);
      break;
    case FrameKind.SnapshotChunk:
      assert.deepEqual(decodeFrame(encodeSnapshotChunk(f.streamId, f.offset, f.data)), f);
      break;
    case FrameKind.SnapshotAck:
      assert.deepEqual(decodeFrame(encodeSnapshotAck(f.streamId, f.ok, f.reason)), f);
      break;
    case FrameKind.SnapshotAbort:
      assert.deepEqual(decodeFrame(encodeSnapshotAbort(f.streamId, f.reason)), f);
      break;
    default:
      assert.fail('unknown frame kind');
  }
}

test('fuzz: mutated and truncated frames decode to valid values or throw FrameError', () => {
  const rnd = prng(12345);
  const seeds: Uint8Array[] = [
    encodeMessages(NETWORK_TYPES.map((t, i) => ({ group: `g${i % 3}`, message: fullMessage(t, i) }))),
    encodeMessages([{ group: 'hb', message: msg({ term: 3, commit: 9, leaseTick: 4 }) }]),
    encodeMessages([{ group: 'a', message: fullMessage(MessageType.Append, 5) }]),
    encodeSnapshotBegin(3, 1 << 20, { group: 's', message: fullMessage(MessageType.Snapshot, 2) }),
    encodeSnapshotChunk(3, 4096, bytes(1, 2, 3, 4)),
    encodeSnapshotAck(3, false, 'nope'),
    encodeSnapshotAbort(3, 'gone'),
  ];
  let valid = 0;
  let rejected = 0;
  const codes = new Set<string>();
  for (let iter = 0; iter < 6000; iter++) {
    const base = seeds[iter % seeds.length]!;
    let f = base.slice();
    const ops = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < ops; k++) {
      const op = Math.floor(rnd() * 6);
      const at = Math.floor(rnd() * Math.max(1, f.length));
      if (op === 0 && f.length > 0)
        f[at] = Math.floor(rnd() * 256); // random byte
      else if (op === 1 && f.length > 0)
        f[at]! ^= 1 << Math.floor(rnd() * 8); // bit flip
      else if (op === 2)
        f = f.slice(0, at); // truncate
      else if (op === 3)
        f = bytes(...f.subarray(0, at), ...f.subarray(at + 1)); // delete a byte
      else if (op === 4)
        f = bytes(...f.subarray(0, at), Math.floor(rnd() * 256), ...f.subarray(at)); // insert
      else if (f.length > 0) f[at] = [0, 0x7f, 0x80, 0xff][Math.floor(rnd() * 4)]!; // boundary byte
    }
    let out: Frame;
    try {
      out = decodeFrame(f);
    } catch (err) {
      if (!(err instanceof FrameError)) throw new Error(`decode threw ${String(err)} on ${Buffer.from(f).toString('hex')}`);
      rejected++;
      codes.add(err.code);
      continue;
    }
    valid++;
    assertValid(out);
  }
  // Random garbage, too.
  for (let iter = 0; iter < 3000; iter++) {
    const f = new Uint8Array(Math.floor(rnd() * 64)).map(() => Math.floor(rnd() * 256));
    if (rnd() < 0.7 && f.length > 1) {
      f[0] = PROTOCOL_VERSION;
      f[1] = 1 + Math.floor(rnd() * 5);
    }
    try {
      assertValid(decodeFrame(f));
      valid++;
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.ok(err instanceof FrameError, `decode threw ${String(err)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 1000 && valid > 50, `valid ${valid}, rejected ${rejected}`);
  assert.ok(codes.size >= 8, `only saw codes ${[...codes].join(', ')}`);
});

test('a snapshot history: checksums round-trip; a history after its index, checksums of 2^32 or more and reserved conf flags are refused', () => {
  const history = { from: 9, termChecksum: 7, dataChecksum: 8 };
  const snap = (h: typeof history) =>
    msg({
      type: MessageType.Snapshot,
      term: 1,
      snapshot: {
        metadata: { index: 10, term: 1, confState: { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], witnesses: [], autoLeave: false }, history: h },
        data: new Uint8Array(0),
      },
    });
  const env = { group: 'g', message: snap(history) };
  assert.deepEqual(roundTrip([env]), [env]);
  const good = encodeMessages([env]);
  // ... index 10, term 1, conf flags 2 (history), voters [1], four empty lists, history 9 7 8, no data.
  const tail = [10, 1, 2, 1, 1, 0, 0, 0, 0, 9, 7, 8, 0];
  const at = Buffer.from(good).indexOf(Buffer.from(tail));
  assert.ok(at > 0 && at + tail.length === good.length, 'the snapshot ends the frame');
  const patched = (...t: number[]) => Buffer.concat([good.subarray(0, at), Buffer.from(t)]);
  assert.ok(decodeFrame(patched(...tail)));
  assert.equal(
    errorCode(() => decodeFrame(patched(10, 1, 2, 1, 1, 0, 0, 0, 0, 11, 7, 8, 0))),
    'inconsistent',
  );
  assert.equal(
    errorCode(() => decodeFrame(patched(10, 1, 2, 1, 1, 0, 0, 0, 0, 9, 0x80, 0x80, 0x80, 0x80, 0x10, 8, 0))),
    'out_of_range',
  );
  assert.equal(
    errorCode(() => decodeFrame(patched(10, 1, 6, 1, 1, 0, 0, 0, 0, 9, 7, 8, 0))),
    'reserved_bits',
  );
  // Without the flag the history is absent (a peer that does not carry it).
  const plain = decodeFrame(patched(10, 1, 0, 1, 1, 0, 0, 0, 0, 0)) as Extract<Frame, { kind: FrameKind.Messages }>;
  assert.equal(plain.envelopes[0]!.message.snapshot!.metadata.history, undefined);
  // Encoding refuses what decoding would.
  assert.equal(
    errorCode(() => encodeMessages([{ group: 'g', message: snap({ ...history, from: 11 }) }])),
    'invalid_input',
  );
  assert.equal(
    errorCode(() => encodeMessages([{ group: 'g', message: snap({ ...history, dataChecksum: 2 ** 32 }) }])),
    'invalid_input',
  );
});
