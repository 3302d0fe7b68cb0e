// One request element may hold several statements separated by semicolons. SQLite's rule (see
// sqlite3_complete) is followed: a semicolon inside a string, identifier or comment separates
// nothing, and inside CREATE TRIGGER ... BEGIN ... END only the `; END` that closes the body
// ends the statement, since the body's own statements end with semicolons too.
import { isSignificant, isWord, tokenize, type Token } from './tokenizer.js';

/** One statement of a text, without its terminating semicolon or surrounding blanks and comments. */
export interface SplitStatement {
  sql: string;
  /** Offsets in the original text. */
  start: number;
  end: number;
  /** Its tokens, whitespace and comments inside it included. */
  tokens: Token[];
}

/** Whether the statement so far is CREATE [TEMP|TEMPORARY] TRIGGER, possibly behind EXPLAIN [QUERY PLAN]. */
function opensTrigger(significant: readonly Token[]): boolean {
  let i = 0;
  if (isWord(significant[i], 'EXPLAIN')) i++;
  if (isWord(significant[i], 'QUERY') && isWord(significant[i + 1], 'PLAN')) i += 2;
  if (!isWord(significant[i], 'CREATE')) return false;
  i++;
  if (isWord(significant[i], 'TEMP', 'TEMPORARY')) i++;
  return isWord(significant[i], 'TRIGGER');
}

/** Whether this semicolon ends a trigger: its body closes with `; END` right before it. */
function closesTrigger(significant: readonly Token[]): boolean {
  const n = significant.length;
  return isWord(significant[n - 1], 'END') && significant[n - 2]?.kind === 'semicolon';
}

function toStatement(sql: string, tokens: Token[]): SplitStatement | undefined {
  const first = tokens.findIndex(isSignificant);
  if (first === -1) return undefined;
  let last = tokens.length - 1;
  while (!isSignificant(tokens[last]!)) last--;
  const kept = tokens.slice(first, last + 1);
  const start = kept[0]!.start;
  const end = kept[kept.length - 1]!.end;
  return { sql: sql.slice(start, end), start, end, tokens: kept };
}

/** The statements of already tokenized text, in order; empty statements (`;;`, a lone comment) are dropped. */
export function splitTokens(sql: string, tokens: readonly Token[]): SplitStatement[] {
  const out: SplitStatement[] = [];
  let current: Token[] = [];
  let significant: Token[] = [];
  const flush = (): void => {
    const s = toStatement(sql, current);
    if (s) out.push(s);
    current = [];
    significant = [];
  };
  for (const t of tokens) {
    if (t.kind === 'semicolon' && (!opensTrigger(significant) || closesTrigger(significant))) {
      flush();
      continue;
    }
    current.push(t);
    if (isSignificant(t)) significant.push(t);
  }
  flush();
  return out;
}

/** The statements of `sql`, in order; throws SqlSyntaxError for text SQLite cannot tokenize. */
export function splitStatements(sql: string): SplitStatement[] {
  return splitTokens(sql, tokenize(sql));
}
