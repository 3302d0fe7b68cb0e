// Go's url.ParseQuery, which rqlite runs on every request before routing: keys are case-sensitive,
// the first of repeated keys wins (rqlite keeps v[0]), '+' is a space, and a bad %-escape or a ';'
// separator refuses the whole request with Go's message. URLSearchParams would accept both.
import { RqliteRequestError } from '../request-error.js';

const utf8 = new TextDecoder('utf-8');

/** The query string's parameters (without the leading '?'), first value of each key. */
export function parseGoQueryString(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>();
  let firstError: string | undefined;
  for (const pair of rawQuery.split('&')) {
    if (pair.includes(';')) {
      firstError ??= 'invalid semicolon separator in query';
      continue;
    }
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = unescapeQueryComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = unescapeQueryComponent(eq === -1 ? '' : pair.slice(eq + 1));
    if (key instanceof EscapeError || value instanceof EscapeError) {
      firstError ??= (key instanceof EscapeError ? key : (value as EscapeError)).message;
      continue;
    }
    if (!params.has(key)) params.set(key, value);
  }
  if (firstError !== undefined) throw new RqliteRequestError('bad_query_parameter', firstError);
  return params;
}

class EscapeError {
  constructor(readonly message: string) {}
}

/** url.QueryUnescape: the decoded text, or Go's EscapeError message. */
function unescapeQueryComponent(s: string): string | EscapeError {
  if (!s.includes('%')) return s.replaceAll('+', ' ');
  const chunks: Buffer[] = [];
  let runStart = 0;
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', runStart)) {
    const hex = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return new EscapeError(`invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}`);
    chunks.push(Buffer.from(s.slice(runStart, i).replaceAll('+', ' '), 'utf8'), Buffer.of(parseInt(hex, 16)));
    runStart = i + 3;
  }
  chunks.push(Buffer.from(s.slice(runStart).replaceAll('+', ' '), 'utf8'));
  // Escapes may spell invalid UTF-8; Go keeps the raw bytes, a JS string can only say U+FFFD.
  return utf8.decode(Buffer.concat(chunks));
}
