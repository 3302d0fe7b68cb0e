import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { NodeId } from '../core/types.js';
import { parseNodeId } from '../core/node-id.js';

/**
 * Where each node listens ("host:port"), for the transport and for leader URLs. Founding peers
 * come from --peers; members added later carry their address in the membership change. Kept in
 * `<dataDir>/peers.json` (written atomically) so a restart knows members whose change was
 * compacted into a snapshot.
 */
export class AddressBook {
  private readonly addresses = new Map<NodeId, string>();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string | undefined) {}

  static inDataDir(dataDir: string): AddressBook {
    return new AddressBook(join(dataDir, 'peers.json'));
  }

  async load(): Promise<void> {
    if (!this.file) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${this.file} is not valid JSON; fix or delete it (it is rebuilt from --peers and membership changes)`);
    }
    if (!parsed || typeof parsed !== 'object') throw new Error(`${this.file} must hold an object of id -> "host:port"`);
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      const id = parseNodeId(k);
      if (id !== undefined && typeof v === 'string') this.addresses.set(id, v);
    }
  }

  get(id: NodeId): string | undefined {
    return this.addresses.get(id);
  }

  entries(): [NodeId, string][] {
    return [...this.addresses.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Records an address; persists when it changed. */
  set(id: NodeId, address: string): Promise<void> {
    if (this.addresses.get(id) === address) return this.writing;
    this.addresses.set(id, address);
    return this.persist();
  }

  private persist(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const body = JSON.stringify(Object.fromEntries(this.entries()), null, 2);
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    });
    return this.writing;
  }
}
