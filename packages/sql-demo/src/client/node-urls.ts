// The nodes a client may talk to, as base URLs without a trailing slash. "127.0.0.1:4001" is
// taken as http://127.0.0.1:4001, as the rqlite shell takes a bare host and port.
import { SqlClientError } from './client-error.js';

export function normalizeNodeUrl(given: string): string {
  const trimmed = given.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new SqlClientError('invalid_argument', `not a URL: ${JSON.stringify(given)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SqlClientError('invalid_argument', `only http and https URLs are supported, got ${JSON.stringify(given)}`);
  if (url.search || url.hash) throw new SqlClientError('invalid_argument', `a node URL takes no query or fragment: ${JSON.stringify(given)}`);
  return url.href.replace(/\/+$/, '');
}

/** host:port of a base URL, for prompts and messages. */
export function hostOf(baseUrl: string): string {
  return new URL(baseUrl).host;
}
