// The KV demo's state machine class (packages/kv-demo/src/kv-store.ts) as the client's tests see
// it: the same public methods and signatures, declared only. A client package cannot depend on
// the demo, and `machine<typeof KvMachine>()` reads nothing but the type.

export interface PutArgs {
  key: string;
  value: string;
}

export interface KeyArgs {
  key: string;
}

export interface CasArgs {
  key: string;
  /** The value the key must have for the swap to happen; null: the key must be absent. */
  expected: string | null;
  value: string;
}

export interface RangeArgs {
  prefix: string;
  limit?: number;
}

interface KvSnapshot {
  revision: number;
  items: [string, string, number][];
}

export declare class KvMachine {
  private data;
  put(a: PutArgs): { revision: number };
  delete(a: KeyArgs): { deleted: boolean; revision: number };
  cas(a: CasArgs): { succeeded: boolean; revision: number };
  get(a: KeyArgs): { value: string | null; revision: number };
  range(a: RangeArgs): { items: { key: string; value: string; revision: number }[] };
  /** The @Snapshot and @Restore hooks: public methods too, but not operations (the schema lists neither). */
  save(): KvSnapshot;
  load(state: KvSnapshot): void;
}
