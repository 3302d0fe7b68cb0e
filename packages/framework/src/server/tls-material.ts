// The node's TLS files (--tls-cert/--tls-key/--tls-ca for the API, --peer-tls-cert/-key/-ca for
// peer links), read at start and again on SIGHUP. A member's peer certificate names its cluster
// and node id as a URI subject alternative name, raftkit://CLUSTER/node/ID: a peer is accepted
// (and a dialled node trusted) only with a certificate from the peer CA that names this node's
// cluster and the id it claims (or was dialled as).
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate, SecureContextOptions, TLSSocket, ConnectionOptions } from 'node:tls';
import type { NodeId } from '../core/types.js';
import { ServerStartError } from './server-error.js';

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA bundle: for the API, what clients and forwarding nodes trust; for peers, what signs every member's certificate. */
  ca?: string;
}

/** The SNI name a peer dials with, so a node with a separate API certificate shows its member certificate to peers. */
export const PEER_SERVERNAME = 'raftkit-peer';

const MEMBER_URI = /^raftkit:\/\/([A-Za-z0-9._-]{1,64})\/node\/([1-9][0-9]{0,15})$/;

/** The (cluster, node id) a certificate names in a `raftkit://CLUSTER/node/ID` URI SAN, if exactly one. */
export function memberIdentityOf(subjectAltName: string | undefined): { cluster: string; id: NodeId } | undefined {
  if (!subjectAltName) return undefined;
  const found = subjectAltName
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:'))
    .map((s) => MEMBER_URI.exec(s.slice(4)))
    .filter((m): m is RegExpExecArray => m !== null);
  if (found.length !== 1) return undefined;
  return { cluster: found[0]![1]!, id: Number(found[0]![2]) };
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ServerStartError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

interface Loaded {
  api?: { cert: Buffer; key: Buffer; ca?: Buffer };
  peer?: { cert: Buffer; key: Buffer; ca: Buffer; cluster: string };
}

export class TlsMaterial {
  private loaded: Loaded;

  constructor(
    private readonly selfId: NodeId,
    private readonly api: TlsFiles | undefined,
    private readonly peer: TlsFiles | undefined,
  ) {
    this.loaded = this.load();
  }

  /** Whether the node's port speaks TLS (either set of files given). */
  get enabled(): boolean {
    return this.api !== undefined || this.peer !== undefined;
  }

  get peerTls(): boolean {
    return this.peer !== undefined;
  }

  /** The cluster this node's member certificate names. */
  get cluster(): string | undefined {
    return this.loaded.peer?.cluster;
  }

  /** Reads every file again (SIGHUP); throws ServerStartError, keeping the old material, if any is bad. */
  reload(): void {
    this.loaded = this.load();
  }

  private load(): Loaded {
    const out: Loaded = {};
    if (this.api) {
      out.api = { cert: read(this.api.cert, '--tls-cert'), key: read(this.api.key, '--tls-key'), ...(this.api.ca ? { ca: read(this.api.ca, '--tls-ca') } : {}) };
    }
    if (this.peer) {
      const cert = read(this.peer.cert, '--peer-tls-cert');
      let x509: X509Certificate;
      try {
        x509 = new X509Certificate(cert);
      } catch (e) {
        throw new ServerStartError(`--peer-tls-cert ${this.peer.cert} is not a PEM certificate: ${(e as Error).message}`);
      }
      const identity = memberIdentityOf(x509.subjectAltName);
      if (!identity) throw new ServerStartError(`--peer-tls-cert ${this.peer.cert} must name exactly one member as a URI SAN raftkit://CLUSTER/node/ID`);
      if (identity.id !== this.selfId) throw new ServerStartError(`--peer-tls-cert ${this.peer.cert} names node ${identity.id}, but this is node ${this.selfId}`);
      if (!this.peer.ca) throw new ServerStartError('--peer-tls-ca is required with --peer-tls-cert (the CA that signs every member certificate)');
      out.peer = { cert, key: read(this.peer.key, '--peer-tls-key'), ca: read(this.peer.ca, '--peer-tls-ca'), cluster: identity.cluster };
    }
    return out;
  }

  /** Options of the node's HTTPS server: the API certificate (or the member one), and client certificates requested (not required: API clients have none). */
  serverOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean; SNICallback?: unknown } {
    const { api, peer } = this.loaded;
    const main = api ?? peer!;
    return {
      cert: main.cert,
      key: main.key,
      ...(peer ? { ca: peer.ca } : {}),
      requestCert: peer !== undefined,
      rejectUnauthorized: false,
    };
  }

  /** The secure context for peers when the API has its own certificate (selected by SNI). */
  peerContextOptions(): SecureContextOptions | undefined {
    const { api, peer } = this.loaded;
    if (!api || !peer) return undefined;
    return { cert: peer.cert, key: peer.key, ca: peer.ca };
  }

  /** TLS options of a dial to peer `to`: this member's certificate, the peer CA, and the check that the node reached is `to` of this cluster. */
  dialOptions(to: NodeId): ConnectionOptions {
    const peer = this.loaded.peer!;
    return {
      cert: peer.cert,
      key: peer.key,
      ca: peer.ca,
      servername: PEER_SERVERNAME,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        const who = memberIdentityOf(cert.subjectaltname);
        if (!who) return new Error('the node reached has no raftkit member certificate');
        if (who.cluster !== peer.cluster) return new Error(`the node reached belongs to cluster ${who.cluster}, not ${peer.cluster}`);
        if (who.id !== to) return new Error(`the node reached is node ${who.id}, not ${to}`);
        return undefined;
      },
    };
  }

  /** Why the peer upgrade `req` claiming `claimed` must be refused, or undefined (mutual TLS). */
  peerCertificateProblem(req: IncomingMessage, claimed: NodeId): string | undefined {
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') return 'peer links need TLS';
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return 'no client certificate (peer links need a member certificate)';
    if (!socket.authorized) return `the client certificate is not signed by the peer CA (${String(socket.authorizationError)})`;
    const who = memberIdentityOf(cert.subjectaltname);
    if (!who) return 'the client certificate names no raftkit member (URI SAN raftkit://CLUSTER/node/ID)';
    if (who.cluster !== this.loaded.peer!.cluster) return `the client certificate belongs to cluster ${who.cluster}, not ${this.loaded.peer!.cluster}`;
    if (who.id !== claimed) return `the client certificate names node ${who.id}, not ${claimed}`;
    return undefined;
  }

  /** Options for this node's HTTPS calls to other nodes' APIs (forwarding, group creation, join): their CA. */
  apiClientCa(): Buffer | undefined {
    return this.loaded.api?.ca ?? (this.loaded.api ? undefined : this.loaded.peer?.ca);
  }
}
