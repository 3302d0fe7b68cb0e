import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiHandler, type ApiHandler, type ApiHandlerOptions } from '../../src/api/http-api.js';
import { type FakeService } from './fake-service.js';

export const TOKEN = 'api-test-token';

export interface ApiServer {
  api: ApiHandler;
  service: FakeService;
  server: http.Server;
  url: string;
  port: number;
  /** Headers of every request this server received, in order. */
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A real http server on 127.0.0.1 (ephemeral port) running the API over a fake service. */
export async function startApi(service: FakeService, opts: Omit<ApiHandlerOptions, 'service'> = {}): Promise<ApiServer> {
  const api = createApiHandler({ service, requestTimeoutMs: 2_000, ...opts });
  const seen: ApiServer['seen'] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    api.onRequest(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!api.onUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    api,
    service,
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    async close() {
      await api.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One request with raw control over path, headers and body (fetch would normalise the URL). */
export function request(base: string, method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string>; token?: string } = {}): Promise<Reply> {
  const u = new URL(base);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** JSON POST helper. */
export function post(base: string, path: string, body: unknown, opts: { headers?: Record<string, string>; token?: string } = {}): Promise<Reply> {
  return request(base, 'POST', path, { ...opts, body: body === undefined ? undefined : JSON.stringify(body) });
}

export { waitFor } from '../support/wait.js';
