// Snapshot data on disk: <dataDir>/snapshots/<encoded group>/<index>-<term>.snap, one file per
// snapshot, written atomically (temp file, fsync, rename, fsync of the directory) so a crash
// leaves either the old set of files or the new one. Every file starts with a header carrying
// the metadata and a CRC-32 of the data; load() verifies both. All I/O is node:fs/promises, and
// checksums of large payloads are computed in slices that yield to the event loop.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cloneConfState } from '../core/conf-state.js';
import type { Snapshot, SnapshotMetadata } from '../core/types.js';
import { crc32 } from './checksum.js';
import { CorruptLogError, StorageError } from './errors.js';
import { checkConfState } from './validate.js';
import type { SnapshotReader, SnapshotSink } from './snapshot-stream.js';
import { SNAPSHOT_FIXED as FIXED, SNAPSHOT_MAGIC as MAGIC, SnapshotFileReader, StreamedSnapshotWriter, encodeHeader } from './snapshot-file-io.js';

const MAX_HEADER = 1 << 20;
const SLICE = 4 << 20;
const NAME = /^(\d+)-(\d+)\.snap$/;
const TMP_PREFIX = '.tmp-';

/** Thrown by load() when no snapshot file exists for (group, index, term). */
export class SnapshotNotFoundError extends Error {
  readonly code = 'snapshot_not_found';
  constructor(
    readonly group: string,
    readonly index: number,
    readonly term: number,
  ) {
    super(`no snapshot ${index}-${term} of group "${group}" on disk`);
    this.name = 'SnapshotNotFoundError';
  }
}

interface Header {
  v: 1;
  group: string;
  index: number;
  term: number;
  confState: SnapshotMetadata['confState'];
  dataLength: number;
  dataCrc: number;
}

/**
 * A group name as a directory name: "g_" then the UTF-8 bytes, [a-z0-9_-] kept and every other
 * byte as %XX (upper-case hex), so distinct names never collide, even on case-insensitive file
 * systems, and no name is special ("", ".", "..", "CON"). Names that would encode to more than
 * 200 characters keep a prefix plus "~" and a SHA-256 of the name ("~" is otherwise escaped).
 */
export function encodeGroupName(group: string): string {
  if (typeof group !== 'string' || group.length === 0) throw new StorageError('invalid_write', 'a group name must be a non-empty string');
  let out = 'g_';
  for (const b of Buffer.from(group, 'utf8')) {
    const keep = (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x5f || b === 0x2d;
    out += keep ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  if (out.length > 200) {
    out = out.slice(0, 120).replace(/%[0-9A-F]?$/, '') + '~' + createHash('sha256').update(group, 'utf8').digest('hex').slice(0, 40);
  }
  return out;
}

async function crcSliced(data: Uint8Array): Promise<number> {
  let c = 0;
  for (let off = 0; off < data.byteLength; off += SLICE) {
    c = crc32(data.subarray(off, Math.min(data.byteLength, off + SLICE)), c);
    if (off + SLICE < data.byteLength) await new Promise<void>((r) => setImmediate(r));
  }
  return c;
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some platforms can't fsync a directory (EISDIR/EPERM/EINVAL); the rename is still atomic.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw e;
  } finally {
    await fh?.close();
  }
}

async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < buf.byteLength) {
    const { bytesWritten } = await fh.write(buf, off, buf.byteLength - off, position + off);
    if (bytesWritten <= 0) throw new Error('short write');
    off += bytesWritten;
  }
}

export class SnapshotStore {
  readonly root: string;
  /** Temp files of saves in progress here: prune() leaves them alone. */
  private readonly writing = new Set<string>();

  constructor(readonly dataDir: string) {
    if (typeof dataDir !== 'string' || dataDir.length === 0) throw new StorageError('storage_failed', 'SnapshotStore needs a data dir');
    this.root = join(dataDir, 'snapshots');
  }

  dirOf(group: string): string {
    return join(this.root, encodeGroupName(group));
  }

  fileOf(group: string, index: number, term: number): string {
    return join(this.dirOf(group), `${index}-${term}.snap`);
  }

