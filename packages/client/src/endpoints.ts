/**
 * Turns an endpoint as users write it (`http://127.0.0.1:7001`, `https://kv.example:443`,
 * `127.0.0.1:7001`, `[::1]:7001`) into a base URL without a trailing slash. Throws TypeError
 * naming the rule when it is not an http(s) origin.
 */
export function normalizeEndpoint(endpoint: string): string {
  if (typeof endpoint !== 'string' || endpoint.trim() === '') {
    throw new TypeError(`an endpoint must be a non-empty string such as "http://127.0.0.1:7001" or "127.0.0.1:7001", got ${JSON.stringify(endpoint)}`);
  }
  const text = endpoint.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`endpoint ${JSON.stringify(endpoint)} is not a URL or HOST:PORT`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`endpoint ${JSON.stringify(endpoint)} must use http or https, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError(`endpoint ${JSON.stringify(endpoint)} must not carry a query, fragment or credentials (pass the token as the token option)`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path}`;
}

/** The WebSocket URL for an HTTP base URL and path (`http:` -> `ws:`, `https:` -> `wss:`). */
export function webSocketUrl(base: string, pathAndQuery: string): string {
  return `${base.replace(/^http/, 'ws')}${pathAndQuery}`;
}
