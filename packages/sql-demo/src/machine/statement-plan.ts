// From a request's statements to what the engine runs: each element checked against the store's
// statement policy (refused statements never reach the log), split into the statements its text
// holds, its parameters converted for binding, and, when it is applied from the log, its clock
// reads replaced by the entry's time (makeDeterministic). Checking is split from planning so that
// what the proposer checked can be planned at apply without checking again (sql-request.ts).
import { makeDeterministic } from '../sql/index.js';
import { hasParameters, normalizeStatements, type NormalizedStatement } from './sql-statement.js';
import { toSqlite, type SqliteValue } from './sql-value.js';
import { analyzeText, type TextAnalysis } from './text-analysis.js';

export interface PlannedStatement {
  /** The element's statements, usually one; several run in order as one unit whose result is the last one's. */
  pieces: string[];
  /**
   * The client's text of each piece the clock rewrite changed (undefined where unchanged):
   * result columns are named from it, as SQLite names them for what the client sent
   * (`datetime('now')`, not the entry's time).
   */
  sentPieces?: (string | undefined)[];
  positional: SqliteValue[];
  named: Record<string, SqliteValue>;
  /** 'write' when any of its statements writes (by the statement policy's analysis). */
  kind: 'read' | 'write';
  /** It creates, drops or alters schema objects: statements prepared before it may be stale. */
  changesSchema: boolean;
  /** It may end SQLite's transaction early or defer a check to COMMIT: the engine gives its entry a transaction of its own. */
  transactionSensitive: boolean;
}

/** An element that passed the statement policy: its normalized form and its text's verdict. */
export interface CheckedStatement {
  statement: NormalizedStatement;
  analysis: TextAnalysis;
}

export interface CheckOptions {
  /** Most statements taken (default MAX_STATEMENTS). */
  maxStatements?: number;
  /** An empty list is fine (a load of an empty database). */
  allowEmpty?: boolean;
  /** False for texts that will not come again (a dump's): their verdicts are not kept. */
  remember?: boolean;
}

export interface PlanOptions extends CheckOptions {
  /** The log entry's time: clock reads become this time (on apply, and for a dry run). */
  timestampMs?: number;
}

/**
 * Throws StatementFormError (a malformed element), SqlRefusedError (a statement the store refuses)
 * or SqlSyntaxError (text SQLite cannot tokenize), each naming the statement.
 */
export function checkStatements(elements: unknown, o: CheckOptions = {}): CheckedStatement[] {
  return normalizeStatements(elements, o.maxStatements, o.allowEmpty).map((statement) => ({
    statement,
    analysis: analyzeText(statement.sql, hasParameters(statement), o.remember ?? true),
  }));
}

/** Checked elements as the engine runs them, with the clock reads at `timestampMs` when given. */
export function planChecked(checked: readonly CheckedStatement[], o: Pick<PlanOptions, 'timestampMs'> = {}): PlannedStatement[] {
  return checked.map(({ statement: s, analysis: a }) => {
    const named: Record<string, SqliteValue> = {};
    for (const k of Object.keys(s.named)) Object.defineProperty(named, k, { value: toSqlite(s.named[k]!), enumerable: true, writable: true, configurable: true });
    const pieces = a.pieces.map((p) => (o.timestampMs === undefined || !p.readsClock ? p.sql : makeDeterministic(p.sql, { timestampMs: o.timestampMs })));
    const rewritten = pieces.some((p, i) => p !== a.pieces[i]!.sql);
    return {
      pieces,
      ...(rewritten ? { sentPieces: a.pieces.map((p, i) => (pieces[i] === p.sql ? undefined : p.sql)) } : {}),
      positional: s.positional.map(toSqlite),
      named,
      kind: a.kind,
      changesSchema: a.changesSchema,
      transactionSensitive: a.transactionSensitive,
    };
  });
}

/** checkStatements, then planChecked. */
export function planStatements(elements: unknown, o: PlanOptions = {}): PlannedStatement[] {
  return planChecked(checkStatements(elements, o), o);
}

/** Why `elements` cannot be planned, or undefined when they can (for argument validation). */
export function statementsProblem(elements: unknown, o: CheckOptions = {}): string | undefined {
  try {
    checkStatements(elements, o);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
