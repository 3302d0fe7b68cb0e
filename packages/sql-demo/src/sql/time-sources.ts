// Where a statement reads the clock: the 'now' time value of SQLite's date and time functions
// (written, or implied when the time value is left out), and the CURRENT_TIMESTAMP, CURRENT_DATE
// and CURRENT_TIME keywords. Also the 'localtime' and 'utc' modifiers, whose result depends on
// the time zone of the node that evaluates them.
import { functionCalls, isStringArgument, type FunctionCall } from './function-calls.js';
import { isOperator, isWord, type Token } from './tokenizer.js';

export type CurrentKeyword = 'CURRENT_TIMESTAMP' | 'CURRENT_DATE' | 'CURRENT_TIME';

export type TimeSource =
  /** A 'now' string at a time-value position: replace the token. */
  | { kind: 'now'; fn: string; token: Token }
  /** `date()` or `strftime(fmt)`: 'now' is implied; insert a time value before the closing parenthesis. */
  | { kind: 'implied-now'; fn: string; close: Token; needsComma: boolean }
  /** A CURRENT_* keyword used as a value (not as a column name). */
  | { kind: 'keyword'; keyword: CurrentKeyword; token: Token };

interface DateFunction {
  /** Argument positions SQLite reads as time values. */
  timeValues: number[];
  /** Arguments from this position on are modifiers. */
  modifiersFrom: number;
  /** With exactly this many arguments, the time value is missing and means 'now'. */
  impliedNowAt?: number;
}

/** SQLite's date and time functions (https://sqlite.org/lang_datefunc.html). */
export const DATE_FUNCTIONS: ReadonlyMap<string, DateFunction> = new Map([
  ['date', { timeValues: [0], modifiersFrom: 1, impliedNowAt: 0 }],
  ['time', { timeValues: [0], modifiersFrom: 1, impliedNowAt: 0 }],
  ['datetime', { timeValues: [0], modifiersFrom: 1, impliedNowAt: 0 }],
  ['julianday', { timeValues: [0], modifiersFrom: 1, impliedNowAt: 0 }],
  ['unixepoch', { timeValues: [0], modifiersFrom: 1, impliedNowAt: 0 }],
  ['strftime', { timeValues: [1], modifiersFrom: 2, impliedNowAt: 1 }],
  ['timediff', { timeValues: [0, 1], modifiersFrom: Infinity }],
]);

const CURRENT_KEYWORDS: ReadonlySet<string> = new Set<CurrentKeyword>(['CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME']);

/** Modifiers that convert between UTC and the evaluating node's local time zone. */
const TIME_ZONE_MODIFIERS = ['localtime', 'utc'];

/** Ends of an UPDATE's SET list (at the SET's own depth). */
const AFTER_SET = new Set(['FROM', 'WHERE', 'RETURNING', 'ORDER', 'LIMIT']);

/** Indexes of the tokens that name columns being assigned: `SET a = ..., b = ...` targets. */
function setTargets(tokens: readonly Token[]): Set<number> {
  const targets = new Set<number>();
  for (let s = 0; s < tokens.length; s++) {
    if (!isWord(tokens[s], 'SET')) continue;
    targets.add(s + 1);
    let depth = 0;
    for (let i = s + 1; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (isOperator(t, '(')) depth++;
      else if (isOperator(t, ')') && --depth < 0) break;
      else if (depth === 0 && t.kind === 'word' && AFTER_SET.has(t.value)) break;
      else if (depth === 0 && isOperator(t, ',')) targets.add(i + 1);
    }
  }
  return targets;
}

/** Indexes of the tokens inside an INSERT's column list: `INSERT INTO t [AS x] (a, b)`. */
function insertColumns(tokens: readonly Token[]): Set<number> {
  const columns = new Set<number>();
  const into = tokens.findIndex((t) => isWord(t, 'INTO'));
  if (into === -1) return columns;
  let i = into + 2;
  if (isOperator(tokens[i], '.')) i += 2;
  if (isWord(tokens[i], 'AS')) i += 2;
  if (!isOperator(tokens[i], '(')) return columns;
  for (i++; i < tokens.length && !isOperator(tokens[i], ')'); i++) columns.add(i);
  return columns;
}

/** Indexes of the CURRENT_* tokens that SQLite reads as column names, where its grammar expects a name (the keywords fall back to identifiers there). */
function keywordsUsedAsNames(tokens: readonly Token[]): Set<number> {
  const targets = setTargets(tokens);
  const columns = insertColumns(tokens);
  const names = new Set<number>();
  tokens.forEach((_, i) => {
    const qualified = isOperator(tokens[i - 1], '.') || isOperator(tokens[i + 1], '.');
    const alias = isWord(tokens[i - 1], 'AS');
    const assigned = targets.has(i) && isOperator(tokens[i + 1], '=');
    if (qualified || alias || assigned || columns.has(i)) names.add(i);
  });
  return names;
}

function callSources(call: FunctionCall, closing: Token): TimeSource[] {
  const spec = DATE_FUNCTIONS.get(call.name);
  if (!spec) return [];
  if (spec.impliedNowAt !== undefined && call.args.length === spec.impliedNowAt) {
    return [{ kind: 'implied-now', fn: call.name, close: closing, needsComma: spec.impliedNowAt > 0 }];
  }
  return spec.timeValues.filter((p) => isStringArgument(call.args[p], 'now')).map((p) => ({ kind: 'now', fn: call.name, token: call.args[p]![0]! }));
}

/** Every clock read of a statement, given its significant tokens, in text order. */
export function timeSources(tokens: readonly Token[]): TimeSource[] {
  const sources: TimeSource[] = functionCalls(tokens).flatMap((c) => callSources(c, tokens[c.close]!));
  const names = keywordsUsedAsNames(tokens);
  tokens.forEach((t, i) => {
    if (t.kind === 'word' && CURRENT_KEYWORDS.has(t.value) && !names.has(i)) sources.push({ kind: 'keyword', keyword: t.value as CurrentKeyword, token: t });
  });
  return sources.sort((a, b) => offsetOf(a) - offsetOf(b));
}

function offsetOf(s: TimeSource): number {
  return s.kind === 'implied-now' ? s.close.start : s.token.start;
}

/** The 'localtime' / 'utc' modifiers passed to date and time functions. */
export function timeZoneModifiers(tokens: readonly Token[]): { fn: string; modifier: string }[] {
  const found: { fn: string; modifier: string }[] = [];
  for (const call of functionCalls(tokens)) {
    const spec = DATE_FUNCTIONS.get(call.name);
    if (!spec) continue;
    for (const arg of call.args.slice(spec.modifiersFrom)) {
      const modifier = TIME_ZONE_MODIFIERS.find((m) => isStringArgument(arg, m));
      if (modifier) found.push({ fn: call.name, modifier });
    }
  }
  return found;
}
