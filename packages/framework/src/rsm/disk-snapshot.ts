// The snapshot format of an on-disk state machine: a magic, the length of the envelope, the
// envelope's JSON (sessions, requests, clock, history: everything but the state) and then the
// state machine's own snapshot file, byte for byte. A snapshot taken only to compact the log
// (metadata-only: the machine's own files hold the state) has a magic of its own and ends after
// the envelope; a build that predates it refuses it instead of installing an empty file. A JSON
// snapshot starts with '{', so the formats are told apart by their first bytes.
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { SnapshotReader } from '../host/snapshot-files.js';
import type { OnDiskStateMachine } from './on-disk-state-machine.js';
import { RsmError } from './rsm-error.js';

export const DISK_SNAPSHOT_MAGIC = Buffer.from('RKDISK\x00\x01', 'latin1');
/** A metadata-only snapshot: the envelope, and no state after it. */
export const DISK_METADATA_MAGIC = Buffer.from('RKDISK\x00\x02', 'latin1');
const HEAD = DISK_SNAPSHOT_MAGIC.length + 4;
/** Envelopes are small (sessions and a bounded history); a larger length means a bad file. */
const MAX_ENVELOPE_BYTES = 256 << 20;
const PIECE = 1 << 20;

/**
 * An on-disk machine's pinned state (prepareSnapshot's result), given back exactly once:
 * saveSnapshot takes it over, or it is released. A chunks() generator that never starts never
 * reaches its finally, so a capture abandoned before then releases it through abandon().
 */
export class SnapshotPin {
  started = false;
  private held = true;

  constructor(
    private readonly disk: OnDiskStateMachine,
    readonly pinned: unknown,
  ) {}

  /** saveSnapshot owns the pin from now on. */
  handOver(): void {
    this.held = false;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.disk.releaseSnapshot?.(this.pinned);
  }

  abandon(): void {
    if (!this.started) this.release();
  }
}

function startsWith(start: Uint8Array, magic: Buffer): boolean {
  return start.length >= magic.length && Buffer.from(start.buffer, start.byteOffset, magic.length).equals(magic);
}

/** Whether bytes begin an on-disk machine's snapshot (full or metadata-only). */
export function isDiskSnapshot(start: Uint8Array): boolean {
  return startsWith(start, DISK_SNAPSHOT_MAGIC) || startsWith(start, DISK_METADATA_MAGIC);
}

/** The magic and length that precede the envelope. */
export function diskSnapshotHead(envelope: Uint8Array, metadataOnly = false): Buffer {
  const head = Buffer.alloc(HEAD);
  (metadataOnly ? DISK_METADATA_MAGIC : DISK_SNAPSHOT_MAGIC).copy(head, 0);
  head.writeUInt32LE(envelope.length, DISK_SNAPSHOT_MAGIC.length);
  return head;
}

export interface DiskSnapshotHead {
  envelope: Uint8Array;
  /** Where the state file begins (the end, for a metadata-only snapshot). */
  stateOffset: number;
  /** The snapshot holds no state: the machine's own files had it when it was taken. */
  metadataOnly: boolean;
}

/** The envelope's bytes and where the state file begins, or undefined for a JSON snapshot. */
export async function readDiskSnapshotHead(reader: SnapshotReader): Promise<DiskSnapshotHead | undefined> {
  const head = await reader.read(0, HEAD);
  if (!isDiskSnapshot(head)) return undefined;
  if (head.length < HEAD) throw new RsmError('bad_snapshot', 'on-disk snapshot is truncated in its header');
  const metadataOnly = startsWith(head, DISK_METADATA_MAGIC);
  const length = Buffer.from(head.buffer, head.byteOffset, head.length).readUInt32LE(DISK_SNAPSHOT_MAGIC.length);
  if (length > MAX_ENVELOPE_BYTES || HEAD + length > reader.length) {
    throw new RsmError('bad_snapshot', `on-disk snapshot envelope of ${length} bytes does not fit the ${reader.length}-byte snapshot`);
  }
  if (metadataOnly && HEAD + length !== reader.length) {
    throw new RsmError('bad_snapshot', `metadata-only snapshot of ${reader.length} bytes has ${reader.length - HEAD - length} bytes after its ${length}-byte envelope`);
  }
  const envelope = await reader.read(HEAD, length);
  return { envelope, stateOffset: HEAD + length, metadataOnly };
}

/** The snapshot's pieces: head and envelope, then the state file (deleted afterwards). */
export async function* diskSnapshotChunks(envelope: Uint8Array, writeState: () => Promise<string>): AsyncGenerator<Uint8Array> {
  yield diskSnapshotHead(envelope);
  yield envelope;
  const file = await writeState();
  try {
    for await (const piece of createReadStream(file, { highWaterMark: PIECE })) yield piece as Buffer;
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
