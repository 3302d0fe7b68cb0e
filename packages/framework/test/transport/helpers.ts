import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageType, type Message, type NodeId } from '../../src/core/types.js';
import type { Envelope, TransportEvents, TransportLogger } from '../../src/transport/transport.js';
import { WsTransport, type WsTransportOptions } from '../../src/transport/ws-transport.js';

export const TOKEN = 'test-secret-token';

export function msg(over: Partial<Message> = {}): Message {
  return { type: MessageType.Heartbeat, from: 1, to: 2, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...over };
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

export class Recorder implements TransportEvents {
  readonly received: { from: NodeId; env: Envelope }[] = [];
  readonly batches: { from: NodeId; batch: Envelope[] }[] = [];
  readonly statuses: { group: string; to: NodeId; ok: boolean }[] = [];
  readonly unreachable: { group: string; to: NodeId }[] = [];
  onBatch: ((from: NodeId, batch: Envelope[]) => void) | null = null;

  onMessages(from: NodeId, batch: Envelope[]): void {
    this.batches.push({ from, batch });
    for (const env of batch) this.received.push({ from, env });
    this.onBatch?.(from, batch);
  }
  onSnapshotStatus(group: string, to: NodeId, ok: boolean): void {
    this.statuses.push({ group, to, ok });
  }
  onUnreachable(group: string, to: NodeId): void {
    this.unreachable.push({ group, to });
  }
}

export function captureLogger(): { logger: TransportLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    logger: {
      info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    },
  };
}

export interface TestNode {
  id: NodeId;
  server: http.Server;
  port: number;
  address: string;
  transport: WsTransport;
  events: Recorder;
  logs: LogLine[];
  close(): Promise<void>;
}

export async function listen(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startNode(id: NodeId, options: Partial<WsTransportOptions> = {}, port = 0): Promise<TestNode> {
  const server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const actualPort = await listen(server, port);
  const { logger, lines } = captureLogger();
  const transport = new WsTransport({
    selfId: id,
    server,
    token: TOKEN,
    path: '/raft',
    logger,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    ...options,
  });
  const events = new Recorder();
  await transport.start(events);
  let closed = false;
  return {
    id,
    server,
    port: actualPort,
    address: `127.0.0.1:${actualPort}`,
    transport,
    events,
    logs: lines,
    async close() {
      if (closed) return;
      closed = true;
      await transport.close();
      await closeServer(server);
    },
  };
}

export { waitFor } from '../support/wait.js';

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await closeServer(s);
  return port;
}
