// A JSON parser that keeps 64-bit integers exact. rqlite clients send and expect integers up to
// 2^63-1, and JSON.parse would round anything past 2^53 to the nearest double without a word.
// Everything else parses as JSON.parse would (same grammar, same values, "__proto__" an own key),
// and text whose numbers are all plain doubles is handed to JSON.parse itself.

/** A parsed JSON value; integers beyond the safe range (or all integers, if asked) are bigint. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

export interface LosslessParseOptions {
  /**
   * 'unsafe' (the default): only integers outside Number's safe range become bigint, so ordinary
   * JSON looks as JSON.parse returns it. 'always': every integer token (no fraction, no exponent)
   * becomes bigint, which keeps `1` apart from `1.0`, as rqlite's parameter typing needs.
   */
  bigint?: 'unsafe' | 'always';
  /** Deeper nesting is refused rather than risking the stack (Go's decoder stops at 10000). */
  maxDepth?: number;
}

export class JsonParseError extends Error {
  readonly code = 'invalid_json';
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
    this.name = 'JsonParseError';
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const DEFAULT_MAX_DEPTH = 1000;

/** Parses `text` as one JSON value; throws JsonParseError naming the offending position. */
export function parseLosslessJson(text: string, options: LosslessParseOptions = {}): JsonValue {
  const bigint = options.bigint ?? 'unsafe';
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  return viaJsonParse(text, bigint, maxDepth) ?? new Parser(text, bigint, maxDepth).parseDocument();
}

/**
 * JSON.parse's value, when it is exactly the parser's: no number the parser would give another
 * value or type, no nesting past maxDepth. Undefined otherwise, and for invalid JSON (whose
 * message is the parser's). JSON.parse is native and several times faster, and most bodies
 * (strings, arrays, objects) qualify.
 */
function viaJsonParse(text: string, bigint: 'unsafe' | 'always', maxDepth: number): JsonValue | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return sameAsParser(value, bigint, maxDepth, 0) ? (value as JsonValue) : undefined;
}

/** `depth`: the containers around `v`. */
function sameAsParser(v: unknown, bigint: 'unsafe' | 'always', maxDepth: number, depth: number): boolean {
  // 'unsafe' makes an integer token past 2^53 a bigint (JSON.parse rounds it); 'always' every integer token.
  if (typeof v === 'number') return bigint === 'unsafe' && (!Number.isInteger(v) || Number.isSafeInteger(v));
  if (typeof v !== 'object' || v === null) return true;
  if (depth + 1 > maxDepth) return false;
  const items = Array.isArray(v) ? (v as unknown[]) : Object.values(v);
  for (const item of items) if (!sameAsParser(item, bigint, maxDepth, depth + 1)) return false;
  return true;
}

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly bigint: 'unsafe' | 'always',
    private readonly maxDepth: number,
  ) {}

  parseDocument(): JsonValue {
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) this.fail(`Unexpected ${this.describe(this.pos)} after the JSON value`);
    return value;
  }

  private parseValue(depth: number): JsonValue {
    this.skipWhitespace();
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.parseObject(depth + 1);
      case '[':
        return this.parseArray(depth + 1);
      case '"':
        return this.parseString();
      case 't':
        return this.parseLiteral('true', true);
      case 'f':
        return this.parseLiteral('false', false);
      case 'n':
        return this.parseLiteral('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
        return this.fail(`Unexpected ${this.describe(this.pos)}, expected a JSON value`);
    }
  }

  private parseObject(depth: number): JsonValue {
    this.checkDepth(depth);
    this.pos++;
    const object: { [key: string]: JsonValue } = {};
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return object;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail(`Unexpected ${this.describe(this.pos)}, expected a string key`);
      const key = this.parseString();
      this.skipWhitespace();
      this.expect(':');
      const value = this.parseValue(depth);
      // A plain assignment to "__proto__" would set the prototype; JSON.parse makes it an own key.
      Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect('}');
      return object;
    }
  }

  private parseArray(depth: number): JsonValue {
    this.checkDepth(depth);
    this.pos++;
    const array: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return array;
    }
    for (;;) {
      array.push(this.parseValue(depth));
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect(']');
      return array;
    }
  }

  private parseString(): string {
    const start = ++this.pos;
    let out = '';
    let chunkStart = start;
    for (;;) {
      if (this.pos >= this.text.length) this.fail('Unterminated string');
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) {
        out += this.text.slice(chunkStart, this.pos++);
        return out;
      }
      if (code < 0x20) this.fail('Control character in string (must be escaped)');
      if (code !== 0x5c) {
        this.pos++;
        continue;
      }
      out += this.text.slice(chunkStart, this.pos);
      out += this.parseEscape();
      chunkStart = this.pos;
    }
  }

  private parseEscape(): string {
    const escapeAt = this.pos;
    const c = this.text[this.pos + 1];
    if (c === 'u') {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.failAt(escapeAt, 'Bad \\u escape in string');
      this.pos += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const decoded = c === undefined ? undefined : ESCAPES[c];
    if (decoded === undefined) this.failAt(escapeAt, 'Bad escape in string');
    this.pos += 2;
    return decoded;
  }

  private parseNumber(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) return this.failAt(this.pos + 1, `Unexpected ${this.describe(this.pos + 1)} in number`);
    const token = match[0];
    this.pos += token.length;
    const isInteger = match[1] === undefined && match[2] === undefined;
    if (!isInteger) return Number(token);
    if (this.bigint === 'always') return BigInt(token);
    const n = Number(token);
    return Number.isSafeInteger(n) ? n : BigInt(token);
  }

  private parseLiteral<T extends boolean | null>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    return this.fail(`Unexpected ${this.describe(this.pos)}, expected a JSON value`);
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`Unexpected ${this.describe(this.pos)}, expected '${char}'`);
    this.pos++;
  }

  private checkDepth(depth: number): void {
    if (depth > this.maxDepth) this.fail(`Nesting deeper than ${this.maxDepth} levels`);
  }

  private describe(at: number): string {
    const c = this.text[at];
    return c === undefined ? 'end of input' : `character ${JSON.stringify(c)}`;
  }

  private fail(reason: string): never {
    return this.failAt(this.pos, reason);
  }

  private failAt(position: number, reason: string): never {
    throw new JsonParseError(reason, position);
  }
}
