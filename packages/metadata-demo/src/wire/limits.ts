// The request limits etcd enforces in front of its store, with etcd's defaults.

export interface MetaApiLimits {
  /**
   * The largest write request (etcd's --max-request-bytes, 1.5 MiB): a larger put, delete, txn,
   * compaction or lease grant/revoke is refused with "etcdserver: request is too large".
   */
  maxRequestBytes: number;
  /** Most compares, success ops or failure ops in one txn (etcd's --max-txn-ops, 128). */
  maxTxnOps: number;
}

export const DEFAULT_LIMITS: MetaApiLimits = { maxRequestBytes: 1.5 * 1024 * 1024, maxTxnOps: 128 };

/**
 * What etcd lets gRPC receive beyond maxRequestBytes (its grpcOverheadBytes): a message larger
 * than both is refused by the transport itself with RESOURCE_EXHAUSTED.
 */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export function resolveLimits(given: Partial<MetaApiLimits> | undefined): MetaApiLimits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  for (const [name, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`limits.${name} must be a positive integer, got ${String(v)}`);
  }
  return limits;
}
