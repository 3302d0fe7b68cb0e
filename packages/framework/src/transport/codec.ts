// The peer wire format: compact binary frames, one WebSocket message each.
//
// Every frame starts with [version u8 = 1][kind u8]. Numbers are unsigned LEB128 varints,
// canonical (no overlong forms), at most 8 bytes, and never above 2^53-1, so every index and
// term round-trips exactly as a JS number. Byte strings are a varint length and raw bytes.
//
//   Messages (1)       varint groupCount, groupCount × (varint len 1..255, UTF-8 name),
//                      varint msgCount, msgCount × (varint groupIdx, message body)
//   SnapshotBegin (2)  varint streamId ≥ 1, varint totalSize, group name, message body (a
//                      Snapshot message whose snapshot.data is empty: the bytes follow as chunks)
//   SnapshotChunk (3)  varint streamId, varint offset, data (the rest of the frame, ≥ 1 byte)
//   SnapshotAck (4)    varint streamId, u8 status (0 ok, 1 rejected), reason string (≤ 255 B)
//   SnapshotAbort (5)  varint streamId, reason string
//
// Message body: u8 type (network types only), u8 flags, varints from, to (both ≥ 1), term,
// logTerm, index, commit, rejectHint; then, as flagged: entries, snapshot, context, leaseTick.
//   flags: 1 reject | 2 snapshot | 4 context | 8 leaseTick | 16 transfer present |
//          32 transfer value | 64 entries; 128 reserved (must be 0)
//   entries: varint count ≥ 1, each: u8 kind (bits 0-1 EntryType, 4 = index is previous + 1,
//            8 = term equals previous; bits 4-7 reserved), [varint index], [varint term],
//            varint len, data. "Previous" starts as the message's index and term.
//   snapshot: varint index, varint term, u8 confFlags (1 autoLeave, 2 history; others
//             reserved), 5 id lists (voters, learners, votersOutgoing, learnersNext,
//             witnesses: varint n, n × varint id ≥ 1), [history: varint from ≤ index,
//             varint termChecksum, varint dataChecksum, both < 2^32], varint dataLen, data
//   context: varint len, bytes;  leaseTick: varint
//
// decodeFrame() validates everything and throws FrameError on anything malformed; counts are
// checked against the remaining bytes before anything is allocated, so a hostile frame can
// make it allocate at most O(frame length).
import { EntryType, MessageType, type ConfState, type Entry, type Message, type NodeId, type Snapshot, type SnapshotMetadata } from '../core/types.js';
import type { Envelope } from './transport.js';

export const PROTOCOL_VERSION = 1;
export const MAX_GROUP_NAME_BYTES = 255;
export const MAX_REASON_BYTES = 255;

export enum FrameKind {
  Messages = 1,
  SnapshotBegin = 2,
  SnapshotChunk = 3,
  SnapshotAck = 4,
  SnapshotAbort = 5,
}

export type FrameErrorCode =
  | 'truncated'
  | 'bad_version'
  | 'bad_kind'
  | 'bad_varint'
  | 'out_of_range'
  | 'bad_enum'
  | 'bad_count'
  | 'bad_utf8'
  | 'bad_group'
  | 'bad_id'
  | 'reserved_bits'
  | 'inconsistent'
  | 'trailing_bytes'
  | 'invalid_input';

/** A malformed frame (decode) or an unencodable value (encode, code 'invalid_input'). */
export class FrameError extends Error {
  constructor(
    readonly code: FrameErrorCode,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
    this.name = 'FrameError';
  }
}

export type Frame =
  | { kind: FrameKind.Messages; envelopes: Envelope[] }
  | { kind: FrameKind.SnapshotBegin; streamId: number; totalSize: number; envelope: Envelope }
  /** `data` is a view into the decoded buffer, never a copy. */
  | { kind: FrameKind.SnapshotChunk; streamId: number; offset: number; data: Uint8Array }
  | { kind: FrameKind.SnapshotAck; streamId: number; ok: boolean; reason: string }
  | { kind: FrameKind.SnapshotAbort; streamId: number; reason: string };

