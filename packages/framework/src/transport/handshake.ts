// The upgrade handshake between two nodes, both sides: what a dialling node sends and what an
// accepting node checks before it gives a socket to the transport.
//
// A peer link carries every group's Raft traffic, so nothing may reach it before this check
// passes: the wire protocol version (two versions must not guess at each other's frames), the
// dialler's node id (which the receiver then holds every message to) proven with a key derived
// from the cluster secret (transport/peer-credentials.ts: an HMAC over the ids, a nonce and the
// time; the secret never crosses the wire), and the id it meant to reach (so a stale address
// book hitting the wrong node is refused, not obeyed).
// Refusals are plain HTTP answers with a reason, counted and logged on this side.
import type { IncomingMessage } from 'node:http';
import { refuseOnSocket } from '../common/raw-http.js';
import { isWebSocketUpgrade } from '../common/plain-upgrade.js';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { NodeId } from '../core/types.js';
import type { TransportContext } from './ws-options.js';
import { parseNodeId } from '../core/node-id.js';
import { PeerProofChecker, peerProofHeaders } from './peer-credentials.js';

export const HEADER_NODE_ID = 'x-raftkit-node-id';
export const HEADER_TARGET_ID = 'x-raftkit-target-id';
export const HEADER_PROTOCOL = 'x-raftkit-protocol';
export const WIRE_PROTOCOL = '1';

/** Each peer id keeps one inbound connection (a newer one replaces an older); this bounds the rest. */
const MAX_INBOUND_CONNECTIONS = 1024;

/** What the handshake needs from the transport on the accepting side. */
export interface UpgradeHost {
  /** Whether peers are taken now (between start and close). */
  accepting(): boolean;
  /** Inbound connections open now. */
  connections(): number;
  /** A peer passed the handshake; `ws` is its open socket. */
  accept(ws: WebSocket, peerId: NodeId, remote: string): void;
}

/** "host:port", "[v6]:port" or a ws:// / wss:// URL → the peer's WebSocket URL. */
export function peerUrl(address: string, path: string, secure = false): string {
  if (typeof address !== 'string' || address.length === 0) throw new TypeError('peer address must be a non-empty string');
  const isUrl = /^wss?:\/\//i.test(address);
  const bad = (why: string) => new TypeError(`invalid peer address ${JSON.stringify(address)}: ${why}`);
  if (!isUrl) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^\s/?#@:[\]]+):(\d{1,5})$/.exec(address);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw bad('expected host:port');
  }
  let url: URL;
  try {
    url = new URL(isUrl ? address : `${secure ? 'wss' : 'ws'}://${address}`);
  } catch {
    throw bad(isUrl ? 'not a valid URL' : 'expected host:port');
  }
  if (!url.hostname) throw bad('no host');
  if (url.pathname === '/' || url.pathname === '') url.pathname = path;
  return url.toString();
}

export class Handshake {
  private readonly wss: WebSocketServer;
  private readonly proofs: PeerProofChecker;

  constructor(
    private readonly selfId: NodeId,
    private readonly token: string | undefined,
    private readonly ctx: TransportContext,
    private readonly host: UpgradeHost,
    /** More secrets accepted from dialling peers during a token rotation (dials are signed with `token`). */
    acceptTokens: readonly string[] = [],
    /** With mutual TLS: why a peer's certificate does not fit the id it claims, if it does not. */
    private readonly certificateProblem?: (req: IncomingMessage, claimed: NodeId) => string | undefined,
  ) {
    this.proofs = new PeerProofChecker(token === undefined || token === '' ? [] : [token, ...acceptTokens]);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: ctx.o.maxPayloadBytes, perMessageDeflate: false, clientTracking: false });
  }

  /** Whether inbound peers must present a token. */
  get authenticated(): boolean {
    return this.token !== undefined && this.token !== '';
  }

  /** The headers a dial to peer `to` carries. */
  dialHeaders(to: NodeId): Record<string, string> {
    const headers: Record<string, string> = {
      [HEADER_NODE_ID]: String(this.selfId),
      [HEADER_TARGET_ID]: String(to),
      [HEADER_PROTOCOL]: WIRE_PROTOCOL,
    };
    // The id is proven with a key derived from the secret; the secret itself is never sent.
    if (this.authenticated) Object.assign(headers, peerProofHeaders(this.token!, this.selfId, to));
    return headers;
  }

  /** The HTTP server's 'upgrade' listener: other paths are left to their owners. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return;
    }
    if (pathname !== this.ctx.o.path) return; // someone else's upgrade
    if (!isWebSocketUpgrade(req)) return; // served as a plain request by the server
    socket.on('error', () => {});
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const refuse = (status: number, reason: string, level: 'warn' | 'error' = 'warn'): void => {
      this.ctx.counters.inboundRefused++;
      this.ctx.log[level]({ remote, status, reason, peer: req.headers[HEADER_NODE_ID] }, 'raft transport: refused a peer connection');
      refuseOnSocket(socket, status, 'text/plain; charset=utf-8', `${reason}\n`);
    };
    if (!this.host.accepting()) return refuse(503, 'transport is not running');
    if (this.host.connections() >= MAX_INBOUND_CONNECTIONS) return refuse(503, 'too many peer connections', 'error');
    if (req.headers[HEADER_PROTOCOL] !== WIRE_PROTOCOL) return refuse(400, `unsupported or missing ${HEADER_PROTOCOL} (want ${WIRE_PROTOCOL})`);
    const peerId = parseNodeId(req.headers[HEADER_NODE_ID]);
    if (peerId === undefined) return refuse(400, `missing or invalid ${HEADER_NODE_ID}`);
    if (peerId === this.selfId) return refuse(400, 'a node cannot connect to itself');
    const target = req.headers[HEADER_TARGET_ID];
    const targetId = target === undefined ? undefined : parseNodeId(target);
    if (this.authenticated) {
      // The dialler proves the id it claims (transport/peer-credentials.ts), bound to the target.
      const proof = this.proofs.check(req.headers, peerId, targetId);
      if (!proof.ok) return refuse(401, proof.reason);
    }
    if (this.certificateProblem) {
      const problem = this.certificateProblem(req, peerId);
      if (problem !== undefined) return refuse(403, problem);
    }
    if (target !== undefined && targetId !== this.selfId) return refuse(421, `this is node ${this.selfId}, not ${String(target)}`, 'error');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.host.accept(ws, peerId, remote));
  };

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
