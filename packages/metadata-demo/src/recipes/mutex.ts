// A distributed lock with etcd's concurrency.Mutex protocol and key layout, so it excludes, and
// is excluded by, `etcdctl lock` and any etcd client's mutex on the same name. Each contender
// puts `<name>/<lease in hex>` bound to its session's lease; the oldest key (lowest create
// revision) holds the lock; the others each wait for the key just ahead of theirs. The holder's
// create revision is the fencing token: it only grows from one holder to the next.
//
// A holder can lose the lock without knowing (its process paused past the session's TTL: the
// lease expired, the key went, the next contender took over). Two guards for what it writes:
// - isOwner(): a compare that holds only while this hold's key still exists (etcd's
//   Mutex.IsOwner); a txn with it is refused once the lock has passed on. Writes to this store
//   should carry it.
// - the token: a resource elsewhere that remembers the highest token it has seen refuses a lower
//   one (a fencing token); with the token stored as a fixed-width decimal string (tokenString) a
//   txn can compare it byte-wise here too.
import type { Compare } from '../api/etcd-types.js';
import type { MetaBackend } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { bytes, compare, deleteRequest, prefixRange, putRequest, rangeRequest, txnRequest } from '../api/request-builders.js';
import type { Session } from './session.js';
import { waitDeletes } from './wait-deletes.js';

export class LockedError extends Error {
  constructor(name: string) {
    super(`mutex "${name}" is held by another session`);
    this.name = 'LockedError';
  }
}

export class SessionExpiredError extends Error {
  constructor() {
    super('the session expired while waiting for the lock');
    this.name = 'SessionExpiredError';
  }
}

/** A fencing token as a fixed-width decimal string (20 digits: any int64), so byte order is numeric order. */
export function tokenString(token: number | bigint): string {
  return BigInt(token).toString().padStart(20, '0');
}

export class Mutex {
  private readonly prefix: Buffer;
  private readonly myKey: Buffer;
  private held = 0;
  private confirmedAt = 0;

  constructor(
    private readonly backend: MetaBackend,
    private readonly session: Session,
    readonly name: string,
  ) {
    this.prefix = bytes(`${name}/`);
    this.myKey = bytes(`${name}/${session.lease.toString(16)}`);
  }

  /** The key this contender holds (or waits with). */
  get key(): string {
    return this.myKey.toString('utf8');
  }

  /** The fencing token of the current hold: the lock key's create revision (0 when not held). */
  get token(): number {
    return this.held;
  }

  /** The store revision at which the current hold was confirmed (every older key was gone by then); 0 when not held. */
  get heldSince(): number {
    return this.confirmedAt;
  }

  /**
   * A compare that holds while this hold's key exists (etcd's IsOwner): put it in a txn so the
   * txn applies only while this session still holds the lock.
   */
  isOwner(): Compare {
    if (this.held === 0) throw new MetaError('invalid_argument', `mutex "${this.name}" is not held`);
    return compare(this.myKey, 'equal', { createRevision: this.held });
  }

  /** Waits until the lock is this session's; resolves with the fencing token. */
  async lock(signal?: AbortSignal): Promise<number> {
    const { myRev, ownerRev, revision } = await this.enqueue();
    if (ownerRev === myRev) return this.hold(myRev, revision);
    try {
      await waitDeletes(this.backend, this.prefix, myRev - 1, signal);
      // The wait may have outlived the session: then the key is gone and so is the claim.
      const mine = await this.backend.range(rangeRequest(this.myKey));
      if (mine.kvs[0]?.createRevision !== myRev || this.session.closed) throw new SessionExpiredError();
      return this.hold(myRev, mine.header.revision);
    } catch (e) {
      await this.release().catch(() => undefined);
      throw e;
    }
  }

  /** Takes the lock if nobody holds it, else throws LockedError (and leaves no key behind). */
  async tryLock(): Promise<number> {
    const { myRev, ownerRev, revision } = await this.enqueue();
    if (ownerRev === myRev) return this.hold(myRev, revision);
    await this.release();
    throw new LockedError(this.name);
  }

  /**
   * Releases the lock (or leaves the queue). Resolves true when the key was still there, false
   * when it was gone already: the session expired (and the lock may have passed on) or it was
   * deleted by someone else.
   */
  async unlock(): Promise<boolean> {
    const deleted = await this.release();
    this.held = 0;
    this.confirmedAt = 0;
    return deleted > 0;
  }

  private hold(token: number, revision: number): number {
    this.held = token;
    this.confirmedAt = revision;
    return token;
  }

  /** Puts this session's key unless it is there, and reads the holder, in one revision. */
  private async enqueue(): Promise<{ myRev: number; ownerRev: number; revision: number }> {
    if (this.session.closed) throw new SessionExpiredError();
    const owner = { range: prefixRange(this.prefix, { sortOrder: 'ascend', sortTarget: 'create', limit: 1 }) } as const;
    const r = await this.backend.txn(
      txnRequest({
        compare: [compare(this.myKey, 'equal', { createRevision: 0 })],
        success: [{ put: putRequest(this.myKey, '', { lease: this.session.lease }) }, owner],
        failure: [{ range: rangeRequest(this.myKey) }, owner],
      }),
    );
    let myRev = r.header.revision;
    if (!r.succeeded) {
      // This session's key is there already (it holds or waits, or a lost answer put it): reuse it.
      const first = r.responses[0];
      const kv = first && 'range' in first ? first.range.kvs[0] : undefined;
      if (!kv) throw new MetaError('internal', 'the lock key vanished inside a transaction');
      myRev = kv.createRevision;
    }
    const second = r.responses[1];
    const ownerKv = second && 'range' in second ? second.range.kvs[0] : undefined;
    return { myRev, ownerRev: ownerKv ? ownerKv.createRevision : myRev, revision: r.header.revision };
  }

  private async release(): Promise<number> {
    return (await this.backend.deleteRange(deleteRequest(this.myKey))).deleted;
  }
}
