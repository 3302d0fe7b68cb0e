// A scripted stand-in for a raftkit node (HTTP + WebSocket watch) for the client's unit tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer, type WebSocket } from 'ws';

export interface WatchConnection {
  ws: WebSocket;
  from: number | undefined;
  headers: IncomingMessage['headers'];
}

export interface Handlers {
  /** Plain HTTP requests (commands, queries, status); the body is parsed JSON or undefined. */
  http?: (req: IncomingMessage, res: ServerResponse, body: unknown) => void;
  /** Accepted watch sockets. */
  watch?: (conn: WatchConnection) => void;
  /** Return an [status, body] to refuse the upgrade instead of accepting it. */
  refuseUpgrade?: (req: IncomingMessage) => [number, unknown] | undefined;
}

export class FakeNode {
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; body: unknown }[] = [];
  readonly watches: WatchConnection[] = [];
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private port = 0;

  private readonly secure: boolean;

  /** With `tls` (a PEM certificate and key) the node speaks HTTPS and WSS. */
  constructor(
    public handlers: Handlers = {},
    tls?: { cert: Buffer; key: Buffer },
  ) {
    this.secure = tls !== undefined;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (this.handlers.http) this.handlers.http(req, res, body);
        else json(res, 404, { error: 'not_found', message: 'no handler' });
      });
    };
    this.server = tls ? (createHttpsServer(tls, onRequest) as unknown as Server) : createServer(onRequest);
    this.server.on('upgrade', (req, socket, head) => {
      const refused = this.handlers.refuseUpgrade?.(req);
      if (refused) {
        const body = JSON.stringify(refused[1]);
        socket.end(`HTTP/1.1 ${refused[0]} Refused\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const f = new URL(req.url!, 'http://x').searchParams.get('from');
        const conn: WatchConnection = { ws, from: f === null ? undefined : Number(f), headers: req.headers };
        this.watches.push(conn);
        this.handlers.watch?.(conn);
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `${this.secure ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)), ...headers });
  res.end(data);
}

export function entry(index: number, term = 1): string {
  return JSON.stringify({ index, term, command: 'put', args: { key: `k${index}`, value: 'v' }, result: { revision: index } });
}