export interface DecodeOptions {
  /**
   * Copy entry data, context and snapshot bytes out of the frame (default true) so the
   * decoded values do not keep the (possibly much larger) network buffer alive. With false
   * they are views into `buf`, which the caller must then not reuse.
   */
  copy?: boolean;
}

// ---------------------------------------------------------------------------------------
// Shared helpers

const F_REJECT = 1;
const F_SNAPSHOT = 2;
const F_CONTEXT = 4;
const F_LEASE = 8;
const F_TRANSFER = 16;
const F_TRANSFER_VALUE = 32;
const F_ENTRIES = 64;
const F_RESERVED = 128;

const E_INDEX_NEXT = 4;
const E_TERM_SAME = 8;
const E_RESERVED = 0xf0;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const EMPTY = new Uint8Array(0);

/** Message types that travel between hosts; local ones (Hup, Beat, ...) never do. */
export function isNetworkMessageType(t: number): boolean {
  return Number.isInteger(t) && t >= MessageType.Append && t <= MessageType.ReadIndexResponse;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Valid group names, already encoded. Bounded: cleared when full (names are few in practice).
const groupNameCache = new Map<string, Uint8Array>();
const GROUP_NAME_CACHE_MAX = 16384;

function encodeGroupName(name: unknown): Uint8Array {
  if (typeof name === 'string') {
    const hit = groupNameCache.get(name);
    if (hit !== undefined) return hit;
  }
  const why = groupNameProblem(name);
  if (why !== null) throw new FrameError('invalid_input', why);
  const bytes = utf8Encoder.encode(name as string);
  if (groupNameCache.size >= GROUP_NAME_CACHE_MAX) groupNameCache.clear();
  groupNameCache.set(name as string, bytes);
  return bytes;
}

function groupNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'group name must be a non-empty string';
  if (name.length > MAX_GROUP_NAME_BYTES) return `group name longer than ${MAX_GROUP_NAME_BYTES} bytes`;
  const bytes = utf8Encoder.encode(name);
  if (bytes.length > MAX_GROUP_NAME_BYTES) return `group name longer than ${MAX_GROUP_NAME_BYTES} bytes`;
  if (utf8Decoder.decode(bytes) !== name) return 'group name is not well-formed Unicode';
  return null;
}

// ---------------------------------------------------------------------------------------
// Encoding

/**
 * A growable output buffer. Encoding is synchronous, so one module-level scratch writer is
 * reused and every frame is returned as an exact-size copy.
 */
