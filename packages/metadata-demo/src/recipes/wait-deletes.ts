// Waiting for keys to go, as etcd's concurrency package does: a waiter watches only the one key
// just ahead of it (the newest key under the prefix created before its own), so a release wakes
// one waiter, not all of them (no thundering herd).
import type { MetaBackend, WatchHandle } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { prefixRange, watchRequest } from '../api/request-builders.js';

/**
 * Resolves once `key` is deleted after `revision`, or when its watch was cancelled for a
 * compaction (the caller reads again). Rejects MetaError 'canceled' when `signal` aborts or the
 * watch ended for another reason (the client closed).
 */
export function waitDelete(backend: MetaBackend, key: Buffer, revision: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new MetaError('canceled'));
    let handle: WatchHandle | undefined;
    let settled = false;
    const settle = (error?: MetaError): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      handle?.cancel();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => settle(new MetaError('canceled'));
    // The backend may answer inside watch() (an in-process node replaying history): `handle` is
    // then still unset, and the watch is cancelled just below.
    handle = backend.watch(watchRequest(key, { startRevision: revision + 1, filters: ['noput'] }), {
      send: (r) => {
        if (r.canceled)
          settle(r.compactRevision > 0 ? undefined : new MetaError('canceled', `etcdserver: request cancelled (the watch ended: ${r.cancelReason || 'no reason given'})`));
        else if (r.events.some((e) => e.type === 'delete')) settle();
        return true;
      },
    });
    if (settled) handle.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves once no key under `prefix` has a create revision at or below `maxCreateRevision`. */
export async function waitDeletes(backend: MetaBackend, prefix: Buffer, maxCreateRevision: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    if (signal?.aborted) throw new MetaError('canceled');
    const r = await backend.range(prefixRange(prefix, { maxCreateRevision, sortOrder: 'descend', sortTarget: 'create', limit: 1 }), signal ? { signal } : {});
    const ahead = r.kvs[0];
    if (!ahead) return;
    await waitDelete(backend, ahead.key, r.header.revision, signal);
  }
}
