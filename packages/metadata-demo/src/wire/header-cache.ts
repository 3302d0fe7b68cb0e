// The freshest response header seen, for the few answers the backend does not make: a watch
// stream's cancel confirmations and refused creates, and the Auth service's replies. etcd fills
// these with the store's current header; any header already sent is a revision the store had.
import type { WireResponseHeader } from './wire-types.js';

const ZERO: WireResponseHeader = { cluster_id: '0', member_id: '0', revision: '0', raft_term: '0' };

export class HeaderCache {
  private latest: WireResponseHeader = ZERO;

  note(h: WireResponseHeader | null | undefined): void {
    // Headers without a revision (member list, a compacted watch's cancel) say nothing new.
    if (!h || h.revision === '0') return;
    if (this.latest === ZERO || BigInt(h.revision) >= BigInt(this.latest.revision)) this.latest = h;
  }

  get(): WireResponseHeader {
    return this.latest;
  }
}
