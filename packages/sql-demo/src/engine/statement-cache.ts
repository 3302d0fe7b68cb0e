// Prepared statements of one connection, kept by their SQL text: a request of the same INSERT
// repeated is compiled once. A statement that changes the schema empties the cache, so no
// statement compiled against the old schema (a SELECT * of a table that gained a column) is
// used again. Owned by SqlEngine, with the connection.
import type { Database, Statement } from 'better-sqlite3';

const CAPACITY = 256;

export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  prepare(sql: string): Statement {
    const cached = this.statements.get(sql);
    if (cached) {
      // Most recently used last: the first key is the one to evict.
      this.statements.delete(sql);
      this.statements.set(sql, cached);
      return cached;
    }
    const stmt = this.db.prepare(sql);
    if (this.statements.size >= CAPACITY) this.statements.delete(this.statements.keys().next().value!);
    this.statements.set(sql, stmt);
    return stmt;
  }

  clear(): void {
    this.statements.clear();
  }
}
