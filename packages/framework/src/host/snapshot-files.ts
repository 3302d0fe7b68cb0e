import type { SnapshotMetadata } from '../core/types.js';

/**
 * Where the host keeps snapshot data: on disk in production (storage/snapshot-store.ts), in
 * memory in tests. The log database records only snapshot metadata.
 */
export interface SnapshotFiles {
  /** Durably stores a snapshot's data (atomic: a crash leaves the old one or the new one). */
  save(group: string, metadata: SnapshotMetadata, data: Uint8Array): Promise<void>;
  load(group: string, index: number, term: number): Promise<Uint8Array>;
}

export class MemorySnapshotFiles implements SnapshotFiles {
  private readonly files = new Map<string, Uint8Array>();

  async save(group: string, metadata: SnapshotMetadata, data: Uint8Array): Promise<void> {
    this.files.set(`${group}/${metadata.index}/${metadata.term}`, data.slice());
  }

  async load(group: string, index: number, term: number): Promise<Uint8Array> {
    const d = this.files.get(`${group}/${index}/${term}`);
    if (!d) throw new Error(`no snapshot ${index}-${term} of group "${group}"`);
    return d;
  }
}
