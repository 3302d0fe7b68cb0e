// Decides, before a statement reaches the log, whether it reads or writes, and refuses what the
// replicated store cannot run the same way on every node or what would reach outside the state
// machine. The classification agrees with SQLite's sqlite3_stmt_readonly (better-sqlite3's
// `statement.readonly`), which the machine checks again when it applies the statement.
import { SqlRefusedError, SqlSyntaxError } from './errors.js';
import { functionCalls } from './function-calls.js';
import { judgePragma } from './pragma-policy.js';
import { isReadVerb, isWriteVerb, shapeOf, type StatementShape } from './statement-shape.js';
import { splitTokens, type SplitStatement } from './statement-splitter.js';
import { timeSources, timeZoneModifiers } from './time-sources.js';
import { isOperator, isSignificant, isWord, tokenize, type Token } from './tokenizer.js';

export interface StatementAnalysis {
  kind: 'read' | 'write';
  /** 'SELECT', 'INSERT', 'CREATE TABLE', 'PRAGMA table_info', ... */
  verb: string;
  /** EXPLAIN [QUERY PLAN]: compiled, not run; `kind` is that of the explained statement, as SQLite reports it. */
  explain: boolean;
  /** It reads the clock in a way makeDeterministic replaces by the entry's time. */
  readsClock: boolean;
}

export interface StatementRefusal {
  refused: string;
}

export type AnalysisResult = StatementAnalysis | StatementRefusal;

export function isRefusal(a: AnalysisResult): a is StatementRefusal {
  return 'refused' in a;
}

const TRANSACTION_CONTROL = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE']);

/** Functions that pull state from outside the database into the statement. */
const REFUSED_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['load_extension', "load_extension() loads native code from the node's file system, outside the replicated state"],
  ['total_changes', 'total_changes() counts since this node opened its database, so it differs between a node that replayed the log and one that restored a snapshot'],
]);

/** Functions SQLite itself forbids where an expression is stored and re-evaluated; our seeded overrides must not widen that. */
const NON_DETERMINISTIC = new Set(['random', 'randomblob', 'date', 'time', 'datetime', 'julianday', 'unixepoch', 'strftime', 'timediff']);
const CURRENT_KEYWORDS = new Set(['CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME']);

function refusedByVerb(body: readonly Token[]): string | undefined {
  const first = body[0]!;
  if (first.kind !== 'word') return `a statement cannot start with "${first.text}"`;
  if (TRANSACTION_CONTROL.has(first.value)) {
    return `${first.value} is not accepted: the store applies each request as it stands; send the statements of a transaction in one request with transaction=true`;
  }
  if (first.value === 'ATTACH' || first.value === 'DETACH') return `${first.value} is not accepted: another database file is outside the replicated state`;
  if (first.value === 'VACUUM') return 'VACUUM is not accepted: it rewrites the database file (or, with INTO, writes a file on the node) outside the log';
  return undefined;
}

/** CREATE TEMP ... or CREATE ... temp.name: objects of this connection only, missing from snapshots. */
function createsTemporaryObject(shape: StatementShape): boolean {
  const body = shape.body;
  if (!isWord(body[0], 'CREATE')) return false;
  if (isWord(body[1], 'TEMP', 'TEMPORARY')) return true;
  const dot = body.findIndex((t) => isOperator(t, '.'));
  const schema = body[dot - 1];
  return dot > 0 && schema !== undefined && (schema.kind === 'word' || schema.kind === 'quoted-identifier') && schema.value.toLowerCase() === 'temp';
}

/** The token ranges SQLite re-evaluates and requires to be deterministic: CHECK (...), generated AS (...), and a whole CREATE INDEX. */
function deterministicRegions(shape: StatementShape): Token[][] {
  const body = shape.body;
  if (shape.verb === 'CREATE INDEX') return [body];
  if (shape.verb !== 'CREATE TABLE' && shape.verb !== 'ALTER TABLE') return [];
  const regions: Token[][] = [];
  body.forEach((t, i) => {
    if (!(isWord(t, 'CHECK') || isWord(t, 'AS')) || !isOperator(body[i + 1], '(')) return;
    let depth = 0;
    let end = i + 1;
    for (; end < body.length; end++) {
      if (isOperator(body[end], '(')) depth++;
      else if (isOperator(body[end], ')') && --depth === 0) break;
    }
    regions.push(body.slice(i + 1, end + 1));
  });
  return regions;
}

function nonDeterministicIn(region: readonly Token[]): string | undefined {
  const call = functionCalls(region).find((c) => NON_DETERMINISTIC.has(c.name));
  if (call) return `${call.name}()`;
  return region.find((t) => t.kind === 'word' && CURRENT_KEYWORDS.has(t.value))?.value;
}

/** Names the store keeps for itself inside the database (the applied index): a statement may not name them. */
const RESERVED_PREFIX = '_raftkit_';
/** Words after which SQLite takes a string literal for a table name ('x' as an identifier). */
const TABLE_NAME_BEFORE = new Set(['FROM', 'INTO', 'TABLE', 'UPDATE', 'JOIN', 'ON', 'EXISTS', 'INDEX', 'VIEW', 'TRIGGER']);

