export { KvStore } from './kv-store.js';
export { PutArgs, KeyArgs, CasArgs, RangeArgs } from './kv-args.js';
