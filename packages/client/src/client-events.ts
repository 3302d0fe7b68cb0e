/**
 * Diagnostics the client reports through the `onEvent` option: one event per HTTP attempt and
 * per watch connection. Tests use them to see where requests went; apps can log or count them.
 */
export type ClientEvent = AttemptEvent | WatchEvent;

/** One HTTP attempt of a command, a query or a schema read. */
export interface AttemptEvent {
  type: 'attempt';
  kind: 'command' | 'query' | 'schema';
  group: string;
  /** The operation's name; `schema` for a schema read. */
  name: string;
  /** Base URL of the node tried. */
  url: string;
  /** 1 for the first attempt of the call. */
  attempt: number;
  /**
   * `ok`: answered; `redirect`: 421, the leader is elsewhere; `retry`: failed in a way another
   * attempt may fix (network, 408, 503, ...); `fail`: final error, not retried.
   */
  outcome: 'ok' | 'redirect' | 'retry' | 'fail';
  /** HTTP status, when the node answered. */
  status?: number;
  /** Error code of a failed attempt. */
  code?: string;
  /** Whether the request was sent with `X-Raft-No-Forward: 1` (leader routing) . */
  noForward: boolean;
  /** `X-Raft-Forwarded-To` of the answer: the node forwarded the request to that leader id. */
  forwardedTo?: string;
  /** For commands: the session the attempt carried. */
  clientId?: string;
  sequence?: number;
  durationMs: number;
}

/** A watch connection opened, closed or failed to open. */
export interface WatchEvent {
  type: 'watch';
  group: string;
  url: string;
  outcome: 'open' | 'close' | 'fail';
  /** The index the connection asked to start from. */
  from: number;
  /** WebSocket close code (`close`) or HTTP status (`fail`), when known. */
  code?: number;
  reason?: string;
}
