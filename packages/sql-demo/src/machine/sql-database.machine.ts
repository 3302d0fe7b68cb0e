// The SQL store's state machine: one SQLite database per group. Commands are statements that
// every node applies in log order; queries read the local copy.
import Database from 'better-sqlite3';
import { Command, Query, Restore, Snapshot, StateMachine, type CommandContext } from '@raftkit/framework';
import { SqlRequest } from './sql-request.js';
import { runStatements, type StatementOutcome } from './statement-runner.js';

@StateMachine('sql')
export class SqlDatabase {
  private db = SqlDatabase.open();

  private static open(from?: Buffer): Database.Database {
    const db = from ? new Database(from) : new Database(':memory:');
    return db;
  }

  /** Writes (and reads) through the log, applied on every node; rqlite's /db/execute. */
  @Command({ args: SqlRequest })
  execute(a: SqlRequest, _ctx: CommandContext): StatementOutcome[] {
    return runStatements(this.db, a.statements, { transaction: a.transaction === true, readOnly: false });
  }

  /** Reads of this node's copy; a statement that would write fails. rqlite's /db/query. */
  @Query({ args: SqlRequest })
  query(a: SqlRequest): StatementOutcome[] {
    return runStatements(this.db, a.statements, { transaction: a.transaction === true, readOnly: true });
  }

  @Snapshot()
  save(): string {
    return this.db.serialize().toString('base64');
  }

  @Restore()
  load(state: string): void {
    const next = SqlDatabase.open(Buffer.from(state, 'base64'));
    this.db.close();
    this.db = next;
  }
}