class Writer {
  buf: Uint8Array;
  pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.pos = 0;
    if (this.buf.length > 8 << 20) this.buf = new Uint8Array(64 << 10);
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Unchecked: the caller ensured room. */
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  /** Unchecked (caller ensured 8 bytes); validates the value. */
  varint(v: number, what: string): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) throw new FrameError('invalid_input', `${what} must be a non-negative safe integer, got ${String(v)}`);
    const buf = this.buf;
    let pos = this.pos;
    if (v < 0x80) {
      buf[pos] = v;
      this.pos = pos + 1;
      return;
    }
    if (v <= 0x7fffffff) {
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        buf[pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  id(v: number, what: string): void {
    if (v === 0) throw new FrameError('invalid_input', `${what} must be a positive integer`);
    this.varint(v, what);
  }

  /** Checked: a varint length and the bytes. */
  bytes(data: Uint8Array, what: string): void {
    if (!(data instanceof Uint8Array)) throw new FrameError('invalid_input', `${what} must be a Uint8Array`);
    this.ensure(data.length + 9);
    this.varint(data.length, what);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Checked: raw bytes, no length. */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  finish(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.reset();
    return out;
  }
}

const scratch = new Writer(64 << 10);

function writeHeader(w: Writer, kind: FrameKind): void {
  w.reset();
  w.ensure(2);
  w.u8(PROTOCOL_VERSION);
  w.u8(kind);
}

function checksum32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new FrameError('invalid_input', `${what} must be an unsigned 32-bit integer`);
  return n;
}

function writeIdList(w: Writer, ids: readonly NodeId[], what: string): void {
  if (!Array.isArray(ids)) throw new FrameError('invalid_input', `${what} must be an array`);
  w.ensure(9 + ids.length * 8);
  w.varint(ids.length, what);
  for (let i = 0; i < ids.length; i++) w.id(ids[i]!, what);
}

function writeMessageBody(w: Writer, m: Message, externalSnapshotData: boolean): void {
  const type = m.type;
  if (!isNetworkMessageType(type)) throw new FrameError('invalid_input', `message type ${String(type)} is not a network message type`);
  const snap = m.snapshot;
  if ((type === MessageType.Snapshot) !== (snap !== undefined)) {
    throw new FrameError('invalid_input', 'a Snapshot message (and only one) must carry a snapshot');
  }
  const entries = m.entries;
  if (!Array.isArray(entries)) throw new FrameError('invalid_input', 'entries must be an array');
  let flags = 0;
  if (m.reject) flags |= F_REJECT;
  if (snap !== undefined) flags |= F_SNAPSHOT;
  if (m.context !== undefined) flags |= F_CONTEXT;
  if (m.leaseTick !== undefined) flags |= F_LEASE;
  if (m.transfer !== undefined) flags |= m.transfer ? F_TRANSFER | F_TRANSFER_VALUE : F_TRANSFER;
  if (entries.length > 0) flags |= F_ENTRIES;
  w.ensure(2 + 7 * 8 + 9);
  w.u8(type);
  w.u8(flags);
  w.id(m.from, 'from');
  w.id(m.to, 'to');
  w.varint(m.term, 'term');
  w.varint(m.logTerm, 'logTerm');
  w.varint(m.index, 'index');
  w.varint(m.commit, 'commit');
  w.varint(m.rejectHint, 'rejectHint');
  if (entries.length > 0) {
    w.varint(entries.length, 'entry count');
    let prevIndex = m.index;
    let prevTerm = m.term;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const data = e.data;
      if (!(data instanceof Uint8Array)) throw new FrameError('invalid_input', 'entry data must be a Uint8Array');
      const et = e.type;
      if (et !== EntryType.Normal && et !== EntryType.ConfChange && et !== EntryType.Metadata) {
        throw new FrameError('invalid_input', `entry type ${String(et)} is unknown`);
      }
      w.ensure(1 + 3 * 8 + data.length);
      let kind: number = et;
      const nextIndex = e.index === prevIndex + 1;
      const sameTerm = e.term === prevTerm;
      if (nextIndex) kind |= E_INDEX_NEXT;
      if (sameTerm) kind |= E_TERM_SAME;
      w.u8(kind);
      if (!nextIndex) w.varint(e.index, 'entry index');
      if (!sameTerm) w.varint(e.term, 'entry term');
      w.varint(data.length, 'entry length');
      w.buf.set(data, w.pos);
      w.pos += data.length;
      prevIndex = e.index;
      prevTerm = e.term;
    }
  }
  if (snap !== undefined) {
    const md = snap.metadata;
    if (md === null || typeof md !== 'object' || md.confState === null || typeof md.confState !== 'object') {
      throw new FrameError('invalid_input', 'snapshot metadata is missing');
    }
    if (!(snap.data instanceof Uint8Array)) throw new FrameError('invalid_input', 'snapshot data must be a Uint8Array');
    const cs = md.confState;
    w.ensure(3 * 8);
    w.varint(md.index, 'snapshot index');
    w.varint(md.term, 'snapshot term');
    const h = md.history;
    w.u8((cs.autoLeave ? 1 : 0) | (h ? 2 : 0));
    writeIdList(w, cs.voters, 'voters');
    writeIdList(w, cs.learners, 'learners');
    writeIdList(w, cs.votersOutgoing, 'votersOutgoing');
    writeIdList(w, cs.learnersNext, 'learnersNext');
    writeIdList(w, cs.witnesses, 'witnesses');
    if (h) {
      if (h.from > md.index) throw new FrameError('invalid_input', `snapshot history starts at ${h.from}, after its index ${md.index}`);
      w.ensure(3 * 8);
      w.varint(h.from, 'history start');
      w.varint(checksum32(h.termChecksum, 'history term checksum'), 'history term checksum');
      w.varint(checksum32(h.dataChecksum, 'history data checksum'), 'history data checksum');
    }
    if (externalSnapshotData) {
      w.ensure(1);
      w.u8(0);
    } else {
      w.bytes(snap.data, 'snapshot data');
    }
  }
  if (m.context !== undefined) w.bytes(m.context, 'context');
  if (m.leaseTick !== undefined) {
    w.ensure(8);
    w.varint(m.leaseTick, 'leaseTick');
  }
}

