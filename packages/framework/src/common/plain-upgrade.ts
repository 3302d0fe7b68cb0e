// Requests that carry an `Upgrade` header other than WebSocket (curl --http2 asks for h2c on
// every plain-text request) are also complete HTTP/1.1 requests, which the server must serve as
// such (RFC 9110 7.8: a server may ignore Upgrade). Node's parser hands any request with
// `Connection: Upgrade` to the 'upgrade' event once a listener exists (Node 20 has no
// shouldUpgradeCallback), so such a request is given back to the server's ordinary HTTP
// parsing on the same socket, without its upgrade headers.
import type { IncomingMessage, Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/** Whether `req` asks for a WebSocket (the only upgrade raftkit performs). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.split(',').some((p) => p.trim().toLowerCase() === 'websocket');
}

/** Headers that only mean something to the upgrade being declined. */
const UPGRADE_ONLY = new Set(['upgrade', 'http2-settings']);

/**
 * Serves an upgrade request that is not a WebSocket as the plain request it also is: its head is
 * rebuilt without `Upgrade`, `HTTP2-Settings` and their `Connection` tokens and put back in front
 * of the bytes that followed it, and the socket is handed to the server's HTTP parser again, so
 * the body, keep-alive and later requests on the connection work as for any request.
 */
export function serveAsPlainRequest(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (UPGRADE_ONLY.has(lower)) continue;
    let value = raw[i + 1]!;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !UPGRADE_ONLY.has(t.toLowerCase()))
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  // The parser refused CR and LF in names and values, so the rebuilt head is what it parsed.
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  // An HTTPS server parses HTTP on its TLS sockets, which it announces as 'secureConnection'.
  server.emit(server instanceof HttpsServer ? 'secureConnection' : 'connection', socket);
}
