// Function calls in a statement's significant tokens: a name, a parenthesis, arguments separated
// by commas at the call's own depth. Names followed by a parenthesis that are not calls (a table
// with a column list, a CTE) are told apart by what surrounds them.
import { isOperator, isWord, type Token } from './tokenizer.js';

export interface FunctionCall {
  /** Lower-case name. */
  name: string;
  /** Index of the name in the significant tokens. */
  at: number;
  /** Index of the closing parenthesis. */
  close: number;
  /** Each argument's tokens; empty for `f()`. */
  args: Token[][];
}

/** Words after which `name(` names a table, a view, an index or a CTE rather than calling a function. */
const NAMES_AN_OBJECT = new Set(['INTO', 'TABLE', 'UPDATE', 'REFERENCES', 'EXISTS', 'VIEW', 'INDEX', 'TRIGGER', 'WITH', 'RECURSIVE']);

/** The index of the parenthesis closing the one at `open`, or the last token's when unbalanced. */
function matchingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isOperator(tokens[i], '(')) depth++;
    else if (isOperator(tokens[i], ')') && --depth === 0) return i;
  }
  return tokens.length - 1;
}

function splitArguments(tokens: readonly Token[], open: number, close: number): Token[][] {
  if (close === open + 1) return [];
  const args: Token[][] = [[]];
  let depth = 0;
  for (let i = open + 1; i < close; i++) {
    const t = tokens[i]!;
    if (isOperator(t, '(')) depth++;
    else if (isOperator(t, ')')) depth--;
    if (depth === 0 && isOperator(t, ',')) args.push([]);
    else args[args.length - 1]!.push(t);
  }
  return args;
}

function namesAnObject(tokens: readonly Token[], at: number, close: number): boolean {
  const before = tokens[at - 1];
  if (before && (isOperator(before, '.') || (before.kind === 'word' && NAMES_AN_OBJECT.has(before.value)))) return true;
  // `name(columns) AS [NOT] [MATERIALIZED] (...)`: a common table expression, the later ones after a
  // comma; `f(x) AS alias` and `CAST(f(x) AS type)` are calls.
  if (!isWord(tokens[close + 1], 'AS')) return false;
  const after = tokens[close + 2];
  return isOperator(after, '(') || isWord(after, 'NOT', 'MATERIALIZED');
}

/** Every function call among a statement's significant tokens, nested calls included, in text order. */
export function functionCalls(tokens: readonly Token[]): FunctionCall[] {
  const calls: FunctionCall[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'word' || !isOperator(tokens[i + 1], '(')) continue;
    const close = matchingParen(tokens, i + 1);
    if (namesAnObject(tokens, i, close)) continue;
    calls.push({ name: t.value.toLowerCase(), at: i, close, args: splitArguments(tokens, i + 1, close) });
  }
  return calls;
}

/** Whether an argument is exactly one string literal equal to `text`, ignoring case (as SQLite compares 'now'). */
export function isStringArgument(arg: readonly Token[] | undefined, text: string): boolean {
  return arg !== undefined && arg.length === 1 && arg[0]!.kind === 'string' && arg[0]!.value.toLowerCase() === text;
}