/** One Messages frame carrying `envelopes` in order. Throws FrameError('invalid_input') on a bad value. */
export function encodeMessages(envelopes: readonly Envelope[]): Uint8Array {
  const w = scratch;
  try {
    writeHeader(w, FrameKind.Messages);
    // Group table: names in order of first appearance.
    const index = new Map<string, number>();
    const names: Uint8Array[] = [];
    const groupIdx = new Array<number>(envelopes.length);
    for (let i = 0; i < envelopes.length; i++) {
      const g = envelopes[i]!.group;
      let k = index.get(g);
      if (k === undefined) {
        names.push(encodeGroupName(g));
        k = names.length - 1;
        index.set(g, k);
      }
      groupIdx[i] = k;
    }
    w.ensure(9);
    w.varint(names.length, 'group count');
    for (const n of names) w.bytes(n, 'group name');
    w.ensure(9);
    w.varint(envelopes.length, 'message count');
    for (let i = 0; i < envelopes.length; i++) {
      w.ensure(9);
      w.varint(groupIdx[i]!, 'group index');
      writeMessageBody(w, envelopes[i]!.message, false);
    }
    return w.finish();
  } catch (err) {
    w.reset();
    throw err;
  }
}

/** The header frame of a snapshot stream; the message's snapshot.data is NOT included (it follows in chunks of totalSize bytes). */
export function encodeSnapshotBegin(streamId: number, totalSize: number, envelope: Envelope): Uint8Array {
  const w = scratch;
  try {
    writeHeader(w, FrameKind.SnapshotBegin);
    w.ensure(18);
    w.id(streamId, 'stream id');
    w.varint(totalSize, 'total size');
    w.bytes(encodeGroupName(envelope.group), 'group name');
    if (envelope.message.type !== MessageType.Snapshot) throw new FrameError('invalid_input', 'a snapshot stream must carry a Snapshot message');
    writeMessageBody(w, envelope.message, true);
    return w.finish();
  } catch (err) {
    w.reset();
    throw err;
  }
}

export function encodeSnapshotChunk(streamId: number, offset: number, data: Uint8Array): Uint8Array {
  if (data.length === 0) throw new FrameError('invalid_input', 'a snapshot chunk must not be empty');
  // Written directly into an exact-size buffer: one copy of the data, no scratch.
  const w = new Writer(2 + 16 + data.length);
  w.u8(PROTOCOL_VERSION);
  w.u8(FrameKind.SnapshotChunk);
  w.id(streamId, 'stream id');
  w.varint(offset, 'offset');
  w.raw(data);
  return w.pos === w.buf.length ? w.buf : w.buf.subarray(0, w.pos);
}

function encodeReasonFrame(kind: FrameKind, streamId: number, status: number | null, reason: string): Uint8Array {
  const w = scratch;
  try {
    writeHeader(w, kind);
    w.ensure(10);
    w.id(streamId, 'stream id');
    if (status !== null) w.u8(status);
    w.bytes(truncateUtf8(reason, MAX_REASON_BYTES), 'reason');
    return w.finish();
  } catch (err) {
    w.reset();
    throw err;
  }
}

export function encodeSnapshotAck(streamId: number, ok: boolean, reason = ''): Uint8Array {
  return encodeReasonFrame(FrameKind.SnapshotAck, streamId, ok ? 0 : 1, reason);
}