  /** Durably stores a snapshot; resolves once the file and its directory entry are on disk. */
  async save(group: string, metadata: SnapshotMetadata, data: Uint8Array): Promise<void> {
    if (!(data instanceof Uint8Array)) throw new StorageError('invalid_write', `snapshot of group "${group}": data must be a Uint8Array`);
    const fields = this.headerFields(group, metadata);
    const head = encodeHeader(fields, data.byteLength, await crcSliced(data));
    const { index, term } = metadata;
    const { dir, tmp, final } = await this.prepareWrite(group, index, term);
    this.writing.add(tmp);
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await writeAll(fh, head, 0);
        await writeAll(fh, data, head.length);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, final);
      await fsyncDir(dir);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new StorageError('storage_failed', `cannot save snapshot ${index}-${term} of group "${group}" to ${final}: ${(e as Error).message}`);
    } finally {
      this.writing.delete(tmp);
    }
  }

  /** As save(), from pieces: the data is never held whole. Resolves with the bytes written. */
  async saveStream(group: string, metadata: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const w = await this.writer(group, metadata, undefined);
    try {
      for await (const c of chunks) await w.write(c);
    } catch (e) {
      await w.abort();
      throw e;
    }
    await w.commit();
    return w.bytes;
  }

  /** A snapshot arriving from a peer, written to a temp file as it comes; commit() makes it the stored one. */
  receive(group: string, metadata: SnapshotMetadata, length: number): Promise<SnapshotSink> {
    if (!Number.isSafeInteger(length) || length < 0) throw new StorageError('invalid_write', `snapshot length ${length} is not valid`);
    return this.writer(group, metadata, length);
  }

  private async writer(group: string, metadata: SnapshotMetadata, expectedLength: number | undefined): Promise<StreamedSnapshotWriter> {
    const fields = this.headerFields(group, metadata);
    const { dir, tmp, final } = await this.prepareWrite(group, metadata.index, metadata.term);
    this.writing.add(tmp);
    try {
      return await StreamedSnapshotWriter.create({
        fields,
        tmp,
        final,
        ...(expectedLength === undefined ? {} : { expectedLength }),
        afterRename: () => fsyncDir(dir),
        onSettled: () => this.writing.delete(tmp),
      });
    } catch (e) {
      this.writing.delete(tmp);
      throw new StorageError('storage_failed', `cannot create snapshot file ${tmp}: ${(e as Error).message}`);
    }
  }

  /** Checks the metadata; the header's fields other than the data's length and CRC. */
  private headerFields(group: string, metadata: SnapshotMetadata): Record<string, unknown> {
    const { index, term } = metadata ?? ({} as SnapshotMetadata);
    if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(term) || term < 0) {
      throw new StorageError('invalid_write', `snapshot of group "${group}": index and term must be non-negative integers`);
    }
    checkConfState(`snapshot of group "${group}"`, metadata.confState);
    return { v: 1, group, index, term, confState: cloneConfState(metadata.confState) };
  }

  /** Makes the group's directory (durably) and names a temp file and the final file. */
  private async prepareWrite(group: string, index: number, term: number): Promise<{ dir: string; tmp: string; final: string }> {
    const dir = this.dirOf(group);
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) {
      // New directories must be durable too: fsync each parent that gained an entry.
      for (let d = dir; d.length >= created.length; d = dirname(d)) await fsyncDir(dirname(d));
    }
    const tmp = join(dir, `${TMP_PREFIX}${index}-${term}-${process.pid}-${randomBytes(4).toString('hex')}.snap`);
    return { dir, tmp, final: this.fileOf(group, index, term) };
  }

  /** The snapshot's data for reading in pieces (its header checked; the data's CRC as it is read). */
  async open(group: string, index: number, term: number): Promise<SnapshotReader> {
    const file = this.fileOf(group, index, term);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SnapshotNotFoundError(group, index, term);
      throw new StorageError('storage_failed', `cannot read snapshot ${file}: ${(e as Error).message}`);
    }
    try {
      const { header: h, dataStart } = await this.readHeader(fh, file, group, index);
      if (h.group !== group || h.index !== index || h.term !== term) {
        throw new CorruptLogError(file, group, index, `the snapshot file holds ${h.index}-${h.term} of group "${h.group}"`);
      }
      const { size } = await fh.stat();
      if (size - dataStart !== h.dataLength) throw new CorruptLogError(file, group, index, `snapshot data is ${size - dataStart} bytes, the header says ${h.dataLength}`);
      return new SnapshotFileReader(fh, file, group, index, dataStart, h.dataLength, h.dataCrc);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  private async readHeader(fh: FileHandle, file: string, group: string, index: number): Promise<{ header: Header; dataStart: number }> {
    const fixed = Buffer.alloc(FIXED);
    await fh.read(fixed, 0, FIXED, 0);
    const len = fixed.readUInt32LE(8);
    if (len > MAX_HEADER) throw new CorruptLogError(file, group, index, `snapshot header length ${len} is implausible`);
    const buf = Buffer.alloc(FIXED + len);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return { header: this.parseHeader(file, group, index, buf.subarray(0, bytesRead)), dataStart: FIXED + len };
  }

  /** The snapshot's data, checksum verified. SnapshotNotFoundError if absent, CorruptLogError if bad. */
  async load(group: string, index: number, term: number): Promise<Uint8Array> {
    return (await this.read(group, index, term)).data;
  }

  /** The snapshot with the metadata recorded in its header, checksum verified. */
  async read(group: string, index: number, term: number): Promise<Snapshot> {
    const file = this.fileOf(group, index, term);
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SnapshotNotFoundError(group, index, term);
      throw new StorageError('storage_failed', `cannot read snapshot ${file}: ${(e as Error).message}`);
    }
    const h = this.parseHeader(file, group, index, buf);
    const data = buf.subarray(FIXED + buf.readUInt32LE(8));
    if (data.byteLength !== h.dataLength) throw new CorruptLogError(file, group, index, `snapshot data is ${data.byteLength} bytes, the header says ${h.dataLength}`);
    if ((await crcSliced(data)) !== h.dataCrc) throw new CorruptLogError(file, group, index, 'snapshot data failed its checksum');
    if (h.group !== group || h.index !== index || h.term !== term) {
      throw new CorruptLogError(file, group, index, `the snapshot file holds ${h.index}-${h.term} of group "${h.group}"`);
    }
    return { metadata: { index: h.index, term: h.term, confState: h.confState }, data };
  }

  /** The newest snapshot's metadata (from its header; the data is checked by load()), if any. */
  async latest(group: string): Promise<SnapshotMetadata | undefined> {
    const list = await this.list(group);
    const top = list[list.length - 1];
    if (!top) return undefined;
    const file = this.fileOf(group, top.index, top.term);
    const fh = await open(file, 'r');
    try {
      const { header: h } = await this.readHeader(fh, file, group, top.index);
      if (h.group !== group || h.index !== top.index || h.term !== top.term) {
        throw new CorruptLogError(file, group, top.index, `the snapshot file holds ${h.index}-${h.term} of group "${h.group}"`);
      }
      return { index: h.index, term: h.term, confState: h.confState };
    } finally {
      await fh.close();
    }
  }

  /** The snapshots on disk for a group, oldest first. */
  async list(group: string): Promise<{ index: number; term: number }[]> {
    let names: string[];
    try {
      names = await readdir(this.dirOf(group));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: { index: number; term: number }[] = [];
    for (const n of names) {
      const m = NAME.exec(n);
      if (m) out.push({ index: Number(m[1]), term: Number(m[2]) });
    }
    return out.sort((a, b) => a.index - b.index || a.term - b.term);
  }

  /** Deletes snapshots below keepIndex and abandoned temp files; returns how many files went. */
  async prune(group: string, keepIndex: number): Promise<number> {
    const dir = this.dirOf(group);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    let removed = 0;
    for (const n of names) {
      const m = NAME.exec(n);
      const stale = m ? Number(m[1]) < keepIndex : n.startsWith(TMP_PREFIX) && !this.writing.has(join(dir, n));
      if (!stale) continue;
      try {
        await unlink(join(dir, n));
        removed++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    if (removed > 0) await fsyncDir(dir);
    return removed;
  }

  /** Deletes one snapshot file, if it is there (a reader that has it open may finish). */
  async delete(group: string, index: number, term: number): Promise<void> {
    try {
      await unlink(this.fileOf(group, index, term));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new StorageError('storage_failed', `cannot delete snapshot ${index}-${term} of group "${group}": ${(e as Error).message}`);
    }
    await fsyncDir(this.dirOf(group));
  }

  /** Deletes every snapshot of a group (when the group is removed from this host). */
  async remove(group: string): Promise<void> {
    await rm(this.dirOf(group), { recursive: true, force: true });
    await fsyncDir(this.root).catch(() => undefined);
  }

  private parseHeader(file: string, group: string, index: number, buf: Buffer): Header {
    if (buf.length < FIXED || !buf.subarray(0, 8).equals(MAGIC)) throw new CorruptLogError(file, group, index, 'not a raftkit snapshot file (bad magic)');
    const len = buf.readUInt32LE(8);
    if (len > MAX_HEADER || FIXED + len > buf.length) throw new CorruptLogError(file, group, index, 'the snapshot header is truncated');
    const json = buf.subarray(FIXED, FIXED + len);
    if (crc32(json) !== buf.readUInt32LE(12)) throw new CorruptLogError(file, group, index, 'the snapshot header failed its checksum');
    let h: Header;
    try {
      h = JSON.parse(json.toString('utf8')) as Header;
      checkConfState('snapshot header', h.confState);
    } catch {
      throw new CorruptLogError(file, group, index, 'the snapshot header is not valid');
    }
    if (
      h.v !== 1 ||
      typeof h.group !== 'string' ||
      !Number.isSafeInteger(h.index) ||
      !Number.isSafeInteger(h.term) ||
      !Number.isSafeInteger(h.dataLength) ||
      !Number.isSafeInteger(h.dataCrc)
    ) {
      throw new CorruptLogError(file, group, index, 'the snapshot header is not valid');
    }
    return h;
  }
}
