// Snapshot files written and read in pieces, for snapshots larger than memory. The file format
// is SnapshotStore's (magic, header with the data's length and CRC, data); a streamed write does
// not know the length and CRC until the end, so it reserves the header's space up front (the
// header JSON with the widest possible numbers) and writes the real header, padded with spaces
// to that size, last. JSON ignores trailing whitespace, so readers need no change.
import { createWriteStream } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { crc32 } from './checksum.js';
import { CorruptLogError, StorageError } from './errors.js';
import type { SnapshotReader, SnapshotSink } from './snapshot-stream.js';

export const SNAPSHOT_MAGIC = Buffer.from('RKSNAP\x00\x01', 'latin1');
/** magic(8) + header length u32 + header crc u32 */
export const SNAPSHOT_FIXED = 16;
const WIDEST_LENGTH = Number.MAX_SAFE_INTEGER;
const WIDEST_CRC = 0xffffffff;
/** Bytes a streamed read or copy moves at a time. */
const PIECE = 1 << 20;

/** The header's JSON fields other than the data's length and CRC. */
export type HeaderFields = Record<string, unknown>;

/** The fixed part and the JSON header, padded with spaces to `width` bytes of JSON when given. */
export function encodeHeader(fields: HeaderFields, dataLength: number, dataCrc: number, width?: number): Buffer {
  let json = Buffer.from(JSON.stringify({ ...fields, dataLength, dataCrc }), 'utf8');
  if (width !== undefined) {
    if (json.length > width) throw new StorageError('storage_failed', 'snapshot header grew beyond its reserved size');
    json = Buffer.concat([json, Buffer.alloc(width - json.length, 0x20)]);
  }
  const head = Buffer.alloc(SNAPSHOT_FIXED + json.length);
  SNAPSHOT_MAGIC.copy(head, 0);
  head.writeUInt32LE(json.length, 8);
  head.writeUInt32LE(crc32(json), 12);
  json.copy(head, SNAPSHOT_FIXED);
  return head;
}

async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, off, buf.byteLength - off, position + off);
    if (bytesWritten <= 0) throw new Error('short write');
    off += bytesWritten;
  }
}

/**
 * Writes a snapshot file in pieces to `tmp`; commit() writes the header, fsyncs and renames it
 * to `final` (then `afterRename`, the directory's fsync), abort() deletes it.
 */
export class StreamedSnapshotWriter implements SnapshotSink {
  private written = 0;
  private crc = 0;
  private readonly width: number;
  private settled = false;

  private constructor(
    private readonly fh: FileHandle,
    private readonly fields: HeaderFields,
    private readonly tmp: string,
    private readonly final: string,
    private readonly expectedLength: number | undefined,
    private readonly afterRename: () => Promise<void>,
    private readonly onSettled: () => void,
  ) {
    this.width = Buffer.byteLength(JSON.stringify({ ...fields, dataLength: WIDEST_LENGTH, dataCrc: WIDEST_CRC }), 'utf8');
  }

  static async create(o: {
    fields: HeaderFields;
    tmp: string;
    final: string;
    expectedLength?: number;
    afterRename: () => Promise<void>;
    onSettled: () => void;
  }): Promise<StreamedSnapshotWriter> {
    const fh = await open(o.tmp, 'wx', 0o644);
    const w = new StreamedSnapshotWriter(fh, o.fields, o.tmp, o.final, o.expectedLength, o.afterRename, o.onSettled);
    return w;
  }

  get bytes(): number {
    return this.written;
  }

  private get dataStart(): number {
    return SNAPSHOT_FIXED + this.width;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.settled) throw new StorageError('invalid_write', 'snapshot write after commit or abort');
    if (this.expectedLength !== undefined && this.written + chunk.length > this.expectedLength) {
      throw new StorageError('invalid_write', `snapshot data overruns the announced ${this.expectedLength} bytes`);
    }
    await writeAll(this.fh, chunk, this.dataStart + this.written);
    this.crc = crc32(chunk, this.crc);
    this.written += chunk.length;
  }

  async commit(): Promise<void> {
    if (this.settled) throw new StorageError('invalid_write', 'snapshot committed twice');
    if (this.expectedLength !== undefined && this.written !== this.expectedLength) {
      throw new StorageError('invalid_write', `snapshot data is ${this.written} bytes, ${this.expectedLength} were announced`);
    }
    this.settled = true;
    try {
      await writeAll(this.fh, encodeHeader(this.fields, this.written, this.crc, this.width), 0);
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tmp, this.final);
      await this.afterRename();
    } catch (e) {
      await this.fh.close().catch(() => undefined);
      await unlink(this.tmp).catch(() => undefined);
      throw new StorageError('storage_failed', `cannot save snapshot ${this.final}: ${(e as Error).message}`);
    } finally {
      this.onSettled();
    }
  }

  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
    this.onSettled();
  }
}

/** Reads a snapshot file's data region in pieces, checking its CRC when read in order from 0. */
export class SnapshotFileReader implements SnapshotReader {
  private nextOffset = 0;
  private crc = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly file: string,
    private readonly group: string,
    private readonly index: number,
    private readonly dataStart: number,
    readonly length: number,
    private readonly dataCrc: number,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.length - offset));
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.fh.read(buf, got, n - got, this.dataStart + offset + got);
      if (bytesRead === 0) throw new CorruptLogError(this.file, this.group, this.index, 'snapshot file is shorter than its header says');
      got += bytesRead;
    }
    this.track(offset, buf);
    return buf;
  }

  async copyTo(file: string, from: number): Promise<void> {
    const out = createWriteStream(file, { flags: 'wx' });
    // A file already there is not ours to delete when the copy fails.
    await once(out, 'open');
    try {
      if (from !== 0) {
        // The checksum covers the whole data region: read what is skipped too.
        for (let off = 0; off < from; off += PIECE) await this.read(off, Math.min(PIECE, from - off));
      }
      for (let off = from; off < this.length; off += PIECE) {
        const piece = await this.read(off, Math.min(PIECE, this.length - off));
        if (!out.write(piece)) await once(out, 'drain');
      }
      if (this.length === 0 || from >= this.length) this.track(this.length, Buffer.alloc(0));
      out.end();
      await once(out, 'finish');
      const fh = await open(file, 'r+');
      await fh.sync().finally(() => fh.close());
    } catch (e) {
      out.destroy();
      await unlink(file).catch(() => undefined);
      throw e;
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }

  /**
   * Folds an in-order piece into the running CRC; the piece that reaches the end checks it. A
   * read from offset 0 starts the check over, so a caller that peeks at the head and then reads
   * (or copies) from the start still gets a verdict.
   */
  private track(offset: number, piece: Uint8Array): void {
    if (offset === 0) {
      this.crc = 0;
      this.nextOffset = 0;
    }
    if (offset !== this.nextOffset) {
      this.nextOffset = -1; // read out of order: no verdict
      return;
    }
    this.crc = crc32(piece, this.crc);
    this.nextOffset += piece.length;
    if (this.nextOffset === this.length && this.crc !== this.dataCrc) {
      throw new CorruptLogError(this.file, this.group, this.index, 'snapshot data failed its checksum');
    }
  }
}