export function encodeSnapshotAbort(streamId: number, reason = ''): Uint8Array {
  return encodeReasonFrame(FrameKind.SnapshotAbort, streamId, null, reason);
}

/** UTF-8 bytes of s, cut at a character boundary to at most max bytes. */
export function truncateUtf8(s: string, max: number): Uint8Array {
  const bytes = utf8Encoder.encode(s);
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * Why this envelope cannot go on the wire, or null if it can. encodeMessages() performs the
 * same checks; use this to find the culprit when it throws.
 */
export function envelopeProblem(env: Envelope): string | null {
  try {
    if (env === null || typeof env !== 'object' || env.message === null || typeof env.message !== 'object') return 'not an envelope';
    encodeGroupName(env.group);
    const w = new Writer(256);
    writeMessageBody(w, env.message, true);
    return null;
  } catch (err) {
    return err instanceof FrameError ? err.reason : String(err);
  }
}

/** A cheap upper-ish bound of a message's encoded size, for splitting batches into frames. */
export function estimateMessageSize(m: Message): number {
  let n = 72;
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) n += 12 + entries[i]!.data.length;
  if (m.context !== undefined) n += 9 + m.context.length;
  if (m.snapshot !== undefined) {
    const cs = m.snapshot.metadata.confState;
    n += 48 + m.snapshot.data.length + 9 * (cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length + cs.witnesses.length);
  }
  return n;
}

// ---------------------------------------------------------------------------------------
// Decoding

function fail(code: FrameErrorCode, reason: string): never {
  throw new FrameError(code, reason);
}

class Reader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    readonly end: number,
    readonly copy: boolean,
  ) {
    this.pos = 0;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  u8(what: string): number {
    if (this.pos >= this.end) fail('truncated', `frame ends before ${what}`);
    return this.buf[this.pos++]!;
  }

  varint(what: string): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) fail('truncated', `frame ends before ${what}`);
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let result = b & 0x7f;
    let mul = 128;
    for (let i = 1; i < 8; i++) {
      if (pos >= this.end) fail('truncated', `frame ends inside ${what}`);
      b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (b === 0) fail('bad_varint', `overlong varint in ${what}`);
        if (result > MAX_SAFE) fail('out_of_range', `${what} exceeds 2^53-1`);
        this.pos = pos;
        return result;
      }
      mul *= 128;
    }
    return fail('bad_varint', `varint longer than 8 bytes in ${what}`);
  }

  id(what: string): number {
    const v = this.varint(what);
    if (v === 0) fail('bad_id', `${what} must be a positive integer`);
    return v;
  }

  /** A count whose items take at least minItemBytes each: bounded by the remaining bytes. */
  count(minItemBytes: number, what: string): number {
    const n = this.varint(what);
    if (n * minItemBytes > this.end - this.pos) fail('bad_count', `${what} ${n} exceeds the remaining ${this.end - this.pos} bytes`);
    return n;
  }

  bytes(n: number, what: string): Uint8Array {
    if (n > this.end - this.pos) fail('truncated', `${what} of ${n} bytes exceeds the remaining ${this.end - this.pos} bytes`);
    if (n === 0) return EMPTY;
    const start = this.pos;
    this.pos = start + n;
    return this.copy ? this.buf.slice(start, start + n) : this.buf.subarray(start, start + n);
  }

  lengthPrefixed(what: string): Uint8Array {
    return this.bytes(this.varint(`${what} length`), what);
  }

  /** A UTF-8 string of at most max bytes (min bytes at least). */
  string(min: number, max: number, what: string): string {
    const n = this.varint(`${what} length`);
    if (n < min || n > max) fail('out_of_range', `${what} length ${n} is outside [${min}, ${max}]`);
    if (n > this.end - this.pos) fail('truncated', `${what} exceeds the frame`);
    const start = this.pos;
    this.pos += n;
    if (n === 0) return '';
    try {
      return utf8Decoder.decode(this.buf.subarray(start, start + n));
    } catch {
      return fail('bad_utf8', `${what} is not valid UTF-8`);
    }
  }

  idList(what: string): NodeId[] {
    const n = this.count(1, `${what} count`);
    const out = new Array<NodeId>(n);
    for (let i = 0; i < n; i++) out[i] = this.id(what);
    return out;
  }
}

