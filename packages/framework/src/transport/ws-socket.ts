// Socket-level steps that both ends of a peer connection take the same way.
//
// An outbound peer and an inbound connection receive, reject and close on the same terms: a
// received message is counted and decoded here or becomes the close code and reason to answer
// it with, a protocol error is counted, logged and closed with that reason, and a shutdown
// close is bounded. One copy keeps the two ends from drifting apart.
import { WebSocket, type RawData } from 'ws';
import { FrameError, decodeFrame, truncateUtf8, type Frame } from './codec.js';
import type { TransportContext } from './ws-options.js';
import type { TransportStats } from './transport.js';

/** Counts and decodes one received frame, or says why the connection must close. */
export function readFrame(counters: TransportStats, data: RawData, isBinary: boolean): Frame | { code: number; reason: string } {
  if (!isBinary) return { code: 1003, reason: 'text frames are not accepted' };
  const buf = toBytes(data);
  counters.framesReceived++;
  counters.bytesReceived += buf.length;
  try {
    return decodeFrame(buf);
  } catch (err) {
    return { code: 1008, reason: describeDecodeError(err) };
  }
}

/** Counts and logs a peer's protocol violation and closes its connection with the reason (cut to fit a close frame). */
export function closeForProtocolError(ctx: TransportContext, ws: WebSocket, where: object, code: number, reason: string): void {
  ctx.counters.protocolErrors++;
  ctx.log.warn({ ...where, code, reason }, 'raft transport: closing connection after a protocol error');
  ws.close(code, Buffer.from(truncateUtf8(reason, 123)));
}

/** Closes a socket and resolves once it is closed; a peer that does not answer the close is cut after 1 s. */
export function closeSocket(ws: WebSocket, code: number, reason: string): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => ws.terminate(), 1000);
    timer.unref();
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(code, reason);
  });
}

function toBytes(data: RawData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return new Uint8Array(data);
}

function describeDecodeError(err: unknown): string {
  if (err instanceof FrameError) return `malformed frame: ${err.code}: ${err.reason}`;
  return `malformed frame: ${String(err)}`;
}
