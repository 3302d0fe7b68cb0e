// A tokenizer for SQLite's dialect, modelled on SQLite's own (tokenize.c), so that every later
// step sees what SQLite will see: a keyword inside a string, a quoted identifier or a comment is
// never a keyword. Whitespace and comments are kept as tokens, so that text can be rebuilt exactly
// from the tokens with a few of them replaced.
import { SqlSyntaxError } from './errors.js';

export type TokenKind =
  | 'whitespace'
  | 'comment'
  /** '...', with '' standing for one quote; `value` is the unescaped text. */
  | 'string'
  /** X'hex'. */
  | 'blob'
  | 'number'
  /** ?, ?NNN, :name, @name, $name. */
  | 'parameter'
  /** A bare word: a keyword or an identifier, depending on where it stands. */
  | 'word'
  /** "..." [...] `...`; `value` is the unescaped name. */
  | 'quoted-identifier'
  | 'operator'
  | 'semicolon';

export interface Token {
  kind: TokenKind;
  /** The exact source text. */
  text: string;
  start: number;
  end: number;
  /** Strings and quoted identifiers: the content without quotes or escapes. Words: upper-cased. */
  value: string;
}

/** Operators, longest first so that `->>` wins over `->` and `<=` over `<`. */
const OPERATORS = ['->>', '->', '||', '<=', '>=', '<>', '!=', '==', '<<', '>>', '(', ')', ',', '+', '-', '*', '/', '%', '&', '|', '~', '<', '>', '=', '.'];

const WHITESPACE = /[ \t\n\f\r]/;

/** SQLite's IdChar: ASCII letters, digits, _ and $, and every non-ASCII character. */
function isIdChar(c: string | undefined): boolean {
  return c !== undefined && (/[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) > 0x7f);
}

function isIdStart(c: string | undefined): boolean {
  return c !== undefined && (/[A-Za-z_]/.test(c) || c.charCodeAt(0) > 0x7f);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** The end of a run of characters matching `test`, from `i`. */
function skipWhile(sql: string, i: number, test: (c: string | undefined) => boolean): number {
  while (i < sql.length && test(sql[i])) i++;
  return i;
}

/** A quoted run ending at `close`, where a doubled `close` (when `doubles`) stands for one. */
function scanQuoted(sql: string, start: number, close: string, doubles: boolean): { end: number; value: string } | undefined {
  let value = '';
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === close) {
      if (doubles && sql[i + 1] === close) {
        value += close;
        i += 2;
        continue;
      }
      return { end: i + 1, value };
    }
    value += c;
    i++;
  }
  return undefined;
}

/** A numeric literal: decimal with optional fraction and exponent, or hex; `_` separates digits (SQLite 3.46+). */
function scanNumber(sql: string, start: number): number {
  const digits = (c: string | undefined): boolean => isDigit(c) || c === '_';
  let i = start;
  if (sql[i] === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'X') && /[0-9A-Fa-f]/.test(sql[i + 2] ?? '')) {
    i = skipWhile(sql, i + 2, (c) => c !== undefined && /[0-9A-Fa-f_]/.test(c));
  } else {
    i = skipWhile(sql, i, digits);
    if (sql[i] === '.') i = skipWhile(sql, i + 1, digits);
    if ((sql[i] === 'e' || sql[i] === 'E') && (isDigit(sql[i + 1]) || ((sql[i + 1] === '+' || sql[i + 1] === '-') && isDigit(sql[i + 2])))) {
      i = skipWhile(sql, i + 2, digits);
    }
  }
  // SQLite rejects a number that runs straight into an identifier, such as 12abc.
  if (isIdChar(sql[i])) throw new SqlSyntaxError(`unrecognized token: "${sql.slice(start, skipWhile(sql, i, isIdChar))}"`, start);
  return i;
}

function unterminated(sql: string, start: number): never {
  throw new SqlSyntaxError(`unrecognized token: "${sql.slice(start, start + 20)}" (unterminated)`, start);
}

/** The token that starts at `i`. */
function scanToken(sql: string, i: number): Token {
  const c = sql[i]!;
  const next = sql[i + 1];
  const token = (kind: TokenKind, end: number, value = sql.slice(i, end)): Token => ({ kind, text: sql.slice(i, end), start: i, end, value });

  if (WHITESPACE.test(c))
    return token(
      'whitespace',
      skipWhile(sql, i, (x) => x !== undefined && WHITESPACE.test(x)),
    );
  if (c === '-' && next === '-') {
    const eol = sql.indexOf('\n', i);
    return token('comment', eol === -1 ? sql.length : eol);
  }
  // Like SQLite, an unterminated block comment runs to the end of the text.
  if (c === '/' && next === '*') {
    const close = sql.indexOf('*/', i + 2);
    return token('comment', close === -1 ? sql.length : close + 2);
  }
  if (c === "'") {
    const q = scanQuoted(sql, i, "'", true) ?? unterminated(sql, i);
    return token('string', q.end, q.value);
  }
  if (c === '"' || c === '`') {
    const q = scanQuoted(sql, i, c, true) ?? unterminated(sql, i);
    return token('quoted-identifier', q.end, q.value);
  }
  if (c === '[') {
    const q = scanQuoted(sql, i, ']', false) ?? unterminated(sql, i);
    return token('quoted-identifier', q.end, q.value);
  }
  if ((c === 'x' || c === 'X') && next === "'") {
    const q = scanQuoted(sql, i + 1, "'", false) ?? unterminated(sql, i);
    if (!/^([0-9A-Fa-f]{2})*$/.test(q.value)) throw new SqlSyntaxError(`unrecognized token: "${sql.slice(i, q.end)}" (a blob needs an even number of hex digits)`, i);
    return token('blob', q.end, q.value);
  }
  if (isDigit(c) || (c === '.' && isDigit(next))) return token('number', scanNumber(sql, i));
  if (c === '?') return token('parameter', skipWhile(sql, i + 1, isDigit));
  if (c === ':' || c === '@' || c === '$') {
    const end = skipWhile(sql, i + 1, isIdChar);
    if (end === i + 1) throw new SqlSyntaxError(`unrecognized token: "${c}" (a parameter needs a name)`, i);
    return token('parameter', end);
  }
  if (isIdStart(c)) {
    const end = skipWhile(sql, i, isIdChar);
    return token('word', end, sql.slice(i, end).toUpperCase());
  }
  if (c === ';') return token('semicolon', i + 1);
  const op = OPERATORS.find((o) => sql.startsWith(o, i));
  if (op) return token('operator', i + op.length);
  throw new SqlSyntaxError(`unrecognized token: "${c}"`, i);
}

/** Every token of `sql`, whitespace and comments included; throws SqlSyntaxError where SQLite's tokenizer would fail. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < sql.length;) {
    const t = scanToken(sql, i);
    tokens.push(t);
    i = t.end;
  }
  return tokens;
}

/** Tokens that carry meaning: not whitespace, not comments. */
export function isSignificant(t: Token): boolean {
  return t.kind !== 'whitespace' && t.kind !== 'comment';
}

/** Whether `t` is the bare word `word` (upper-case), i.e. possibly that keyword. */
export function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t !== undefined && t.kind === 'word' && words.includes(t.value);
}

export function isOperator(t: Token | undefined, op: string): boolean {
  return t !== undefined && t.kind === 'operator' && t.text === op;
}
