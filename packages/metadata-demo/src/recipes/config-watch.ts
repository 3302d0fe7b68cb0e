// Configuration that follows the store: the keys under a prefix (or one key) read at a revision R,
// then every change from R + 1 on, so the application's copy is always exactly the store's state
// at some revision, and it never misses an update (a compacted watch is read again whole).
import type { MetaBackend } from '../api/meta-backend.js';
import { bytes, prefixEnd } from '../api/request-builders.js';
import { followRange } from './follow-range.js';

export interface ConfigView {
  /** Key (relative to the prefix) → value. */
  values: Map<string, string>;
  revision: number;
  /**
   * The keys that changed since the previous view. On the first view, and after a reset (the
   * watch's start was compacted away and the prefix was read again), every key of the new view
   * and every key of the previous one: the application rereads them all.
   */
  changed: string[];
}

/** Follows every key under `prefix`; returns a stop function. */
export function watchConfig(backend: MetaBackend, prefix: string, onChange: (view: ConfigView) => void): () => void {
  const start = bytes(prefix);
  const values = new Map<string, string>();
  const nameOf = (key: Buffer) => key.subarray(start.length).toString('utf8');
  return followRange(
    backend,
    { key: start, rangeEnd: prefixEnd(start) },
    {
      reset: (kvs, revision) => {
        // Every key now there, and every key the reset removed (deleted while the watch was down).
        const changed = new Set(values.keys());
        values.clear();
        for (const kv of kvs) values.set(nameOf(kv.key), kv.value.toString('utf8'));
        for (const k of values.keys()) changed.add(k);
        onChange({ values: new Map(values), revision, changed: [...changed] });
      },
      changes: (events, revision) => {
        const changed: string[] = [];
        for (const e of events) {
          const name = nameOf(e.kv.key);
          if (e.type === 'put') values.set(name, e.kv.value.toString('utf8'));
          else values.delete(name);
          changed.push(name);
        }
        onChange({ values: new Map(values), revision, changed });
      },
    },
  );
}
