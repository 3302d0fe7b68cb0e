// HTTP to a set of nodes. Requests go to the node that answered last; when it cannot be reached
// the next URL is tried, so a client given every node of a cluster survives a node going down.
// Writes move on only when the request provably never reached the node (see connection-errors).
// Redirects (a follower asked with ?redirect answers 301 to the leader) are followed by hand,
// keeping the method and body, which fetch's own redirect handling would drop for a 301 POST.
import { SqlClientError, codeOfStatus } from './client-error.js';
import { describeNetworkError, isTimeout, wasNotSent } from './connection-errors.js';
import type { FetchLike } from './fetch-like.js';
import { normalizeNodeUrl } from './node-urls.js';
import { buildQueryString, type QueryParamValue } from './query-string.js';

export interface TransportOptions {
  /** Base URLs of the nodes, e.g. http://127.0.0.1:4001; at least one. */
  urls: readonly string[];
  /** Sent as `Authorization: Bearer <token>` (raftkit-sql also takes it as a Basic password). */
  token?: string;
  /** HTTP Basic credentials, as rqlite's own auth expects; ignored when `token` is given. */
  basicAuth?: { username: string; password: string };
  /** Per request, in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  /** Path on the node, e.g. /db/execute. */
  path: string;
  query?: Readonly<Record<string, QueryParamValue>>;
  body?: string | Uint8Array;
  contentType?: string;
  /** 'write': move to another node only if this one never got the request. 'read': after any network error. */
  idempotency: 'read' | 'write';
  /** Statuses answered as they are instead of thrown (e.g. 503 from /readyz). */
  acceptStatuses?: readonly number[];
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  /** The base URL of the node that answered. */
  node: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 10;
const MAX_MESSAGE_CHARS = 500;

export class FailoverTransport {
  private readonly urls: string[];
  private current = 0;
  private readonly fetch: FetchLike;
  private readonly authorization: string | undefined;

  constructor(private readonly options: TransportOptions) {
    if (!Array.isArray(options.urls) || options.urls.length === 0) throw new SqlClientError('invalid_argument', 'at least one node URL is needed');
    this.urls = options.urls.map(normalizeNodeUrl);
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    if (options.token !== undefined) this.authorization = `Bearer ${options.token}`;
    else if (options.basicAuth) this.authorization = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
  }

  /** The node requests go to first. */
  get currentUrl(): string {
    return this.urls[this.current]!;
  }

  get nodeUrls(): readonly string[] {
    return this.urls;
  }

  /** Sends `call` to the current node, then to the others in turn while they cannot be reached. */
  async send(call: HttpCall): Promise<HttpAnswer> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < this.urls.length; attempt++) {
      const index = (this.current + attempt) % this.urls.length;
      const node = this.urls[index]!;
      try {
        const answer = await this.sendTo(node, call);
        this.current = index;
        return answer;
      } catch (e) {
        if (e instanceof SqlClientError) throw e;
        if (isTimeout(e)) throw new SqlClientError('timeout', `${node} did not answer within ${call.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`);
        failures.push(`${node}: ${describeNetworkError(e)}`);
        if (call.idempotency === 'write' && !wasNotSent(e)) {
          throw new SqlClientError('unreachable', `${failures.join('; ')} (not retried elsewhere: the write may have been applied)`);
        }
      }
    }
    throw new SqlClientError('unreachable', `cannot reach ${failures.join('; ')}`);
  }

  private async sendTo(node: string, call: HttpCall): Promise<HttpAnswer> {
    let url = node + call.path + buildQueryString(call.query ?? {});
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.authorization) headers['authorization'] = this.authorization;
    if (call.body !== undefined) headers['content-type'] = call.contentType ?? 'application/json';
    for (let redirects = 0; ; redirects++) {
      const init: RequestInit = { method: call.method, headers, redirect: 'manual', signal: AbortSignal.timeout(call.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) };
      if (call.body !== undefined) init.body = call.body;
      const response = await this.fetch(url, init);
      const location = response.headers.get('location');
      if (isRedirect(response.status) && location) {
        await response.arrayBuffer();
        if (redirects >= MAX_REDIRECTS) throw new SqlClientError('redirect_loop', `more than ${MAX_REDIRECTS} redirects from ${node}`, response.status);
        url = new URL(location, url).href;
        continue;
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (response.ok || call.acceptStatuses?.includes(response.status)) return { status: response.status, headers: response.headers, bytes, node };
      const text = new TextDecoder().decode(bytes);
      throw new SqlClientError(
        codeOfStatus(response.status),
        `${errorMessageOf(text) || response.statusText || 'request failed'} (HTTP ${response.status})`,
        response.status,
        text,
      );
    }
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The server's explanation: the "error" field of a JSON body, or the text itself. */
function errorMessageOf(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as { error?: unknown; message?: unknown };
      const message = typeof parsed.error === 'string' ? parsed.error : typeof parsed.message === 'string' ? parsed.message : undefined;
      if (message) return message.slice(0, MAX_MESSAGE_CHARS);
      if (isObject(parsed.error) && typeof parsed.error.message === 'string') return parsed.error.message.slice(0, MAX_MESSAGE_CHARS);
    } catch {
      // Not JSON after all: the text is the message.
    }
  }
  return trimmed.slice(0, MAX_MESSAGE_CHARS);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