// Minimum encoded sizes, for bounding counts before allocating.
const MIN_MESSAGE_BYTES = 1 + 2 + 7; // group index, type, flags, 7 varints
const MIN_ENTRY_BYTES = 2; // kind, length
const MIN_GROUP_BYTES = 2; // length, one byte

function readMessageBody(r: Reader, snapshotDataExternal: boolean): Message {
  const type = r.u8('message type');
  if (!isNetworkMessageType(type)) fail('bad_enum', `message type ${type} is not a network message type`);
  const flags = r.u8('message flags');
  if (flags & F_RESERVED) fail('reserved_bits', `message flags 0x${flags.toString(16)} set reserved bits`);
  if ((flags & F_TRANSFER_VALUE) !== 0 && (flags & F_TRANSFER) === 0) fail('reserved_bits', 'transfer value set without transfer flag');
  const hasSnapshot = (flags & F_SNAPSHOT) !== 0;
  if ((type === MessageType.Snapshot) !== hasSnapshot) fail('inconsistent', 'a Snapshot message (and only one) must carry a snapshot');
  const from = r.id('from');
  const to = r.id('to');
  const term = r.varint('term');
  const logTerm = r.varint('logTerm');
  const index = r.varint('index');
  const commit = r.varint('commit');
  const rejectHint = r.varint('rejectHint');
  let entries: Entry[];
  if (flags & F_ENTRIES) {
    const n = r.count(MIN_ENTRY_BYTES, 'entry count');
    if (n === 0) fail('bad_count', 'entries flag set with zero entries');
    entries = new Array<Entry>(n);
    let prevIndex = index;
    let prevTerm = term;
    for (let i = 0; i < n; i++) {
      const kind = r.u8('entry kind');
      if (kind & E_RESERVED) fail('reserved_bits', `entry kind 0x${kind.toString(16)} sets reserved bits`);
      const et = kind & 3;
      if (et > EntryType.Metadata) fail('bad_enum', `entry type ${et} is unknown`);
      let eIndex: number;
      if (kind & E_INDEX_NEXT) {
        if (prevIndex >= MAX_SAFE) fail('out_of_range', 'entry index exceeds 2^53-1');
        eIndex = prevIndex + 1;
      } else {
        eIndex = r.varint('entry index');
      }
      const eTerm = kind & E_TERM_SAME ? prevTerm : r.varint('entry term');
      const data = r.lengthPrefixed('entry data');
      entries[i] = { term: eTerm, index: eIndex, type: et as EntryType, data };
      prevIndex = eIndex;
      prevTerm = eTerm;
    }
  } else {
    entries = [];
  }
  const m: Message = { type: type as MessageType, from, to, term, logTerm, index, entries, commit, reject: (flags & F_REJECT) !== 0, rejectHint };
  if (hasSnapshot) {
    const sIndex = r.varint('snapshot index');
    const sTerm = r.varint('snapshot term');
    const cflags = r.u8('conf flags');
    if (cflags & ~3) fail('reserved_bits', `conf flags 0x${cflags.toString(16)} set reserved bits`);
    const confState: ConfState = {
      voters: r.idList('voters'),
      learners: r.idList('learners'),
      votersOutgoing: r.idList('votersOutgoing'),
      learnersNext: r.idList('learnersNext'),
      witnesses: r.idList('witnesses'),
      autoLeave: (cflags & 1) !== 0,
    };
    const metadata: SnapshotMetadata = { index: sIndex, term: sTerm, confState };
    if (cflags & 2) {
      const from = r.varint('history start');
      if (from > sIndex) fail('inconsistent', `snapshot history starts at ${from}, after its index ${sIndex}`);
      const termChecksum = r.varint('history term checksum');
      const dataChecksum = r.varint('history data checksum');
      if (termChecksum > 0xffffffff || dataChecksum > 0xffffffff) fail('out_of_range', 'snapshot history checksums must be below 2^32');
      metadata.history = { from, termChecksum, dataChecksum };
    }
    const data = r.lengthPrefixed('snapshot data');
    if (snapshotDataExternal && data.length !== 0) fail('inconsistent', 'a snapshot stream header must not carry data');
    const snapshot: Snapshot = { metadata, data };
    m.snapshot = snapshot;
  }
  if (flags & F_CONTEXT) m.context = r.lengthPrefixed('context');
  if (flags & F_LEASE) m.leaseTick = r.varint('leaseTick');
  if (flags & F_TRANSFER) m.transfer = (flags & F_TRANSFER_VALUE) !== 0;
  return m;
}

