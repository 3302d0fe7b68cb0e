// Transaction-control statements (BEGIN, SAVEPOINT, ...) of one connection, compiled once: they
// frame every entry, and compiling them each time costs more than the insert they frame.
import type { Database, Statement } from 'better-sqlite3';

export class ControlStatements {
  private readonly compiled = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  run(sql: string): void {
    let stmt = this.compiled.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.compiled.set(sql, stmt);
    }
    stmt.run();
  }

  /** Undoes a savepoint's work, unless SQLite already rolled the whole transaction back. */
  rollbackTo(savepoint: string): void {
    if (!this.db.inTransaction) return;
    this.run(`ROLLBACK TO ${savepoint}`);
    this.run(`RELEASE ${savepoint}`);
  }
}
