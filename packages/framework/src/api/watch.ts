import type { ServerResponse } from 'node:http';
import { WebSocket } from 'ws';
import type { Logger } from '../common/logger.js';
import { RaftkitError } from '../common/errors.js';
import { API_ERROR_STATUS } from './errors.js';
import type { AppliedEntry, NodeService, WatchHandle } from './node-service.js';
import { errorReply, sendJson } from './http-util.js';
import { WatchFlow } from './watch-flow.js';

/**
 * Limits of one watcher. A stream pauses its source while the socket does not drain (history is
 * sent at the reader's pace); a watcher whose socket stays full for `stallMs`, or whose queue
 * passes either buffer limit, is closed as a slow consumer.
 */
export interface WatchOptions {
  /** Bytes queued for one watcher and not yet handed to the kernel (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Entries queued for one watcher and not yet handed to the kernel (default 50 000). */
  maxBufferedEntries?: number;
  /** WebSocket ping interval; a watcher that misses a whole interval's pong is dropped (default 15 s). */
  heartbeatMs?: number;
  /** How long a watcher's socket may stay full (the reader takes nothing) before it is closed as a slow consumer (default 30 s). */
  stallMs?: number;
}

export const WS_CLOSE_SLOW_CONSUMER = 4408;
export const WS_CLOSE_COMPACTED = 4410;
/** Close code for the node shutting down. */
const WS_CLOSE_GOING_AWAY = 1001;

interface Limits {
  maxBytes: number;
  maxEntries: number;
  stallMs: number;
  /** Bytes waiting for the socket at which the source is paused. */
  highWater: number;
}

/** What the hub keeps per live watcher. */
interface WatcherRecord {
  /** Ends the watcher from the server side (shutdown). */
  shutdown(): void;
  /** WebSocket watchers only: answered the last ping. */
  ws?: WebSocket;
  alive: boolean;
}

function wire(e: AppliedEntry): string {
  return JSON.stringify({ index: e.index, term: e.term, command: e.command, args: e.args ?? null, result: e.result ?? null });
}

/**
 * The WebSocket close code for an error code from `NodeService.watch` or `WatchSubscription.onClose`:
 * 4000 + its HTTP status (4410 compacted, 4404 unknown group, 4503 unavailable, ...), 4408 for a
 * slow consumer, 4500 for anything unknown.
 */
export function wsCloseCode(code: string): number {
  if (code === 'slow_consumer') return WS_CLOSE_SLOW_CONSUMER;
  const status = (API_ERROR_STATUS as Record<string, number>)[code];
  return status !== undefined ? 4000 + status : 4500;
}

/**
 * A close reason may hold at most 123 bytes of UTF-8: the JSON `{"error","message",...}` with
 * the message shortened until it fits (the error code and the details such as firstIndex are kept).
 */
export function closeReason(body: { error: string; message: string; [k: string]: unknown }): string {
  let message = body.message;
  for (;;) {
    const s = JSON.stringify({ ...body, message });
    if (Buffer.byteLength(s) <= 123) return s;
    if (message.length === 0) return JSON.stringify({ error: body.error }).slice(0, 123);
    message = message.slice(0, Math.max(0, message.length - Math.max(4, Buffer.byteLength(s) - 123)));
  }
}

/**
 * Runs the watch streams of one API handler: WebSocket and NDJSON watchers, their buffer limits
 * and the shared heartbeat. Entries are never awaited: `onEntry` only queues or hands bytes to the
 * socket, and a watcher that cannot keep up is closed instead of slowing the node.
 */