/** Decodes and validates one frame. Throws FrameError on anything malformed. */
export function decodeFrame(input: Uint8Array, options?: DecodeOptions): Frame {
  if (!(input instanceof Uint8Array)) fail('invalid_input', 'frame must be a Uint8Array');
  // A plain Uint8Array view (a Node Buffer's slice() would not copy, and decoded bytes
  // should be plain Uint8Arrays).
  const buf = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const r = new Reader(buf, buf.length, options?.copy !== false);
  const version = r.u8('version');
  if (version !== PROTOCOL_VERSION) fail('bad_version', `protocol version ${version} is not ${PROTOCOL_VERSION}`);
  const kind = r.u8('frame kind');
  let frame: Frame;
  switch (kind) {
    case FrameKind.Messages: {
      const groupCount = r.count(MIN_GROUP_BYTES, 'group count');
      const groups = new Array<string>(groupCount);
      for (let i = 0; i < groupCount; i++) groups[i] = r.string(1, MAX_GROUP_NAME_BYTES, 'group name');
      if (groupCount > 1 && new Set(groups).size !== groupCount) fail('bad_group', 'duplicate group name in the group table');
      const n = r.count(MIN_MESSAGE_BYTES, 'message count');
      const envelopes = new Array<Envelope>(n);
      for (let i = 0; i < n; i++) {
        const gi = r.varint('group index');
        if (gi >= groupCount) fail('bad_group', `group index ${gi} is outside the table of ${groupCount}`);
        envelopes[i] = { group: groups[gi]!, message: readMessageBody(r, false) };
      }
      frame = { kind: FrameKind.Messages, envelopes };
      break;
    }
    case FrameKind.SnapshotBegin: {
      const streamId = r.id('stream id');
      const totalSize = r.varint('total size');
      const group = r.string(1, MAX_GROUP_NAME_BYTES, 'group name');
      const message = readMessageBody(r, true);
      frame = { kind: FrameKind.SnapshotBegin, streamId, totalSize, envelope: { group, message } };
      break;
    }
    case FrameKind.SnapshotChunk: {
      const streamId = r.id('stream id');
      const offset = r.varint('offset');
      const n = r.remaining();
      if (n === 0) fail('truncated', 'empty snapshot chunk');
      if (offset + n > MAX_SAFE) fail('out_of_range', 'chunk end exceeds 2^53-1');
      const data = buf.subarray(r.pos, r.end);
      r.pos = r.end;
      frame = { kind: FrameKind.SnapshotChunk, streamId, offset, data };
      break;
    }
    case FrameKind.SnapshotAck: {
      const streamId = r.id('stream id');
      const status = r.u8('ack status');
      if (status > 1) fail('bad_enum', `ack status ${status} is unknown`);
      const reason = r.string(0, MAX_REASON_BYTES, 'reason');
      frame = { kind: FrameKind.SnapshotAck, streamId, ok: status === 0, reason };
      break;
    }
    case FrameKind.SnapshotAbort: {
      const streamId = r.id('stream id');
      const reason = r.string(0, MAX_REASON_BYTES, 'reason');
      frame = { kind: FrameKind.SnapshotAbort, streamId, reason };
      break;
    }
    default:
      return fail('bad_kind', `frame kind ${kind} is unknown`);
  }
  if (r.pos !== r.end) fail('trailing_bytes', `${r.end - r.pos} bytes after the end of the frame`);
  return frame;
}
