// How a node calls another node's API (group creation on every member, joining through any
// member): one place for the scheme, the token and the timeout, so the forwarder, join and
// group creation cannot drift apart (one of them had its own hard-coded "http://").

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PeerCallOptions {
  method: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Aborts the call (the caller's deadline or cancellation). */
  signal?: AbortSignal;
}

export interface PeerReply {
  status: number;
  text: string;
  /** The body parsed as JSON; `{ message: text }` when it is not JSON. */
  json: any;
}

/** One request with node:http(s) (global fetch cannot be given a CA in Node 20). */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  ca: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      u,
      {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
        ...(secure && ca ? { ca } : {}),
        ...(signal ? { signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.host} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export class PeerClient {
  constructor(
    private readonly o: {
      /** Sent as `Authorization: Bearer` (the cluster shares one token). */
      token?: string;
      /** The scheme of every node's API (default http). */
      scheme?: 'http' | 'https';
      /** With https: the CA bundle the other nodes' API certificates are checked against (read at each call, so a reload applies). */
      ca?: () => Buffer | undefined;
    } = {},
  ) {}

  /** With https: the CA bundle other nodes' API certificates are checked against now. */
  ca(): Buffer | undefined {
    return this.o.ca?.();
  }

  /** The base URL of the API of the node listening at `address` ("host:port"). */
  baseUrl(address: string): string {
    return `${this.o.scheme ?? 'http'}://${address}`;
  }

  async call(address: string, path: string, c: PeerCallOptions): Promise<PeerReply> {
    return this.callUrl(`${this.baseUrl(address)}${path}`, c);
  }

  /** A call to a full URL of another node's API (one it published, http or https). */
  async callUrl(url: string, c: PeerCallOptions): Promise<PeerReply> {
    const headers: Record<string, string> = { ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers };
    if (this.o.token) headers['authorization'] = `Bearer ${this.o.token}`;
    const res = await send(url, c.method, headers, c.body === undefined ? undefined : JSON.stringify(c.body), c.timeoutMs, this.o.ca?.(), c.signal);
    const text = res.text;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { message: text };
    }
    return { status: res.status, text, json };
  }
}
