// The SQL store's state machine: one SQLite database in the group's folder of the node's data
// dir, kept on disk by the machine itself (storage: 'disk'). Commands are requests of statements
// that every node applies in log order, each entry in one SQLite transaction together with its
// index; queries read this node's copy. Written with raftkit's public decorators only.
import { Command, Query, StateMachine, type CommandContext, type OnDiskStateMachine } from '@raftkit/framework';
import type { DatabaseChecksum } from '../engine/checksum.js';
import { SqlEngine, type EngineInfo, type LoadResult, type PinnedState, type ProbeVerdict, type SqlEngineOptions } from '../engine/sql-engine.js';
import type { StatementResult } from '../engine/statement-result.js';
import type { SchemaObject } from '../engine/store-tables.js';
import { checkedStatementsOf, DUMP_LIMITS, ExecuteArgs, LoadArgs, ProbeArgs, QueryArgs, RequestArgs } from './sql-request.js';
import { planChecked } from './statement-plan.js';

export type SqlDatabaseOptions = SqlEngineOptions;

@StateMachine('sql', { storage: 'disk' })
export class SqlDatabase implements OnDiskStateMachine {
  private readonly engine: SqlEngine;

  constructor(options: SqlDatabaseOptions = {}) {
    this.engine = new SqlEngine(options);
  }

  /** Whether db_timeout really interrupts statements on this node (the interrupt extension is built). */
  get interruptible(): boolean {
    return this.engine.interruptible;
  }

  // ---------------------------------------------------------------- commands

  /** Writes (rqlite's /db/execute): a result or an error per statement; a RETURNING answers rows. */
  @Command({ args: ExecuteArgs })
  execute(a: ExecuteArgs, ctx: CommandContext): StatementResult[] {
    const statements = planChecked(checkedStatementsOf(a), { timestampMs: ctx.timestamp });
    return this.engine.apply(stampOf(ctx), statements, { transaction: a.transaction === true, mode: 'execute', timings: a.timings === true });
  }

  /** Reads and writes through the log (rqlite's /db/request, and reads at level=strong). */
  @Command({ args: RequestArgs })
  request(a: RequestArgs, ctx: CommandContext): StatementResult[] {
    const statements = planChecked(checkedStatementsOf(a), { timestampMs: ctx.timestamp });
    // readOnly: reads through the log; a write among them is refused in its place, as /db/query does.
    const mode = a.readOnly === true ? 'query' : 'request';
    return this.engine.apply(stampOf(ctx), statements, { transaction: a.transaction === true, mode, timings: a.timings === true });
  }

  /** Replaces the whole database by a dump's statements (rqlite's /db/load), all or nothing. */
  @Command({ args: LoadArgs })
  load(a: LoadArgs, ctx: CommandContext): LoadResult {
    const statements = planChecked(checkedStatementsOf(a, DUMP_LIMITS), { timestampMs: ctx.timestamp });
    return this.engine.load(stampOf(ctx), statements);
  }

  // ---------------------------------------------------------------- queries

  /** Reads of this node's copy (rqlite's /db/query); a write is refused in its place and changes nothing. */
  @Query({ args: QueryArgs })
  query(a: QueryArgs): StatementResult[] {
    const o = a.dbTimeoutMs === undefined ? { timings: a.timings === true } : { timings: a.timings === true, dbTimeoutMs: a.dbTimeoutMs };
    return this.engine.read(planChecked(checkedStatementsOf(a)), o);
  }

  /** A dry run of a write request, rolled back: whether it finishes within db_timeout (asked on the leader before proposing). */
  @Query({ args: ProbeArgs })
  probe(a: ProbeArgs): ProbeVerdict {
    const statements = planChecked(checkedStatementsOf(a), { timestampMs: Date.now() });
    return this.engine.probe(statements, { dbTimeoutMs: a.dbTimeoutMs, transaction: a.transaction === true, mode: a.mode });
  }

  /** A digest of the schema and every table's rows: equal on two nodes exactly when their databases are. */
  @Query()
  checksum(): DatabaseChecksum {
    return this.engine.checksum();
  }

  /** The user's tables, indexes, views and triggers with their SQL. */
  @Query()
  schema(): SchemaObject[] {
    return this.engine.schema();
  }

  /** SQLite's version, the foreign-key setting and the applied index the database records. */
  @Query()
  info(): EngineInfo {
    return this.engine.info();
  }

  /**
   * A consistent copy of this node's database written to a new file that the caller owns
   * (/db/backup sends and deletes it). Not a query: a path on the node is no answer for a client.
   */
  backupToFile(format: 'binary' | 'sql', o: { tables?: readonly string[]; vacuum?: boolean } = {}): Promise<string> {
    return this.engine.backup(format, o);
  }

  // ---------------------------------------------------------------- on-disk state

  open(dir: string): number {
    return this.engine.open(dir);
  }

  /** Lets the framework compact the log with snapshots that hold no copy of the database. */
  sync(): void {
    this.engine.sync();
  }

  prepareSnapshot(): PinnedState {
    return this.engine.pin();
  }

  saveSnapshot(pinned: unknown, file: string): Promise<void> {
    return this.engine.savePinned(pinned as PinnedState, file);
  }

  releaseSnapshot(pinned: unknown): void {
    this.engine.release(pinned as PinnedState);
  }

  recoverFromSnapshot(file: string): Promise<void> {
    return this.engine.recover(file);
  }

  close(): void {
    this.engine.close();
  }
}

function stampOf(ctx: CommandContext): { index: number; term: number; timestampMs: number } {
  return { index: ctx.index, term: ctx.term, timestampMs: ctx.timestamp };
}
