// The client's requests under Node: node:http and node:https with a keep-alive agent per client,
// behind the small part of fetch's interface the client uses. Node's global fetch (undici, its
// web streams and an abort signal per request) cost the client 1.5–2.5 ms of CPU per command
// here, more than the server spends on the command, so a single process could not drive a
// cluster past ~800 commands/s (bench/README.md, "TypeScript SDK"). Browsers use their fetch.
import type { Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import type { FetchLike, FetchLikeResponse, Sender } from './tls-fetch.js';

type HttpModule = typeof import('node:http');
type HttpsModule = typeof import('node:https');

/**
 * Idle connections are closed by the client before a server's keep-alive timeout would close
 * them under a request (Node's server default is 5 s).
 */
const IDLE_SOCKET_MS = 4_000;

interface Loaded {
  http: HttpModule;
  https: HttpsModule;
  plain: HttpAgent;
  secure: HttpAgent;
}

/** True under Node (not in a browser bundle): node:http can be loaded. */
export function runsOnNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

export function nodeFetch(tls: SecureContextOptions): Sender {
  let loaded: Loaded | undefined;
  let loading: Promise<Loaded> | undefined;
  let closed = false;
  // Loaded on first use, so the client still bundles for browsers (which never get here).
  const load = (): Promise<Loaded> =>
    (loading ??= Promise.all([import('node:http'), import('node:https')]).then(([http, https]) => {
      loaded = {
        http,
        https,
        plain: new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' }),
        secure: new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo', ...tls }),
      };
      if (closed) close();
      return loaded;
    }));

  const close = (): void => {
    closed = true;
    loaded?.plain.destroy();
    loaded?.secure.destroy();
  };

  const send = (m: Loaded, url: URL, init: Parameters<FetchLike>[1], retried: boolean): Promise<FetchLikeResponse> =>
    new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      // end(body) before the headers are out sets Content-Length itself.
      const options: RequestOptions = { method: init.method ?? 'GET', headers: init.headers, agent: secure ? m.secure : m.plain, ...(init.signal ? { signal: init.signal } : {}) };
      const req = (secure ? m.https : m.http).request(url, options, (res) => readResponse(res, resolve, reject));
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed as it was reused: the request never reached
        // it (Node's documented case for request.reusedSocket); once more on a new connection.
        if (!retried && req.reusedSocket && e.code === 'ECONNRESET' && !init.signal?.aborted) {
          send(m, url, init, true).then(resolve, reject);
          return;
        }
        reject(new TypeError('fetch failed', { cause: e }));
      });
      req.end(init.body);
    });

  const fetchLike: FetchLike = (url, init) => {
    const u = new URL(url);
    if (loaded) return send(loaded, u, init, false);
    return load().then((m) => send(m, u, init, false));
  };
  return { fetch: fetchLike, close };
}

function readResponse(res: IncomingMessage, resolve: (r: FetchLikeResponse) => void, reject: (e: unknown) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
  // The connection ended inside the body: no answer (a settled promise ignores this).
  res.on('close', () => {
    if (!res.complete) reject(new TypeError('fetch failed', { cause: new Error('the connection closed before the whole answer arrived') }));
  });
  res.on('end', () => {
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
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
}
