// How a node calls another node's API (group creation on every member, joining through any
// member): one place for the scheme, the token and the timeout, so the forwarder, join and
// group creation cannot drift apart (one of them had its own hard-coded "http://").

export interface PeerCallOptions {
  method: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
}

export interface PeerReply {
  status: number;
  text: string;
  /** The body parsed as JSON; `{ message: text }` when it is not JSON. */
  json: any;
}

export class PeerClient {
  constructor(
    private readonly o: {
      /** Sent as `Authorization: Bearer` (the cluster shares one token). */
      token?: string;
      /** The scheme of every node's API (default http). */
      scheme?: 'http' | 'https';
    } = {},
  ) {}

  /** The base URL of the API of the node listening at `address` ("host:port"). */
  baseUrl(address: string): string {
    return `${this.o.scheme ?? 'http'}://${address}`;
  }

  async call(address: string, path: string, c: PeerCallOptions): Promise<PeerReply> {
    const headers: Record<string, string> = { ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers };
    if (this.o.token) headers['authorization'] = `Bearer ${this.o.token}`;
    const res = await fetch(`${this.baseUrl(address)}${path}`, {
      method: c.method,
      headers,
      body: c.body === undefined ? undefined : JSON.stringify(c.body),
      signal: AbortSignal.timeout(c.timeoutMs),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { message: text };
    }
    return { status: res.status, text, json };
  }
}
