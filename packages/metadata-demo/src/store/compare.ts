// etcd's compareKV: one key's state against one compare of a txn.
import type { Compare, KeyValue } from '../api/etcd-types.js';

function sign(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareKv(c: Compare, kv: KeyValue): boolean {
  let r: number;
  switch (c.target) {
    case 'value':
      r = Buffer.compare(kv.value, c.value);
      break;
    case 'version':
      r = sign(kv.version, c.version);
      break;
    case 'create':
      r = sign(kv.createRevision, c.createRevision);
      break;
    case 'mod':
      r = sign(kv.modRevision, c.modRevision);
      break;
    case 'lease':
      r = sign(kv.lease, c.lease);
      break;
  }
  switch (c.result) {
    case 'equal':
      return r === 0;
    case 'not_equal':
      return r !== 0;
    case 'greater':
      return r > 0;
    case 'less':
      return r < 0;
  }
}
