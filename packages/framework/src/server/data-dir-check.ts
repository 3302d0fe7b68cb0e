// A data dir whose log database was emptied or removed must not start as a brand-new node: with
// --peers it would found its groups again and silently drop everything it had acknowledged.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ServerStartError } from './server-error.js';

/** SQLite's smallest page: a database file shorter than this holds no schema, let alone a log. */
const MIN_DATABASE_BYTES = 512;

function hasFiles(dir: string): boolean {
  try {
    return readdirSync(dir).some((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? hasFiles(p) : true;
    });
  } catch {
    return false;
  }
}

/** Throws ServerStartError when `raft.db` is truncated below one page, or missing next to snapshots of an earlier run. */
export function refuseLostLog(dataDir: string): void {
  const db = join(dataDir, 'raft.db');
  let size: number | undefined;
  try {
    size = statSync(db).size;
  } catch {
    size = undefined;
  }
  if (size !== undefined && size < MIN_DATABASE_BYTES) {
    throw new ServerStartError(`${db} is empty or truncated (${size} bytes): restore it from a backup, or remove the data dir to start this node anew (it then rejoins empty)`);
  }
  if (size === undefined && hasFiles(join(dataDir, 'snapshots'))) {
    throw new ServerStartError(
      `${db} is missing but ${join(dataDir, 'snapshots')} holds snapshots of an earlier run: restore raft.db, or remove the data dir to start this node anew`,
    );
  }
}
