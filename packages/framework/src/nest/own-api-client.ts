import { RaftkitError, isErrorCode } from '../common/errors.js';
import type { PeerClient } from '../api/peer-client.js';

/**
 * Sends an operation this node cannot serve (it does not lead the group) through the node's own
 * HTTP API, which forwards it to the leader exactly as it forwards any client's request: the
 * same request keys (a command is applied at most once even if the forward breaks), the same
 * 421 hops and deadlines, the same exactly-once headers for a session. One loopback hop buys a
 * single implementation of forwarding instead of a second one that could drift from the first.
 */
export class OwnApiClient {
  constructor(
    /** The node's --listen address ("host:port"). */
    private readonly address: string,
    /** How the node calls an API: https with its own CA when it serves TLS, the cluster token. */
    private readonly peers: PeerClient,
    private readonly timeoutMs: number,
  ) {}

  /** Calls an API path; resolves with the JSON answer of a 2xx, throws the RaftkitError of any other. */
  async send(method: 'POST' | 'DELETE', path: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
    let reply;
    try {
      reply = await this.peers.call(this.address, path, { method, ...(method === 'POST' ? { body: body ?? null } : {}), headers, timeoutMs: this.timeoutMs });
    } catch (e) {
      // The request may have reached the node: its outcome is unknown, and it is not sent again.
      throw new RaftkitError('unavailable', `the node's API did not answer ${path} (${(e as Error).message}); the outcome is unknown`);
    }
    if (reply.status >= 200 && reply.status < 300) return reply.json;
    throw errorOf(reply.status, reply.json);
  }
}

/** The RaftkitError an API error answer stands for (its code, message and details). */
function errorOf(status: number, body: unknown): RaftkitError {
  const { error, message, ...details } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = typeof message === 'string' ? message : `the API answered ${status}`;
  if (isErrorCode(error)) return new RaftkitError(error, text, details);
  return new RaftkitError(status >= 500 ? 'unavailable' : 'internal', text, { status, ...details });
}
