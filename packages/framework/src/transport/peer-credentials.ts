// Peer identity without TLS: a node proves the id it dials as, instead of declaring it.
//
// Each member's key is derived from the cluster secret and its node id
// (memberKey = HMAC-SHA256(secret, "raftkit-peer-v1:" + id)); a dial carries a fresh nonce, the
// time, and proof = HMAC-SHA256(memberKey, "from\nto\nnonce\ntime"). The acceptor recomputes the
// proof for the id claimed and compares in constant time, refuses a time more than five minutes
// off, and remembers nonces for the window, so a captured handshake cannot be replayed and the
// secret itself never crosses the wire. During a token rotation several secrets are accepted
// (--accept-token); dials are signed with the current one.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../core/types.js';

export const HEADER_NONCE = 'x-raftkit-nonce';
export const HEADER_TIME = 'x-raftkit-time';
export const HEADER_PROOF = 'x-raftkit-proof';

/** How far a dial's clock may be from ours, and how long its nonce is remembered. */
export const PROOF_WINDOW_MS = 5 * 60_000;
/** Nonces remembered at most (a flood of valid handshakes beyond it is refused until some expire). */
const MAX_NONCES = 100_000;

function memberKey(secret: string, id: NodeId): Buffer {
  return createHmac('sha256', secret).update(`raftkit-peer-v1:${id}`).digest();
}

function proofOf(key: Buffer, from: NodeId, to: NodeId | undefined, nonce: string, time: string): Buffer {
  return createHmac('sha256', key)
    .update(`${from}\n${to ?? ''}\n${nonce}\n${time}`)
    .digest();
}

/** The headers that prove `from`'s identity to `to` with `secret`. */
export function peerProofHeaders(secret: string, from: NodeId, to: NodeId | undefined, now = Date.now()): Record<string, string> {
  const nonce = randomBytes(16).toString('hex');
  const time = String(now);
  return { [HEADER_NONCE]: nonce, [HEADER_TIME]: time, [HEADER_PROOF]: proofOf(memberKey(secret, from), from, to, nonce, time).toString('hex') };
}

export type ProofVerdict = { ok: true } | { ok: false; reason: string };

/** Checks dial proofs against the accepted secrets, with a replay cache. */
export class PeerProofChecker {
  private readonly keys = new Map<string, Buffer>();
  private readonly nonces = new Map<string, number>();

  constructor(private readonly secrets: readonly string[]) {}

  private key(secret: string, index: number, id: NodeId): Buffer {
    const k = `${index}:${id}`;
    let key = this.keys.get(k);
    if (!key) {
      if (this.keys.size > 10_000) this.keys.clear();
      key = memberKey(secret, id);
      this.keys.set(k, key);
    }
    return key;
  }

  check(headers: Record<string, string | string[] | undefined>, from: NodeId, to: NodeId | undefined, now = Date.now()): ProofVerdict {
    const nonce = headers[HEADER_NONCE];
    const time = headers[HEADER_TIME];
    const proof = headers[HEADER_PROOF];
    if (typeof nonce !== 'string' || typeof time !== 'string' || typeof proof !== 'string')
      return { ok: false, reason: 'missing peer proof (x-raftkit-nonce, x-raftkit-time, x-raftkit-proof)' };
    if (!/^[0-9a-f]{32}$/.test(nonce) || !/^[0-9]{1,16}$/.test(time) || !/^[0-9a-f]{64}$/.test(proof)) return { ok: false, reason: 'malformed peer proof' };
    if (Math.abs(now - Number(time)) > PROOF_WINDOW_MS) return { ok: false, reason: 'peer proof time is more than 5 minutes off (check the clocks)' };
    const given = Buffer.from(proof, 'hex');
    const valid = this.secrets.some((secret, i) => timingSafeEqual(proofOf(this.key(secret, i, from), from, to, nonce, time), given));
    if (!valid) return { ok: false, reason: `wrong peer proof for node ${from}` };
    this.expireNonces(now);
    if (this.nonces.has(nonce)) return { ok: false, reason: 'replayed peer proof' };
    if (this.nonces.size >= MAX_NONCES) return { ok: false, reason: 'too many recent handshakes' };
    this.nonces.set(nonce, now + 2 * PROOF_WINDOW_MS);
    return { ok: true };
  }

  private expireNonces(now: number): void {
    // Insertion order is expiry order: stop at the first one still live.
    for (const [nonce, expires] of this.nonces) {
      if (expires > now) return;
      this.nonces.delete(nonce);
    }
  }
}
