// A distributed lock with etcd's concurrency.Mutex protocol and key layout, so it excludes, and
// is excluded by, `etcdctl lock` and any etcd client's mutex on the same name. Each contender
// puts `<name>/<lease in hex>` bound to its session's lease; the oldest key (lowest create
// revision) holds the lock; the others each wait for the key just ahead of theirs. The holder's
// create revision is the fencing token: it only grows from one holder to the next, so a store
// guarded with a compare on it refuses a holder whose lock was lost (its lease expired) after a
// newer one took over.
import { MetaError } from '../api/meta-error.js';
import type { MetaBackend } from '../api/meta-backend.js';
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

export class Mutex {
  private readonly prefix: Buffer;
  private readonly myKey: Buffer;
  private held = 0;

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

  /** Waits until the lock is this session's; resolves with the fencing token. */
  async lock(signal?: AbortSignal): Promise<number> {
    const { myRev, ownerRev } = await this.enqueue();
    if (ownerRev === myRev) return (this.held = myRev);
    try {
      await waitDeletes(this.backend, this.prefix, myRev - 1, signal);
      // The wait may have outlived the session: then the key is gone and so is the claim.
      const mine = await this.backend.range(rangeRequest(this.myKey));
      if (mine.kvs.length === 0 || this.session.closed) throw new SessionExpiredError();
    } catch (e) {
      await this.release().catch(() => undefined);
      throw e;
    }
    return (this.held = myRev);
  }

  /** Takes the lock if nobody holds it, else throws LockedError (and leaves no key behind). */
  async tryLock(): Promise<number> {
    const { myRev, ownerRev } = await this.enqueue();
    if (ownerRev === myRev) return (this.held = myRev);
    await this.release();
    throw new LockedError(this.name);
  }

  async unlock(): Promise<void> {
    await this.release();
    this.held = 0;
  }

  /** Puts this session's key unless it is there, and reads the holder, in one revision. */
  private async enqueue(): Promise<{ myRev: number; ownerRev: number }> {
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
      const first = r.responses[0];
      const kv = first && 'range' in first ? first.range.kvs[0] : undefined;
      if (!kv) throw new MetaError('internal', 'the lock key vanished inside a transaction');
      myRev = kv.createRevision;
    }
    const second = r.responses[1];
    const ownerKv = second && 'range' in second ? second.range.kvs[0] : undefined;
    return { myRev, ownerRev: ownerKv ? ownerKv.createRevision : myRev };
  }

  private async release(): Promise<void> {
    await this.backend.deleteRange(deleteRequest(this.myKey));
  }
}
