// Leader election with etcd's concurrency.Election protocol and key layout (interoperates with
// `etcdctl elect` on the same name): each candidate puts `<name>/<lease in hex>` with its value;
// the oldest key leads. campaign() waits until this candidate leads, proclaim() changes the
// leader's value without an election, resign() steps down, leader() reads who leads, observe()
// follows the leader's value as it changes.
import type { KeyValue } from '../api/etcd-types.js';
import type { MetaBackend } from '../api/meta-backend.js';
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
   * proclaim); undefined while nobody leads. Returns a function that stops observing.
   */
  observe(onLeader: (leader: KeyValue | undefined) => void): () => void {
    let stopped = false;
    let cancel: (() => void) | undefined;
    const step = async (): Promise<void> => {
      while (!stopped) {
        const r = await this.backend.range(prefixRange(this.prefix, { sortOrder: 'ascend', sortTarget: 'create', limit: 1 }));
        const current = r.kvs[0];
        onLeader(current);
        // Until the next change under the prefix: a new candidate, a proclaim or the leader going.
        await new Promise<void>((resolve) => {
          const handle = this.backend.watch(watchRequest(this.prefix, { rangeEnd: prefixRange(this.prefix).rangeEnd, startRevision: r.header.revision + 1 }), {
            send: (w) => {
              const relevant = w.canceled || w.events.some((e) => !current || e.kv.key.equals(current.key) || (e.type === 'put' && e.kv.createRevision < current.createRevision));
              if (relevant) {
                if (!w.canceled) handle.cancel();
                resolve();
              }
              return true;
            },
          });
          cancel = () => {
            handle.cancel();
            resolve();
          };
        });
      }
    };
    void step().catch(() => undefined);
    return () => {
      stopped = true;
      cancel?.();
    };
  }
}
