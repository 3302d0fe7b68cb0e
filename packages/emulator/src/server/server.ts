// The emulator's local web server: the page, its stylesheet and its bundled script, nothing
// else, on 127.0.0.1. Everything runs in the browser; no request leaves the machine.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { livePageAssets } from '../live/assets.js';

export interface EmulatorServer {
  url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export async function startEmulatorServer(opts: { port?: number } = {}): Promise<EmulatorServer> {
  const { html, css, js } = await livePageAssets();
  const files = new Map<string, { type: string; body: string }>([
    ['/', { type: 'text/html; charset=utf-8', body: html }],
    ['/index.html', { type: 'text/html; charset=utf-8', body: html }],
    ['/emulator.css', { type: 'text/css; charset=utf-8', body: css }],
    ['/emulator.js', { type: 'text/javascript; charset=utf-8', body: js }],
  ]);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = files.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET and HEAD\n');
      return;
    }
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${path} here: the emulator is at /\n`);
      return;
    }
    res.writeHead(200, { 'content-type': file.type, ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
