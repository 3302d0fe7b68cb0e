// The live view of a running node: GET /ui serves the emulator's page (from @raftkit/emulator,
// when it is installed beside the server) in its read-only live mode, and, with --debug-tap,
// GET /v1/debug/messages pages through the tap and GET /v1/debug/cluster gathers every known
// node's /v1/status. Behind the token like the API; a browser may give it as the password of
// HTTP Basic authentication (any user name), which it then sends with the page's own requests.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerOrBasicMatches, clusterSecret, type ClusterSecret } from '../common/bearer-token.js';
import type { PeerClient } from '../api/peer-client.js';
import type { NodeService } from '../api/node-service.js';
import type { DebugTap } from './debug-tap.js';

/** The page's three files, as @raftkit/emulator/live builds them. */
export interface LivePageAssets {
  html: string;
  css: string;
  js: string;
}

export interface LiveRoutesOptions {
  service: NodeService;
  /** Present when the node runs with --debug-tap. */
  tap: DebugTap | undefined;
  token: string | undefined;
  /** Tokens also accepted during a rotation (--accept-token). */
  acceptTokens?: readonly string[];
  peers: PeerClient;
  /** Loads the page (default: @raftkit/emulator/live, once); undefined when it is not installed. */
  loadAssets?: () => Promise<LivePageAssets | undefined>;
}

const PAGE_LIMIT = 1000;
const PEER_TIMEOUT_MS = 2000;

/** Bearer (as the API takes it) or Basic with the token as password (as a browser sends it). */
function liveTokenCheck(secret: ClusterSecret): (authorization: string | undefined) => boolean {
  return (authorization) => bearerOrBasicMatches(secret, authorization);
}

/** The default loader: @raftkit/emulator/live, imported by a name tsc does not follow (the emulator depends on the framework, not the reverse). */
async function importEmulatorAssets(): Promise<LivePageAssets | undefined> {
  const name = '@raftkit/emulator/live';
  let mod: { livePageAssets(): Promise<LivePageAssets> };
  try {
    mod = (await import(name)) as typeof mod;
  } catch {
    return undefined;
  }
  return mod.livePageAssets();
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendText(res: ServerResponse, req: IncomingMessage, type: string, body: string): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'",
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export interface LiveRoutes {
  /** True when the request was one of these routes (answered). */
  onRequest(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createLiveRoutes(o: LiveRoutesOptions): LiveRoutes {
  const authorized = liveTokenCheck(clusterSecret(o.token, o.acceptTokens));
  const load = o.loadAssets ?? importEmulatorAssets;
  let assets: Promise<LivePageAssets | undefined> | undefined;

  const tapOff = (res: ServerResponse) => sendJson(res, 404, { error: 'not_found', message: 'the debug tap is off: start the node with --debug-tap' });

  async function cluster(): Promise<unknown> {
    const self = o.service.status();
    const addresses = new Map<number, string>([[self.id, self.address]]);
    for (const g of self.groups) for (const m of g.members) if (m.address && !addresses.has(m.id)) addresses.set(m.id, m.address);
    const nodes = await Promise.all(
      [...addresses]
        .sort(([a], [b]) => a - b)
        .map(async ([id, address]) => {
          if (id === self.id) return { id, address, status: self };
          try {
            const r = await o.peers.call(address, '/v1/status', { method: 'GET', timeoutMs: PEER_TIMEOUT_MS });
            return r.status === 200 ? { id, address, status: r.json as unknown } : { id, address, error: `HTTP ${r.status}` };
          } catch (e) {
            return { id, address, error: (e as Error).message };
          }
        }),
    );
    return { at: Date.now(), self: self.id, nodes };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    if (path === '/ui') {
      res.writeHead(302, { location: '/ui/' }).end();
      return;
    }
    if (path.startsWith('/ui/')) {
      assets ??= load().catch(() => undefined);
      const a = await assets;
      if (!a) return sendJson(res, 404, { error: 'not_found', message: 'the live page needs the @raftkit/emulator package installed beside the server' });
      if (path === '/ui/') return sendText(res, req, 'text/html; charset=utf-8', a.html);
      if (path === '/ui/emulator.css') return sendText(res, req, 'text/css; charset=utf-8', a.css);
      if (path === '/ui/emulator.js') return sendText(res, req, 'text/javascript; charset=utf-8', a.js);
      return sendJson(res, 404, { error: 'not_found', message: `no ${path}` });
    }
    if (!o.tap) return tapOff(res);
    if (path === '/v1/debug/messages') {
      const after = Number(query.get('after') ?? '0');
      const limit = Number(query.get('limit') ?? String(PAGE_LIMIT));
      if (!Number.isSafeInteger(after) || after < 0) return sendJson(res, 400, { error: 'bad_request', message: 'after must be an integer >= 0', field: 'after' });
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > PAGE_LIMIT)
        return sendJson(res, 400, { error: 'bad_request', message: `limit must be an integer from 1 to ${PAGE_LIMIT}`, field: 'limit' });
      return sendJson(res, 200, { node: o.service.nodeId, ...o.tap.page(after, limit, query.get('group') ?? undefined) });
    }
    if (path === '/v1/debug/cluster') return sendJson(res, 200, await cluster());
    sendJson(res, 404, { error: 'not_found', message: `no route ${path}` });
  }

  return {
    onRequest(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      if (path !== '/ui' && !path.startsWith('/ui/') && !path.startsWith('/v1/debug/') && path !== '/v1/debug') return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method} is not allowed on ${path}; use GET or HEAD` }, { allow: 'GET, HEAD' });
        return true;
      }
      if (!authorized(req.headers.authorization)) {
        // The page asks the browser for the token (as a password); the debug routes answer as the API does.
        const challenge: Record<string, string> = path === '/ui' || path.startsWith('/ui/') ? { 'www-authenticate': 'Basic realm="raftkit", charset="UTF-8"' } : {};
        sendJson(res, 401, { error: 'unauthorized', message: 'a valid Authorization: Bearer token (or the token as a Basic password) is required' }, challenge);
        return true;
      }
      handle(req, res, path, url.searchParams).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: (e as Error).message });
        else res.destroy();
      });
      return true;
    },
  };
}
