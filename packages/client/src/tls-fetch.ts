// The part of fetch's interface the client uses, and what sends its requests: under Node,
// node:http/node:https (node-http.ts; they also take the cluster's own CA or a client
// certificate, which Node's global fetch cannot be given); in browsers, the global fetch.
import { nodeFetch, runsOnNode } from './node-http.js';

/** TLS settings of a client: the CA that signed the nodes' API certificates, and an optional client certificate. */
export interface ClientTlsOptions {
  /** PEM CA bundle the nodes' certificates are checked against (e.g. the cluster's test CA). */
  ca?: string | Buffer | (string | Buffer)[];
  /** PEM client certificate and key, for a proxy or node that asks for one. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface FetchLikeResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export type FetchLike = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<FetchLikeResponse>;

/** How the client sends requests: Node's own HTTP client under Node (node-http.ts), the global fetch in browsers. */
export interface Sender {
  fetch: FetchLike;
  /** Closes idle connections when the client closes. */
  close(): void;
}

export function senderFor(tls: ClientTlsOptions | undefined): Sender {
  if (!runsOnNode()) return { fetch: (url, init) => fetch(url, init), close: () => undefined };
  return nodeFetch({ ...tls });
}