function namesReservedObject(body: readonly Token[]): string | undefined {
  for (let i = 0; i < body.length; i++) {
    const t = body[i]!;
    const named =
      t.kind === 'word' ||
      t.kind === 'quoted-identifier' ||
      (t.kind === 'string' && ((body[i - 1]?.kind === 'word' && TABLE_NAME_BEFORE.has(body[i - 1]!.value)) || isOperator(body[i + 1], '.')));
    if (named && t.value.toLowerCase().startsWith(RESERVED_PREFIX)) return t.kind === 'word' ? t.text : t.value;
  }
  return undefined;
}

/** Refusals that depend on what the statement contains rather than on its verb. */
function refusedByContent(shape: StatementShape, kind: 'read' | 'write'): string | undefined {
  if (createsTemporaryObject(shape)) return "temporary tables, views and triggers are not accepted: they belong to one node's connection and are missing from snapshots";
  const reserved = namesReservedObject(shape.body);
  if (reserved) return `${reserved}: names starting with ${RESERVED_PREFIX} belong to the store itself (it records the applied log index there)`;
  for (const call of functionCalls(shape.body)) {
    const reason = REFUSED_FUNCTIONS.get(call.name);
    if (reason && (call.name === 'load_extension' || kind === 'write')) return reason;
  }
  if (kind === 'write' || shape.storesExpressions) {
    const tz = timeZoneModifiers(shape.body)[0];
    if (tz) return `the '${tz.modifier}' modifier of ${tz.fn}() depends on each node's time zone; store UTC and convert when reading`;
  }
  if (shape.storesExpressions) {
    for (const region of deterministicRegions(shape)) {
      const culprit = nonDeterministicIn(region);
      if (culprit) return `${culprit} is not accepted in a CHECK constraint, a generated column or an index: their values must not change once stored`;
    }
    const now = timeSources(shape.body).find((s) => s.kind !== 'keyword');
    if (now) {
      return `${now.fn}('now') in ${shape.verb} would be evaluated later, on each node's own clock; use CURRENT_TIMESTAMP, CURRENT_DATE or CURRENT_TIME, which the store evaluates from the time of the log entry being applied`;
    }
  }
  return undefined;
}

function classify(shape: StatementShape): AnalysisResult {
  const body = shape.body;
  if (body.length === 0) return { refused: 'EXPLAIN needs a statement' };
  const byVerb = refusedByVerb(body);
  if (byVerb) return { refused: byVerb };
  let kind: 'read' | 'write';
  let verb = shape.verb;
  if (isWord(body[0], 'PRAGMA')) {
    const verdict = judgePragma(body.slice(1));
    if ('refused' in verdict) return verdict;
    kind = verdict.kind;
    verb = `PRAGMA ${verdict.name}`;
  } else if (isReadVerb(verb)) kind = 'read';
  else if (isWriteVerb(verb)) kind = 'write';
  else return { refused: `"${body[0]!.text}" does not start a statement the store knows` };
  const byContent = refusedByContent(shape, kind);
  if (byContent) return { refused: byContent };
  return { kind, verb, explain: shape.explain, readsClock: !shape.storesExpressions && timeSources(body).length > 0 };
}

/** Analyzes one statement given its tokens (whitespace and comments may be included). */
export function analyzeTokens(tokens: readonly Token[]): AnalysisResult {
  const significant = tokens.filter(isSignificant);
  if (significant.length === 0) return { refused: 'there is no statement' };
  return classify(shapeOf(significant));
}

/** Analyzes a text that must hold exactly one statement (a trailing semicolon is fine). */
export function analyzeStatement(sql: string): AnalysisResult {
  let statements: SplitStatement[];
  try {
    statements = splitTokens(sql, tokenize(sql));
  } catch (e) {
    if (e instanceof SqlSyntaxError) return { refused: e.message };
    throw e;
  }
  if (statements.length === 0) return { refused: 'there is no statement' };
  if (statements.length > 1) return { refused: `the text holds ${statements.length} statements where one is expected` };
  return analyzeTokens(statements[0]!.tokens);
}

export interface AnalyzedStatement extends SplitStatement {
  analysis: StatementAnalysis;
}

export interface AcceptOptions {
  /** A query (rqlite's /db/query): every statement must be a read. */
  readOnly: boolean;
  /** The element carries parameters: they can bind to one statement only. */
  hasParameters: boolean;
}

/** What the store answers, like rqlite, for a write sent as a query. */
export const WRITE_IN_QUERY = 'attempt to change database via query operation';

/**
 * The statements of one request element, analyzed; throws SqlRefusedError naming the first
 * statement that cannot go to the log (SqlSyntaxError for text SQLite cannot tokenize). Several
 * statements in one element run in order as one unit, and the element's result is its last
 * statement's (what rqlite's SQLite driver does).
 */
export function acceptStatements(sql: string, o: AcceptOptions): AnalyzedStatement[] {
  const statements = splitTokens(sql, tokenize(sql));
  if (statements.length === 0) throw new SqlRefusedError(sql, 'there is no statement');
  if (o.hasParameters && statements.length > 1) {
    throw new SqlRefusedError(sql, `parameters bind to one statement and this text holds ${statements.length}; send each statement as its own element`);
  }
  return statements.map((s) => {
    const analysis = analyzeTokens(s.tokens);
    if (isRefusal(analysis)) throw new SqlRefusedError(s.sql, analysis.refused);
    if (o.readOnly && analysis.kind === 'write') throw new SqlRefusedError(s.sql, WRITE_IN_QUERY);
    return { ...s, analysis };
  });
}
