// What kind of statement a token list is, from its leading keywords: enough to classify it, to
// pick the rules that apply to it and to know whether its expressions run now or are stored in
// the schema to run later.
import { isOperator, isWord, type Token } from './tokenizer.js';

export interface StatementShape {
  /** The statement's verb, upper-case: 'SELECT', 'INSERT', 'CREATE TABLE', 'PRAGMA', ... (a WITH statement's main verb). */
  verb: string;
  /** EXPLAIN or EXPLAIN QUERY PLAN: SQLite compiles the statement but does not run it. */
  explain: boolean;
  /** The significant tokens after EXPLAIN [QUERY PLAN]. */
  body: Token[];
  /**
   * The statement stores expressions in the schema that SQLite evaluates later, on each node's own
   * clock (column defaults, CHECK, generated columns, views, triggers, index expressions); a time
   * source there cannot be replaced by a literal without changing what the schema means.
   */
  storesExpressions: boolean;
}

/** Verbs whose statement modifies the database. */
const WRITE_VERBS = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'ANALYZE', 'REINDEX']);
/** Verbs of statements that only read. */
const READ_VERBS = new Set(['SELECT', 'VALUES']);
const DML_AFTER_WITH = new Set(['SELECT', 'VALUES', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE']);

export function isWriteVerb(verb: string): boolean {
  return WRITE_VERBS.has(verb.split(' ')[0]!);
}

export function isReadVerb(verb: string): boolean {
  return READ_VERBS.has(verb);
}

/** The statement a WITH clause leads to: the first of its verbs outside every parenthesis. */
function verbAfterWith(body: readonly Token[]): string {
  let depth = 0;
  for (const t of body) {
    if (isOperator(t, '(')) depth++;
    else if (isOperator(t, ')')) depth--;
    else if (depth === 0 && t.kind === 'word' && DML_AFTER_WITH.has(t.value)) return t.value;
  }
  return 'WITH';
}

/** CREATE [TEMP|TEMPORARY] [UNIQUE] [VIRTUAL] <object>: the verb with its object, e.g. 'CREATE INDEX'. */
function createVerb(body: readonly Token[]): string {
  let i = 1;
  while (isWord(body[i], 'TEMP', 'TEMPORARY', 'UNIQUE')) i++;
  if (isWord(body[i], 'VIRTUAL')) return 'CREATE VIRTUAL TABLE';
  return body[i]?.kind === 'word' ? `CREATE ${body[i]!.value}` : 'CREATE';
}

/** CREATE TABLE ... AS SELECT: an AS outside the column list parentheses. */
function isCreateTableAsSelect(body: readonly Token[]): boolean {
  let depth = 0;
  for (const t of body) {
    if (isOperator(t, '(')) depth++;
    else if (isOperator(t, ')')) depth--;
    else if (depth === 0 && isWord(t, 'AS')) return true;
  }
  return false;
}

function verbOf(body: readonly Token[]): string {
  const first = body[0];
  if (!first || first.kind !== 'word') return first ? first.text : '';
  switch (first.value) {
    case 'WITH':
      return verbAfterWith(body);
    case 'CREATE':
      return createVerb(body);
    case 'DROP':
    case 'ALTER':
      return body[1]?.kind === 'word' ? `${first.value} ${body[1].value}` : first.value;
    default:
      return first.value;
  }
}

/** The shape of a statement given its significant tokens. */
export function shapeOf(significant: readonly Token[]): StatementShape {
  let i = 0;
  if (isWord(significant[i], 'EXPLAIN')) i++;
  const explain = i > 0;
  if (explain && isWord(significant[i], 'QUERY') && isWord(significant[i + 1], 'PLAN')) i += 2;
  const body = significant.slice(i);
  const verb = verbOf(body);
  const storesExpressions =
    verb === 'CREATE VIEW' || verb === 'CREATE TRIGGER' || verb === 'CREATE INDEX' || verb === 'ALTER TABLE' || (verb === 'CREATE TABLE' && !isCreateTableAsSelect(body));
  return { verb, explain, body, storesExpressions };
}
