import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { SnapshotMetadata } from '../core/types.js';
import type { SnapshotReader, SnapshotSink } from '../storage/snapshot-stream.js';

export type { SnapshotReader, SnapshotSink } from '../storage/snapshot-stream.js';

/**
 * Where the host keeps snapshot data: on disk in production (storage/snapshot-store.ts), in
 * memory in tests. The log database records only snapshot metadata.
 */
export interface SnapshotFiles {
  /** Durably stores a snapshot's data (atomic: a crash leaves the old one or the new one). */
  save(group: string, metadata: SnapshotMetadata, data: Uint8Array): Promise<void>;
  /** As save(), from pieces produced one after the other; resolves with the bytes written. */
  saveStream(group: string, metadata: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<number>;
  /** A snapshot received from a peer, `length` bytes, written as it arrives. */
  receive(group: string, metadata: SnapshotMetadata, length: number): Promise<SnapshotSink>;
  load(group: string, index: number, term: number): Promise<Uint8Array>;
  open(group: string, index: number, term: number): Promise<SnapshotReader>;
  /** Deletes the group's snapshots older than `keepIndex` (and abandoned temp files); resolves with how many. */
  prune(group: string, keepIndex: number): Promise<number>;
  /**
   * Optional: deletes one snapshot (nothing if it is not there); a reader already open on it may
   * finish. Used for a full snapshot made for followers once it is no longer wanted; without it,
   * that file stays until prune() passes it.
   */
  delete?(group: string, index: number, term: number): Promise<void>;
  /** Deletes every snapshot of the group. */
  remove(group: string): Promise<void>;
}

/** A reader over bytes already in memory (tests, and snapshots that arrived in memory). */
export function memoryReader(data: Uint8Array): SnapshotReader {
  return {
    length: data.length,
    read: async (offset, length) => data.subarray(offset, Math.min(data.length, offset + length)),
    copyTo: async (file, from) => {
      const out = createWriteStream(file, { flags: 'wx' });
      const done = once(out, 'finish');
      out.end(data.subarray(from));
      await done;
    },
    close: async () => undefined,
  };
}

export class MemorySnapshotFiles implements SnapshotFiles {
  private readonly files = new Map<string, Uint8Array>();

  async save(group: string, metadata: SnapshotMetadata, data: Uint8Array): Promise<void> {
    this.files.set(`${group}/${metadata.index}/${metadata.term}`, data.slice());
  }

  async saveStream(group: string, metadata: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c.slice());
    const data = Buffer.concat(parts);
    await this.save(group, metadata, data);
    return data.length;
  }

  async receive(group: string, metadata: SnapshotMetadata, length: number): Promise<SnapshotSink> {
    const parts: Uint8Array[] = [];
    return {
      write: async (c) => void parts.push(c.slice()),
      commit: async () => {
        const data = Buffer.concat(parts);
        if (data.length !== length) throw new Error(`snapshot of ${data.length} bytes, ${length} announced`);
        await this.save(group, metadata, data);
      },
      abort: async () => undefined,
    };
  }

  async load(group: string, index: number, term: number): Promise<Uint8Array> {
    const d = this.files.get(`${group}/${index}/${term}`);
    if (!d) throw new Error(`no snapshot ${index}-${term} of group "${group}"`);
    return d;
  }

  async open(group: string, index: number, term: number): Promise<SnapshotReader> {
    return memoryReader(await this.load(group, index, term));
  }

  async prune(group: string, keepIndex: number): Promise<number> {
    let removed = 0;
    for (const key of [...this.files.keys()]) {
      const [g, index] = key.split('/');
      if (g === group && Number(index) < keepIndex && this.files.delete(key)) removed++;
    }
    return removed;
  }

  async delete(group: string, index: number, term: number): Promise<void> {
    this.files.delete(`${group}/${index}/${term}`);
  }

  async remove(group: string): Promise<void> {
    await this.prune(group, Infinity);
  }
}
