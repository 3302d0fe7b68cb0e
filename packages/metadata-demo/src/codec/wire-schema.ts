// Checks of the JSON forms (wire-types.ts) before anything reaches the log: each answers a
// message naming the bad field, or undefined. The machine's argument classes run them through
// class-validator constraints (nested ops cannot be described with decorators alone), so a bad
// request is refused by the proposing node with a 400 naming the field.
import { MAX_TXN_DEPTH } from '../store/request-rules.js';

export type Check = (v: unknown, path: string) => string | undefined;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT64 = /^-?(?:0|[1-9]\d{0,18})$/;
const UINT64 = /^(?:0|[1-9]\d{0,19})$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

export const isBase64 = (v: unknown): v is string => typeof v === 'string' && BASE64.test(v);
export const isInt64 = (v: unknown): v is string => typeof v === 'string' && INT64.test(v) && BigInt(v) >= INT64_MIN && BigInt(v) <= INT64_MAX;
export const isUint64 = (v: unknown): v is string => typeof v === 'string' && UINT64.test(v) && BigInt(v) <= UINT64_MAX;

export const bytes: Check = (v, p) => (isBase64(v) ? undefined : `${p} must be base64 bytes`);
export const int64: Check = (v, p) => (isInt64(v) ? undefined : `${p} must be a 64-bit integer as a decimal string`);
export const bool: Check = (v, p) => (typeof v === 'boolean' ? undefined : `${p} must be a boolean`);
export const count: Check = (v, p) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : `${p} must be an integer >= 0`);
export const oneOf =
  (values: readonly string[]): Check =>
  (v, p) =>
    typeof v === 'string' && values.includes(v) ? undefined : `${p} must be one of ${values.join(', ')}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object with these fields (the optional ones may be left out); others are refused. */
export function object(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, p) => {
    if (!isObject(v)) return `${p} must be an object`;
    for (const k of Object.keys(v)) if (!(k in required) && !(k in optional)) return `${p}.${k} is not a known field`;
    for (const [k, c] of Object.entries(required)) {
      if (v[k] === undefined) return `${p}.${k} is required`;
      const bad = c(v[k], `${p}.${k}`);
      if (bad) return bad;
    }
    for (const [k, c] of Object.entries(optional)) {
      if (v[k] === undefined) continue;
      const bad = c(v[k], `${p}.${k}`);
      if (bad) return bad;
    }
    return undefined;
  };
}

export function array(item: Check, maxLength = 1_000_000): Check {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p} must be an array`;
    if (v.length > maxLength) return `${p} has more than ${maxLength} items`;
    for (let i = 0; i < v.length; i++) {
      const bad = item(v[i], `${p}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  };
}

const RANGE_FIELDS = {
  rangeEnd: bytes,
  limit: count,
  revision: count,
  sortOrder: oneOf(['none', 'ascend', 'descend']),
  sortTarget: oneOf(['key', 'version', 'create', 'mod', 'value']),
  keysOnly: bool,
  countOnly: bool,
  minModRevision: count,
  maxModRevision: count,
  minCreateRevision: count,
  maxCreateRevision: count,
};
export const PUT_FIELDS = { value: bytes, lease: int64, prevKv: bool, ignoreValue: bool, ignoreLease: bool };
export const DELETE_FIELDS = { rangeEnd: bytes, prevKv: bool };

export const wireRange = object({ key: bytes }, RANGE_FIELDS);
export const wirePut = object({ key: bytes }, PUT_FIELDS);
export const wireDeleteRange = object({ key: bytes }, DELETE_FIELDS);
export const wireCompare = object(
  { key: bytes, result: oneOf(['equal', 'greater', 'less', 'not_equal']), target: oneOf(['version', 'create', 'mod', 'value', 'lease']) },
  { rangeEnd: bytes, version: count, createRevision: count, modRevision: count, value: bytes, lease: int64 },
);

/** One op of a txn: exactly one of range, put, deleteRange, txn. */
function wireOp(depth: number): Check {
  return (v, p) => {
    if (!isObject(v)) return `${p} must be an object`;
    const keys = Object.keys(v);
    if (keys.length !== 1) return `${p} must have exactly one of range, put, deleteRange, txn`;
    const k = keys[0]!;
    switch (k) {
      case 'range':
        return wireRange(v[k], `${p}.range`);
      case 'put':
        return wirePut(v[k], `${p}.put`);
      case 'deleteRange':
        return wireDeleteRange(v[k], `${p}.deleteRange`);
      case 'txn':
        return wireTxnAt(depth + 1)(v[k], `${p}.txn`);
      default:
        return `${p}.${k} is not a known operation`;
    }
  };
}

function wireTxnAt(depth: number): Check {
  return (v, p) => {
    if (depth > MAX_TXN_DEPTH) return `${p}: txns nested deeper than ${MAX_TXN_DEPTH}`;
    return object({}, { compare: array(wireCompare), success: array(wireOp(depth)), failure: array(wireOp(depth)) })(v, p);
  };
}

export const wireCompares = array(wireCompare);
export const wireOps = array(wireOp(0));
