// HTTPS with the cluster's own CA (or a client certificate): Node's global fetch cannot be given
// a CA, so with `tls` options the client sends its requests through node:https instead, behind
// the small part of fetch's interface the client uses.
import type { SecureContextOptions } from 'node:tls';

/** TLS settings of a client: the CA that signed the nodes' API certificates, and an optional client certificate. */
export interface ClientTlsOptions {
  /** PEM CA bundle the nodes' certificates are checked against (e.g. the cluster's test CA). */
  ca?: string | Buffer | (string | Buffer)[];
  /** PEM client certificate and key, for a proxy or node that asks for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface FetchLikeResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export type FetchLike = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<FetchLikeResponse>;

/** Global fetch without TLS options; otherwise node:https with them. */
export function fetchFor(tls: ClientTlsOptions | undefined): FetchLike {
  if (!tls) return (url, init) => fetch(url, init);
  const secure: SecureContextOptions = { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) };
  return (url, init) => {
    const u = new URL(url);
    if (u.protocol !== 'https:') return fetch(url, init);
    // Loaded only when used, so the client still bundles for browsers (which never pass tls).
    return import('node:https').then(
      ({ request }) =>
        new Promise<FetchLikeResponse>((resolve, reject) => {
          const req = request(u, { method: init.method ?? 'GET', headers: init.headers, ...secure, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({
                status: res.statusCode ?? 0,
                headers: {
                  get: (name) => {
                    const v = res.headers[name.toLowerCase()];
                    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
                  },
                },
                text: () => Promise.resolve(text),
                json: () => Promise.resolve().then(() => JSON.parse(text) as unknown),
              });
            });
          });
          req.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
          req.end(init.body);
        }),
    );
  };
}
