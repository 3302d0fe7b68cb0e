// Leader election with etcd's concurrency.Election protocol and key layout (interoperates with
// `etcdctl elect` on the same name): each candidate puts `<name>/<lease in hex>` with its value;
// the oldest key leads. campaign() waits until this candidate leads, proclaim() changes the
// leader's value without an election, resign() steps down, leader() reads who leads, observe()
// follows the leader's value as it changes.
import type { KeyValue } from '../api/etcd-types.js';
import type { MetaBackend, WatchHandle } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { bytes, compare, deleteRequest, prefixRange, putRequest, rangeRequest, txnRequest, watchRequest } from '../api/request-builders.js';
import type { Session } from './session.js';
import { waitDeletes } from './wait-deletes.js';

export class NotLeaderError extends Error {
  constructor(name: string) {
    super(`this candidate does not lead election "${name}"`);
    this.name = 'NotLeaderError';
  }
}

export class Election {
  private readonly prefix: Buffer;
  private leaderKey: Buffer | undefined;
  private leaderRev = 0;

  constructor(
    private readonly backend: MetaBackend,
    private readonly session: Session,
    readonly name: string,
  ) {
    this.prefix = bytes(`${name}/`);
  }

  /** This candidate's key while it campaigns or leads. */
  get key(): string | undefined {
    return this.leaderKey?.toString('utf8');
  }

  /** The create revision of this candidate's key: grows from one leader to the next. */
  get revision(): number {
    return this.leaderRev;
  }

  /** Waits until this candidate leads, with `value` as the leader's value. */
  async campaign(value: string | Uint8Array, signal?: AbortSignal): Promise<void> {
    const key = bytes(`${this.name}/${this.session.lease.toString(16)}`);
    const r = await this.backend.txn(
      txnRequest({
        compare: [compare(key, 'equal', { createRevision: 0 })],
        success: [{ put: putRequest(key, value, { lease: this.session.lease }) }],
        failure: [{ range: rangeRequest(key) }],
      }),
    );
    this.leaderKey = key;
    this.leaderRev = r.header.revision;
    if (!r.succeeded) {
      const first = r.responses[0];
      const kv = first && 'range' in first ? first.range.kvs[0] : undefined;
      if (!kv) throw new MetaError('internal', 'the campaign key vanished inside a transaction');
      this.leaderRev = kv.createRevision;
      if (!kv.value.equals(bytes(value))) await this.proclaim(value);
    }
    try {
      await waitDeletes(this.backend, this.prefix, this.leaderRev - 1, signal);
      // The wait may have outlived the session (etcd's Campaign does not look): then the key is
      // gone and this candidate does not lead.
      const mine = await this.backend.range(rangeRequest(key));
      if (mine.kvs[0]?.createRevision !== this.leaderRev || this.session.closed) throw new NotLeaderError(this.name);
    } catch (e) {
      await this.resign().catch(() => undefined);
      throw e;
    }
  }

  /** Sets the leader's value; NotLeaderError when this candidate does not lead any more. */
  async proclaim(value: string | Uint8Array): Promise<void> {
    const key = this.leaderKey;
    if (!key) throw new NotLeaderError(this.name);
    const r = await this.backend.txn(
      txnRequest({
        compare: [compare(key, 'equal', { createRevision: this.leaderRev })],
        success: [{ put: putRequest(key, value, { lease: this.session.lease }) }],
      }),
    );
    if (!r.succeeded) {
      this.leaderKey = undefined;
      throw new NotLeaderError(this.name);
    }
  }

  /** Steps down (or stops campaigning): the next candidate leads. */
  async resign(): Promise<void> {
    const key = this.leaderKey;
    if (!key) return;
    await this.backend.txn(txnRequest({ compare: [compare(key, 'equal', { createRevision: this.leaderRev })], success: [{ deleteRange: deleteRequest(key) }] }));
    this.leaderKey = undefined;
    this.leaderRev = 0;
  }

  /** The current leader's key-value, or undefined when nobody leads. */
  async leader(): Promise<KeyValue | undefined> {
    const r = await this.backend.range(prefixRange(this.prefix, { sortOrder: 'ascend', sortTarget: 'create', limit: 1 }));
    return r.kvs[0];
  }

  /**
   * Calls `onLeader` with the leader's key-value now and whenever it changes (a new leader or a
   * proclaim); undefined while nobody leads. Failed reads are retried; a closed backend (MetaError
   * 'canceled') ends the observation. Returns a function that stops observing.
   */
  observe(onLeader: (leader: KeyValue | undefined) => void, o: { retryMs?: number } = {}): () => void {
    let stopped = false;
    let cancel: (() => void) | undefined;
    let last: KeyValue | undefined;
    let first = true;
    const retryMs = o.retryMs ?? 500;
    const rangeEnd = prefixRange(this.prefix).rangeEnd;

    /** Resolves at the next change under the prefix that can change the leader (or when the watch ends). */
    const nextChange = (current: KeyValue | undefined, revision: number) =>
      new Promise<void>((resolve) => {
        let handle: WatchHandle | undefined;
        let over = false;
        const end = () => {
          if (over) return;
          over = true;
          cancel = undefined;
          handle?.cancel();
          resolve();
        };
        handle = this.backend.watch(watchRequest(this.prefix, { rangeEnd, startRevision: revision + 1 }), {
          send: (w) => {
            // The leader's key changed (a proclaim) or went, or a key appeared while nobody led.
            if (w.canceled || w.events.some((e) => !current || e.kv.key.equals(current.key))) end();
            return true;
          },
        });
        if (over) handle.cancel();
        else cancel = end;
      });

    const step = async (): Promise<void> => {
      while (!stopped) {
        let r;
        try {
          r = await this.backend.range(prefixRange(this.prefix, { sortOrder: 'ascend', sortTarget: 'create', limit: 1 }));
        } catch (e) {
          if (e instanceof MetaError && e.code === 'canceled') return;
          await new Promise((resolve) => setTimeout(resolve, retryMs));
          continue;
        }
        if (stopped) return;
        const current = r.kvs[0];
        const same = current && last ? current.key.equals(last.key) && current.modRevision === last.modRevision : current === last;
        if (first || !same) {
          try {
            onLeader(current);
          } catch {
            // The observer's own failure does not end the observation.
          }
        }
        first = false;
        last = current;
        try {
          await nextChange(current, r.header.revision);
        } catch (e) {
          if (e instanceof MetaError && e.code === 'canceled') return;
          await new Promise((resolve) => setTimeout(resolve, retryMs));
        }
      }
    };
    void step().catch(() => undefined);
    return () => {
      stopped = true;
      cancel?.();
    };
  }
}