export class WatchHub {
  private readonly watchers = new Set<WatcherRecord>();
  private readonly limits: Limits;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly service: NodeService,
    private readonly logger: Logger,
    opts: WatchOptions = {},
  ) {
    const maxBytes = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.limits = { maxBytes, maxEntries: opts.maxBufferedEntries ?? 50_000, stallMs: opts.stallMs ?? 30_000, highWater: Math.min(1024 * 1024, Math.ceil(maxBytes / 4)) };
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.watchers.size;
  }

  /** The index a watch without `from` starts at: the next entry this node will apply. */
  private defaultFrom(group: string): number {
    const svc = this.service;
    if (svc.appliedIndex) return svc.appliedIndex(group) + 1;
    const g = svc.status().groups.find((x) => x.group === group);
    if (!g) throw new RaftkitError('unknown_group', `no group named ${JSON.stringify(group)} on this node`);
    return g.applied + 1;
  }

  /**
   * Streams to an accepted WebSocket. Errors of the subscription itself (compacted, unknown group,
   * ...) arrive after the upgrade: the socket is closed with code 4000 + status and the JSON error
   * as the reason (4410 `{"error":"compacted","message":...,"firstIndex":N}`), which browsers can
   * read, unlike a refused upgrade's status.
   */
  attachWebSocket(ws: WebSocket, group: string, from: number | undefined): void {
    const { maxBytes, maxEntries, stallMs, highWater } = this.limits;
    let handle: WatchHandle | undefined;
    let done = false;
    let inFlight = 0;
    let lastSent = 0;
    const rec: WatcherRecord = { ws, alive: true, shutdown: () => finish(WS_CLOSE_GOING_AWAY, 'server shutting down') };
    const flow = new WatchFlow(
      () => handle,
      stallMs,
      () => {
        this.logger.info({ group, index: lastSent, buffered: ws.bufferedAmount }, 'api: closing stalled watch consumer');
        finish(WS_CLOSE_SLOW_CONSUMER, closeReason({ error: 'slow_consumer', message: `stopped reading after index ${lastSent}; resume from the last index received + 1` }));
      },
    );
    // Called once a message is handed to the kernel: the socket drains, the source may go on.
    const sent = () => {
      inFlight--;
      if (flow.isPaused && ws.bufferedAmount < highWater / 2) flow.resume();
    };
    const finish = (code: number, reason: string) => {
      if (done) return;
      done = true;
      flow.stop();
      this.watchers.delete(rec);
      handle?.cancel();
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
    };
    ws.on('pong', () => {
      rec.alive = true;
    });
    ws.on('error', (e) => this.logger.debug({ group, err: e.message }, 'api: watch socket error'));
    ws.on('close', () => {
      if (done) return;
      done = true;
      flow.stop();
      this.watchers.delete(rec);
      handle?.cancel();
    });
    this.watchers.add(rec);
    const onEntry = (entry: AppliedEntry) => {
      if (done || ws.readyState !== WebSocket.OPEN) return;
      if (inFlight >= maxEntries || ws.bufferedAmount >= maxBytes) {
        this.logger.info({ group, index: entry.index, buffered: ws.bufferedAmount, inFlight }, 'api: closing slow watch consumer');
        finish(WS_CLOSE_SLOW_CONSUMER, closeReason({ error: 'slow_consumer', message: `fell behind at index ${entry.index}; resume from the last index received + 1` }));
        return;
      }
      inFlight++;
      lastSent = entry.index;
      ws.send(wire(entry), sent);
      if (ws.bufferedAmount >= highWater) flow.pause();
    };
    const onClose = (code: string, message: string, details: Record<string, unknown> = {}) => {
      finish(wsCloseCode(code), closeReason({ error: code, message, ...details }));
    };
    try {
      handle = this.service.watch(group, from ?? this.defaultFrom(group), { onEntry, onClose });
    } catch (e) {
      const r = errorReply(e, this.logger);
      finish(wsCloseCode(r.body.error), closeReason(r.body));
      return;
    }
    if (done) handle.cancel();
  }

  /**
   * Streams NDJSON on a plain GET: one line per entry, flushed once per batch (all the entries
   * that arrive within one turn of the event loop). Errors before the first byte are ordinary
   * HTTP errors (410 compacted, 404 unknown group); later ones, a slow consumer included, are
   * a last `{"error":CODE,"message":...}` line and the end of the stream.
   */
  streamNdjson(res: ServerResponse, group: string, from: number | undefined): void {
    const { maxBytes, maxEntries, stallMs, highWater } = this.limits;
    let handle: WatchHandle | undefined;
    let done = false;
    let lastQueued = 0;
    let queue: string[] = [];
    let queuedBytes = 0;
    let scheduled: NodeJS.Immediate | undefined;
    let waitingDrain = false;
    const rec: WatcherRecord = { alive: true, shutdown: () => end({ error: 'unavailable', message: 'server shutting down' }) };
    const flow = new WatchFlow(
      () => handle,
      stallMs,
      () => {
        this.logger.info({ group, index: lastQueued, buffered: res.writableLength }, 'api: closing stalled watch consumer');
        end({ error: 'slow_consumer', message: `stopped reading at index ${lastQueued}; resume from the last index received + 1` });
      },
    );
    const end = (last: { error: string; message: string; [k: string]: unknown }) => {
      if (done) return;
      done = true;
      flow.stop();
      this.watchers.delete(rec);
      handle?.cancel();
      if (scheduled) clearImmediate(scheduled);
      queue = [];
      if (!res.headersSent) {
        const status = last.error === 'slow_consumer' ? 503 : ((API_ERROR_STATUS as Record<string, number>)[last.error] ?? 500);
        sendJson(res, status, last, status === 503 ? { 'retry-after': '1' } : {});
      } else if (!res.writableEnded && !res.destroyed) {
        res.end(`${JSON.stringify(last)}\n`);
      }
    };
    const flush = () => {
      scheduled = undefined;
      if (done || queue.length === 0) return;
      const chunk = queue.length === 1 ? queue[0]! : queue.join('');
      queue = [];
      queuedBytes = 0;
      if (!res.write(chunk)) {
        waitingDrain = true;
        flow.pause();
        res.once('drain', () => {
          waitingDrain = false;
          flow.resume();
          flush();
        });
      } else flow.resume();
    };
    const onEntry = (entry: AppliedEntry) => {
      if (done) return;
      const line = `${wire(entry)}\n`;
      queue.push(line);
      lastQueued = entry.index;
      queuedBytes += line.length; // UTF-16 units: close enough for a limit, and cheap
      if (queue.length > maxEntries || queuedBytes + res.writableLength > maxBytes) {
        this.logger.info({ group, index: entry.index, queued: queue.length }, 'api: closing slow watch consumer');
        end({ error: 'slow_consumer', message: `fell behind at index ${entry.index}; resume from the last index received + 1` });
        return;
      }
      if (queuedBytes + res.writableLength >= highWater) flow.pause();
      if (!scheduled && !waitingDrain && res.headersSent) scheduled = setImmediate(flush);
    };
    const onClose = (code: string, message: string, details: Record<string, unknown> = {}) => end({ error: code, message, ...details });
    res.on('close', () => {
      if (done) return;
      done = true;
      flow.stop();
      this.watchers.delete(rec);
      handle?.cancel();
      if (scheduled) clearImmediate(scheduled);
    });
    this.watchers.add(rec);
    try {
      handle = this.service.watch(group, from ?? this.defaultFrom(group), { onEntry, onClose });
    } catch (e) {
      done = true;
      this.watchers.delete(rec);
      const r = errorReply(e, this.logger);
      sendJson(res, r.status, r.body, r.headers);
      return;
    }
    if (done) {
      handle.cancel();
      return;
    }
    res.socket?.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    if (queue.length > 0 && !scheduled) scheduled = setImmediate(flush);
  }

  private beat(): void {
    for (const rec of this.watchers) {
      const ws = rec.ws;
      if (!ws) continue;
      if (!rec.alive) {
        this.logger.info({}, 'api: watch peer missed a heartbeat; dropping it');
        ws.terminate();
        continue;
      }
      rec.alive = false;
      try {
        ws.ping();
      } catch {
        /* closing already */
      }
    }
  }

  /** Ends every watcher (WS close 1001, NDJSON last line `unavailable`) and stops the heartbeat. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const rec of [...this.watchers]) rec.shutdown();
    this.watchers.clear();
  }
}
