// Answering on a raw socket: an upgrade request that is refused gets a plain HTTP/1.1 answer and
// the connection is closed, whichever part of the node refused it (API watch or peer transport).
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export function refuseOnSocket(socket: Duplex, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.on('error', () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
