// WatchResponse on the wire, encoded here rather than by protobufjs: with many watches on one
// key range, every event goes out once per watch, and protobufjs converted and encoded it again
// for each (16 % of a node's busy time under bench:meta's 1,000 watchers). An event object is
// shared by every watch that receives it (watcher.ts, encode.ts), so its bytes are made once and
// reused. Fields at their proto3 default are left out, as protobuf encoders do. Field numbers are
// etcd's (proto/rpc.proto, proto/kv.proto).
import type { WireEvent, WireKeyValue, WireResponseHeader, WireWatchResponse } from './wire-types.js';

const encodedEvents = new WeakMap<WireEvent, Buffer>();

/** Protobuf bytes being assembled: a list of chunks, joined once. */
class ProtoWriter {
  private readonly chunks: Buffer[] = [];
  private scratch: number[] = [];
  length = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Buffer.from(this.scratch));
    this.length += this.scratch.length;
    this.scratch = [];
  }

  private varint(v: bigint): void {
    // Negative int64s go as their 64-bit two's complement (ten bytes), as protobuf does.
    let n = BigInt.asUintN(64, v);
    while (n >= 0x80n) {
      this.scratch.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.scratch.push(Number(n));
  }

  private smallVarint(n: number): void {
    while (n >= 0x80) {
      this.scratch.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.scratch.push(n);
  }

  /** An int64/uint64 field given as a decimal string (omitted when zero). */
  int64(field: number, v: string): void {
    if (v === '0' || v === '') return;
    this.smallVarint(field << 3);
    const n = v.length < 16 && v[0] !== '-' ? Number(v) : undefined;
    if (n === undefined) return this.varint(BigInt(v));
    // Below 2^53, without BigInt (revisions and versions, the common case).
    let rest = n;
    while (rest >= 0x80) {
      this.scratch.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.scratch.push(rest);
  }

  bool(field: number, v: boolean): void {
    if (!v) return;
    this.smallVarint(field << 3);
    this.scratch.push(1);
  }

  enumValue(field: number, v: number): void {
    if (v === 0) return;
    this.smallVarint(field << 3);
    this.varint(BigInt(v));
  }

  /** A length-delimited field: bytes, a string or an encoded message (omitted when empty unless `always`). */
  bytes(field: number, v: Buffer, always = false): void {
    if (v.length === 0 && !always) return;
    this.smallVarint((field << 3) | 2);
    this.smallVarint(v.length);
    this.flushScratch();
    if (v.length > 0) {
      this.chunks.push(v);
      this.length += v.length;
    }
  }

  string(field: number, v: string): void {
    if (v.length > 0) this.bytes(field, Buffer.from(v, 'utf8'));
  }

  finish(): Buffer {
    this.flushScratch();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
  }
}

function header(h: WireResponseHeader): Buffer {
  const w = new ProtoWriter();
  w.int64(1, h.cluster_id);
  w.int64(2, h.member_id);
  w.int64(3, h.revision);
  w.int64(4, h.raft_term);
  return w.finish();
}

function keyValue(kv: WireKeyValue): Buffer {
  const w = new ProtoWriter();
  w.bytes(1, kv.key);
  w.int64(2, kv.create_revision);
  w.int64(3, kv.mod_revision);
  w.int64(4, kv.version);
  w.bytes(5, kv.value);
  w.int64(6, kv.lease);
  return w.finish();
}

/** An mvccpb.Event's bytes, made once per event object. */
export function encodeEventBytes(e: WireEvent): Buffer {
  let bytes = encodedEvents.get(e);
  if (!bytes) {
    const w = new ProtoWriter();
    w.enumValue(1, e.type);
    // A present message field is written even when all its fields are defaults.
    if (e.kv) w.bytes(2, keyValue(e.kv), true);
    if (e.prev_kv) w.bytes(3, keyValue(e.prev_kv), true);
    bytes = w.finish();
    encodedEvents.set(e, bytes);
  }
  return bytes;
}

/** etcdserverpb.WatchResponse's bytes. */
export function encodeWatchResponseBytes(r: WireWatchResponse): Buffer {
  const w = new ProtoWriter();
  if (r.header) w.bytes(1, header(r.header), true);
  w.int64(2, r.watch_id);
  w.bool(3, r.created);
  w.bool(4, r.canceled);
  w.int64(5, r.compact_revision);
  w.string(6, r.cancel_reason);
  w.bool(7, r.fragment);
  for (const e of r.events) w.bytes(11, encodeEventBytes(e), true);
  return w.finish();
}
