// The tables of one metadata store (one SQLite file per group). `kv` is the live keyspace, for
// reads at the current revision; `history` is every change since the last compaction, for reads
// at a past revision and for watches; both change in the same transaction as the entry that
// made the change, together with the entry's index in `state`.
import type Database from 'better-sqlite3';

export const DATABASE_FILE = 'meta.db';

/** The rows of `state`: the store's counters, kept with the data they count. */
export const STATE_KEYS = ['applied_index', 'revision', 'compact_revision', 'size_bytes', 'cluster_id'] as const;
export type StateKey = (typeof STATE_KEYS)[number];

export function createSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    INSERT OR IGNORE INTO state VALUES ('applied_index', 0), ('revision', 1), ('compact_revision', 0), ('size_bytes', 0), ('cluster_id', 0);

    CREATE TABLE IF NOT EXISTS kv (
      key BLOB PRIMARY KEY,
      create_rev INTEGER NOT NULL,
      mod_rev INTEGER NOT NULL,
      version INTEGER NOT NULL,
      value BLOB NOT NULL,
      lease INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS kv_by_lease ON kv (lease) WHERE lease != 0;

    -- One row per change: a put (tomb = 0) with the key's state after it, or a delete (tomb = 1).
    -- (rev, sub) orders the changes of a revision; a key changes at most once per revision.
    CREATE TABLE IF NOT EXISTS history (
      rev INTEGER NOT NULL,
      sub INTEGER NOT NULL,
      key BLOB NOT NULL,
      tomb INTEGER NOT NULL,
      create_rev INTEGER NOT NULL,
      version INTEGER NOT NULL,
      value BLOB NOT NULL,
      lease INTEGER NOT NULL,
      PRIMARY KEY (rev, sub)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS history_by_key ON history (key, rev);

    -- renewed_at and expires_at are entry timestamps (the leader's clock, carried in the log).
    CREATE TABLE IF NOT EXISTS leases (
      id INTEGER PRIMARY KEY,
      ttl INTEGER NOT NULL,
      renewed_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS leases_by_expiry ON leases (expires_at);

    -- member_id as decimal text: etcd's member ids are uint64, wider than SQLite's INTEGER.
    CREATE TABLE IF NOT EXISTS alarms (member_id TEXT NOT NULL, alarm TEXT NOT NULL, PRIMARY KEY (member_id, alarm)) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS members (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      peer_urls TEXT NOT NULL,
      client_urls TEXT NOT NULL,
      http_urls TEXT NOT NULL
    );
  `);
}
