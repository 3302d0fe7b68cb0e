import type { WebSocket as WsSocket } from 'ws';
import { errorFromBody, RaftClientError } from './raft-client-error.js';

/** What a watch connection delivers, in order: text messages, then one close. */
export type SocketEvent = { type: 'message'; data: string } | { type: 'close'; code: number; reason: string } | { type: 'aborted' };

import type { ClientTlsOptions } from './tls-fetch.js';

export interface WatchSocketOptions {
  /** Sent as `Authorization: Bearer` (Node only: browsers cannot set headers on a WebSocket). */
  token: string | undefined;
  /** How long the handshake may take. */
  openTimeoutMs: number;
  /**
   * Node only: a connection that receives neither a message nor a ping for this long is dropped
   * (the server pings every 15 s by default). 0 disables it.
   */
  idleTimeoutMs: number;
  /** Node only: the CA (and client certificate) for a wss:// watch. */
  tls?: ClientTlsOptions;
}

/** Messages queued before the socket is paused (Node only); the server closes a consumer that stays paused too long with 4408. */
const HIGH_WATER = 1024;
const LOW_WATER = 64;

/**
 * An open watch WebSocket as a pull queue: `next()` resolves with the next message or the close.
 * Node uses the `ws` package (the token goes in the Authorization header, the socket is paused
 * while the queue is long); other runtimes use `globalThis.WebSocket`.
 */
export interface WatchSocket {
  next(signal: AbortSignal): Promise<SocketEvent>;
  close(): void;
}

class EventQueue implements WatchSocket {
  private readonly events: SocketEvent[] = [];
  private waiter: ((e: SocketEvent) => void) | undefined;
  private ended = false;

  constructor(
    private readonly closeSocket: () => void,
    private readonly pause?: () => void,
    private readonly resume?: () => void,
  ) {}

  push(e: SocketEvent): void {
    if (this.ended) return;
    if (e.type === 'close') this.ended = true;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(e);
      return;
    }
    this.events.push(e);
    if (this.events.length === HIGH_WATER) this.pause?.();
  }

  next(signal: AbortSignal): Promise<SocketEvent> {
    const e = this.events.shift();
    if (e) {
      if (this.events.length === LOW_WATER) this.resume?.();
      return Promise.resolve(e);
    }
    if (signal.aborted) return Promise.resolve({ type: 'aborted' });
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiter = undefined;
        resolve({ type: 'aborted' });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (ev) => {
        signal.removeEventListener('abort', onAbort);
        resolve(ev);
      };
    });
  }

  close(): void {
    this.ended = true;
    this.closeSocket();
  }
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof p?.versions?.node === 'string';
}

let wsModule: Promise<typeof import('ws')> | undefined;

/** Opens a watch socket; rejects with a RaftClientError (`retryable` for network trouble and 5xx). */
export function openWatchSocket(url: string, opts: WatchSocketOptions): Promise<WatchSocket> {
  if (isNode()) return openWithWs(url, opts);
  return openWithBrowserSocket(url, opts);
}

async function openWithWs(url: string, opts: WatchSocketOptions): Promise<WatchSocket> {
  wsModule ??= import('ws');
  const { WebSocket } = await wsModule;
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  const ws: WsSocket = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: Math.max(1, Math.round(opts.openTimeoutMs)), ...opts.tls });
  return new Promise<WatchSocket>((resolve, reject) => {
    let opened = false;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const stopIdle = () => {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = undefined;
    };
    const queue = new EventQueue(
      () => {
        stopIdle();
        if (ws.readyState === ws.OPEN) ws.close(1000, 'watch closed by the client');
        else ws.terminate();
      },
      () => {
        // Nothing is read while paused, pings included: the idle clock stops too.
        stopIdle();
        ws.pause();
      },
      () => {
        ws.resume();
        touch();
      },
    );
    const touch = () => {
      if (opts.idleTimeoutMs <= 0 || ws.isPaused) return;
      stopIdle();
      idleTimer = setTimeout(() => ws.terminate(), opts.idleTimeoutMs);
    };
    ws.on('error', (e: Error) => {
      if (!opened) reject(new RaftClientError('network', `watch ${url}: ${e.message}`, { cause: e, retryable: true }));
    });
    ws.on('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      const done = () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        const status = res.statusCode ?? 0;
        reject(errorFromBody(status, body, status === 408 || status === 429 || status >= 500));
        req.destroy();
        ws.terminate();
      };
      res.on('end', done);
      res.on('error', done);
    });
    ws.on('open', () => {
      opened = true;
      touch();
      resolve(queue);
    });
    ws.on('ping', touch);
    ws.on('message', (data, isBinary) => {
      touch();
      if (isBinary) return;
      queue.push({ type: 'message', data: data.toString() });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      stopIdle();
      if (!opened) {
        reject(new RaftClientError('network', `watch ${url}: closed during the handshake (${code})`, { retryable: true }));
        return;
      }
      queue.push({ type: 'close', code, reason: reason.toString('utf8') });
    });
  });
}

/** The part of the browser's WebSocket this client uses. */
interface BrowserSocket {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  readonly readyState: number;
  close(code?: number, reason?: string): void;
}

function openWithBrowserSocket(url: string, opts: WatchSocketOptions): Promise<WatchSocket> {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => BrowserSocket }).WebSocket;
  if (Ctor === undefined) {
    return Promise.reject(new RaftClientError('unsupported', 'this runtime has no WebSocket; watch needs globalThis.WebSocket (browsers) or Node with the ws package'));
  }
  if (opts.token !== undefined) {
    return Promise.reject(
      new RaftClientError(
        'unsupported',
        'a browser WebSocket cannot send the Authorization header and the server accepts the token only there; watch from a browser needs a cluster without --token or a proxy that adds the header',
      ),
    );
  }
  return new Promise<WatchSocket>((resolve, reject) => {
    const ws = new Ctor(url);
    let opened = false;
    const timer = setTimeout(() => {
      if (!opened) ws.close();
    }, opts.openTimeoutMs);
    const queue = new EventQueue(() => ws.close(1000, 'watch closed by the client'));
    ws.onopen = () => {
      opened = true;
      clearTimeout(timer);
      resolve(queue);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') queue.push({ type: 'message', data: ev.data });
    };
    ws.onerror = () => {
      // the close event follows and says more
    };
    ws.onclose = (ev) => {
      clearTimeout(timer);
      if (!opened) {
        reject(new RaftClientError('network', `watch ${url}: the connection failed (${ev.code}); the browser does not expose the HTTP status`, { retryable: true }));
        return;
      }
      queue.push({ type: 'close', code: ev.code, reason: ev.reason });
    };
  });
}
