import { Command, Query, Restore, Snapshot, StateMachine } from '@raftkit/framework/fsm';
import { CasArgs, KeyArgs, PutArgs, RangeArgs } from './kv-args.js';

interface Item {
  value: string;
  revision: number;
}

interface KvSnapshot {
  revision: number;
  items: [string, string, number][];
}

/**
 * The KV demo's replicated state machine (docs/api.md section 3). The store's revision grows
 * by one with each change; every key remembers the revision of its last change.
 */
@StateMachine('kv')
export class KvStore {
  private data = new Map<string, Item>();
  private revision = 0;

  @Command()
  put(a: PutArgs): { revision: number } {
    this.data.set(a.key, { value: a.value, revision: ++this.revision });
    return { revision: this.revision };
  }

  @Command()
  delete(a: KeyArgs): { deleted: boolean; revision: number } {
    if (!this.data.has(a.key)) return { deleted: false, revision: this.revision };
    this.data.delete(a.key);
    return { deleted: true, revision: ++this.revision };
  }

  @Command()
  cas(a: CasArgs): { succeeded: boolean; revision: number } {
    const current = this.data.get(a.key);
    const matches = a.expected === null ? current === undefined : current?.value === a.expected;
    if (!matches) return { succeeded: false, revision: this.revision };
    this.data.set(a.key, { value: a.value, revision: ++this.revision });
    return { succeeded: true, revision: this.revision };
  }

  @Query()
  get(a: KeyArgs): { value: string | null; revision: number } {
    const item = this.data.get(a.key);
    return { value: item?.value ?? null, revision: item?.revision ?? 0 };
  }

  @Query()
  range(a: RangeArgs): { items: { key: string; value: string; revision: number }[] } {
    const limit = a.limit ?? 1000;
    const keys: string[] = [];
    for (const key of this.data.keys()) if (key.startsWith(a.prefix)) keys.push(key);
    keys.sort();
    return {
      items: keys.slice(0, limit).map((key) => {
        const item = this.data.get(key)!;
        return { key, value: item.value, revision: item.revision };
      }),
    };
  }

  /** A flat copy: cheap to take at the applied index, serialised later. */
  @Snapshot()
  save(): KvSnapshot {
    const items: [string, string, number][] = [];
    for (const [key, item] of this.data) items.push([key, item.value, item.revision]);
    return { revision: this.revision, items };
  }

  @Restore()
  load(state: KvSnapshot): void {
    this.revision = state.revision;
    this.data = new Map(state.items.map(([key, value, revision]) => [key, { value, revision }]));
  }
}
