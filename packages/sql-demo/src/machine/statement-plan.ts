// From a request's statements to what the engine runs: each element checked against the store's
// statement policy (acceptStatements: refused statements never reach the log), split into the
// statements its text holds, its parameters converted for binding, and, when it is applied from
// the log, its clock reads replaced by the entry's time (makeDeterministic).
import { acceptStatements, makeDeterministic } from '../sql/index.js';
import { hasParameters, normalizeStatements } from './sql-statement.js';
import { toSqlite, type SqliteValue } from './sql-value.js';

const SCHEMA_VERBS = /^(CREATE|DROP|ALTER)\b/;

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
}

export interface PlanOptions {
  /** The log entry's time: clock reads become this time (on apply, and for a dry run). */
  timestampMs?: number;
  /** Most statements taken (default MAX_STATEMENTS). */
  maxStatements?: number;
  /** An empty list is fine (a load of an empty database). */
  allowEmpty?: boolean;
}

/**
 * Throws StatementFormError (a malformed element), SqlRefusedError (a statement the store refuses)
 * or SqlSyntaxError (text SQLite cannot tokenize), each naming the statement.
 */
export function planStatements(elements: unknown, o: PlanOptions = {}): PlannedStatement[] {
  return normalizeStatements(elements, o.maxStatements, o.allowEmpty).map((s) => {
    const accepted = acceptStatements(s.sql, { readOnly: false, hasParameters: hasParameters(s) });
    const named: Record<string, SqliteValue> = {};
    for (const [k, v] of Object.entries(s.named)) Object.defineProperty(named, k, { value: toSqlite(v), enumerable: true, writable: true, configurable: true });
    const pieces = accepted.map((a) => (o.timestampMs === undefined || !a.analysis.readsClock ? a.sql : makeDeterministic(a.sql, { timestampMs: o.timestampMs })));
    const rewritten = pieces.some((p, i) => p !== accepted[i]!.sql);
    return {
      pieces,
      ...(rewritten ? { sentPieces: accepted.map((a, i) => (pieces[i] === a.sql ? undefined : a.sql)) } : {}),
      positional: s.positional.map(toSqlite),
      named,
      kind: accepted.some((a) => a.analysis.kind === 'write') ? 'write' : 'read',
      changesSchema: accepted.some((a) => SCHEMA_VERBS.test(a.analysis.verb)),
    };
  });
}

/** Why `elements` cannot be planned, or undefined when they can (for argument validation). */
export function statementsProblem(elements: unknown, o: Pick<PlanOptions, 'maxStatements' | 'allowEmpty'> = {}): string | undefined {
  try {
    planStatements(elements, o);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
