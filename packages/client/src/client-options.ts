import type { ClientEvent } from './client-events.js';
import { normalizeEndpoint } from './endpoints.js';
import { senderFor, type ClientTlsOptions, type Sender } from './tls-fetch.js';

/** Exponential backoff between attempts: `initialMs`, doubling, capped at `maxMs`, with jitter. */
export interface BackoffOptions {
  /** First delay (default 50 ms). */
  initialMs?: number;
  /** Largest delay (default 2 000 ms). */
  maxMs?: number;
}

export interface RaftClientOptions {
  /** The nodes to talk to: `http://127.0.0.1:7001`, `https://host:port` or `host:port`. At least one. */
  endpoints: string[];
  /** The cluster's shared secret, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Deadline of one call, every retry included (default 10 000 ms); also how long a watch keeps trying to reconnect. */
  deadlineMs?: number;
  /** Deadline of one HTTP attempt inside a call (default 5 000 ms, never past the call's deadline). */
  attemptTimeoutMs?: number;
  backoff?: BackoffOptions;
  /**
   * The exactly-once session id (1-120 printable ASCII characters; default random). Give a stable id
   * only if one client instance at a time uses it.
   */
  clientId?: string;
  /** Diagnostics: called for every attempt and watch (re)connection. Exceptions it throws are ignored. */
  onEvent?: (event: ClientEvent) => void;
  /** For `https://` endpoints signed by the cluster's own CA: `{ ca }` (PEM), optionally a client `cert` and `key`. */
  tls?: ClientTlsOptions;
}

/** Options after defaults and checks. */
export interface ResolvedOptions {
  endpoints: string[];
  token: string | undefined;
  deadlineMs: number;
  attemptTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number };
  clientId: string;
  onEvent: ((event: ClientEvent) => void) | undefined;
  tls: ClientTlsOptions | undefined;
  /** Sends the requests (tls-fetch.ts): node:http(s) with keep-alive under Node, fetch in browsers. */
  sender: Sender;
}

function positiveMs(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

function randomClientId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `rk-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Checks the options and fills in defaults; every error states the rule that was broken. */
export function resolveOptions(opts: RaftClientOptions): ResolvedOptions {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('RaftClient needs an options object: new RaftClient({ endpoints: ["127.0.0.1:7001"] })');
  if (!Array.isArray(opts.endpoints) || opts.endpoints.length === 0) {
    throw new TypeError('endpoints must be a non-empty array of node addresses, e.g. ["http://127.0.0.1:7001", "127.0.0.1:7002"]');
  }
  const endpoints = [...new Set(opts.endpoints.map(normalizeEndpoint))];
  if (opts.token !== undefined && (typeof opts.token !== 'string' || opts.token === '' || /[\r\n]/.test(opts.token))) {
    throw new TypeError('token must be a non-empty single-line string');
  }
  const deadlineMs = positiveMs(opts.deadlineMs, 'deadlineMs', 10_000);
  const attemptTimeoutMs = positiveMs(opts.attemptTimeoutMs, 'attemptTimeoutMs', 5_000);
  const initialMs = positiveMs(opts.backoff?.initialMs, 'backoff.initialMs', 50);
  const maxMs = positiveMs(opts.backoff?.maxMs, 'backoff.maxMs', Math.max(2_000, initialMs));
  if (maxMs < initialMs) throw new RangeError(`backoff.maxMs (${maxMs}) must be at least backoff.initialMs (${initialMs})`);
  let clientId = opts.clientId;
  if (clientId === undefined) clientId = randomClientId();
  else if (typeof clientId !== 'string' || !/^[\x20-\x7e]{1,120}$/.test(clientId)) {
    throw new TypeError('clientId must be 1 to 120 printable ASCII characters (the server allows 128; the client appends a lane suffix for concurrent commands)');
  }
  if (opts.onEvent !== undefined && typeof opts.onEvent !== 'function') throw new TypeError('onEvent must be a function');
  if (opts.tls !== undefined && (typeof opts.tls !== 'object' || opts.tls === null)) throw new TypeError('tls must be an object { ca?, cert?, key? } of PEM strings or Buffers');
  return { endpoints, token: opts.token, deadlineMs, attemptTimeoutMs, backoff: { initialMs, maxMs }, clientId, onEvent: opts.onEvent, tls: opts.tls, sender: senderFor(opts.tls) };
}
