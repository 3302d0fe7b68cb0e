// Waiting for keys to go, as etcd's concurrency package does: a waiter watches only the one key
// just ahead of it (the newest key under the prefix created before its own), so a release wakes
// one waiter, not all of them (no thundering herd).
import type { MetaBackend } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { prefixRange, watchRequest } from '../api/request-builders.js';

/** Resolves once `key` is deleted after `revision` (or was deleted and compacted away: the caller checks again). */
export function waitDelete(backend: MetaBackend, key: Buffer, revision: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new MetaError('canceled'));
    const onAbort = () => {
      handle.cancel();
      reject(new MetaError('canceled'));
    };
    const handle = backend.watch(watchRequest(key, { startRevision: revision + 1, filters: ['noput'] }), {
      send: (r) => {
        if (r.canceled || r.events.some((e) => e.type === 'delete')) {
          signal?.removeEventListener('abort', onAbort);
          if (!r.canceled) handle.cancel();
          resolve();
        }
        return true;
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves once no key under `prefix` has a create revision at or below `maxCreateRevision`. */
export async function waitDeletes(backend: MetaBackend, prefix: Buffer, maxCreateRevision: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const r = await backend.range(prefixRange(prefix, { maxCreateRevision, sortOrder: 'descend', sortTarget: 'create', limit: 1 }), signal ? { signal } : {});
    const ahead = r.kvs[0];
    if (!ahead) return;
    await waitDelete(backend, ahead.key, r.header.revision, signal);
  }
}
