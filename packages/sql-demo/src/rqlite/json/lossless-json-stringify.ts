// The writing half of lossless JSON: bigint as plain digits, and a Map as an object whose keys keep
// the Map's order (a plain object would hoist integer-like keys such as "10" to the front, which
// rqlite's sorted maps do not). With `escapeLikeGo`, strings are escaped the way Go's encoding/json
// escapes them, so rqlite's answers can be reproduced byte for byte.

/** What the writer accepts. Properties whose value is undefined are left out, as JSON.stringify does. */
export type JsonWritable =
  null | boolean | number | bigint | string | readonly JsonWritable[] | ReadonlyMap<string, JsonWritable | undefined> | { readonly [key: string]: JsonWritable | undefined };

export interface LosslessStringifyOptions {
  /** Spaces (or the string) per nesting level, as JSON.stringify's third argument; none when absent. */
  indent?: number | string;
  /** Also escape <, >, & and U+2028/U+2029 as \u003c, \u003e, \u0026, \u2028, \u2029 (Go's json.Marshal). */
  escapeLikeGo?: boolean;
}

export class JsonStringifyError extends Error {
  readonly code = 'unserializable';
  constructor(message: string) {
    super(message);
    this.name = 'JsonStringifyError';
  }
}

const GO_ESCAPES = /[<>&\u2028\u2029]/g;

/** Writes `value` as JSON text; throws JsonStringifyError for values JSON cannot carry (NaN, Infinity). */
export function stringifyLosslessJson(value: JsonWritable, options: LosslessStringifyOptions = {}): string {
  const indent = typeof options.indent === 'number' ? ' '.repeat(Math.min(10, options.indent)) : (options.indent ?? '');
  return new Writer(indent, options.escapeLikeGo ?? false).write(value, '');
}

class Writer {
  constructor(
    private readonly indent: string,
    private readonly escapeLikeGo: boolean,
  ) {}

  write(value: JsonWritable, currentIndent: string): string {
    if (value === null) return 'null';
    switch (typeof value) {
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        return value.toString();
      case 'number':
        if (!Number.isFinite(value)) throw new JsonStringifyError(`${value} cannot be written as JSON`);
        return String(value);
      case 'string':
        return this.string(value);
    }
    if (isArray(value))
      return this.container(
        '[',
        ']',
        value.map((item) => this.write(item, currentIndent + this.indent)),
        currentIndent,
      );
    const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
    const members: string[] = [];
    for (const [key, member] of entries) {
      if (member === undefined) continue;
      members.push(`${this.string(key)}:${this.indent ? ' ' : ''}${this.write(member, currentIndent + this.indent)}`);
    }
    return this.container('{', '}', members, currentIndent);
  }

  private container(open: string, close: string, members: string[], currentIndent: string): string {
    if (members.length === 0) return open + close;
    if (!this.indent) return open + members.join(',') + close;
    const inner = currentIndent + this.indent;
    return `${open}\n${inner}${members.join(`,\n${inner}`)}\n${currentIndent}${close}`;
  }

  private string(s: string): string {
    // JSON.stringify already escapes quotes, backslashes, control characters and lone surrogates.
    const json = JSON.stringify(s);
    return this.escapeLikeGo ? json.replace(GO_ESCAPES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
  }
}

function isArray(value: unknown): value is readonly JsonWritable[] {
  return Array.isArray(value);
}
