// raftkit-sql processes on 127.0.0.1 for the SQL store's black-box tests: a KvCluster running
// the raftkit-sql bin with the group "sql", plus helpers for its rqlite API and its checksums.
import { fileURLToPath } from 'node:url';
import { KvCluster, eventually, type ClusterOptions, type Reply } from '../kv/kv-cluster.js';

/** The raftkit-sql bin, from test/dist/sql/. */
export const SQL_BIN = fileURLToPath(new URL('../../../packages/sql-demo/bin/raftkit-sql.js', import.meta.url));

/** Short raft timing so that a killed leader is replaced within about a second. */
export const FAST_TIMING = ['--heartbeat-ms', '50', '--election-ms', '300'];

export function sqlCluster(ids: number[] = [1, 2, 3], o: Omit<ClusterOptions, 'bin' | 'group'> = {}): KvCluster {
  return new KvCluster(ids, { ...o, bin: SQL_BIN, group: 'sql', extraArgs: [...FAST_TIMING, ...(o.extraArgs ?? [])] });
}

/** POST /db/{endpoint}?{query} with a JSON body (an array of statements). */
export function db(c: KvCluster, id: number, endpoint: 'execute' | 'query' | 'request', statements: unknown, query = ''): Promise<Reply> {
  return c.req(id, 'POST', `/db/${endpoint}${query ? `?${query}` : ''}`, { body: statements });
}

/** The checksum of node `id`'s database (its own copy). */
export async function checksumOf(c: KvCluster, id: number): Promise<{ checksum: string; tables: number; rows: number }> {
  const r = await c.query(id, 'checksum', {}, 'local');
  if (r.status !== 200) throw new Error(`checksum of node ${id} answered ${r.status}: ${r.text}`);
  return r.body.result;
}

/** Waits until every node in `ids` reports the same checksum; answers it. */
export async function converged(c: KvCluster, ids: number[], timeoutMs = 20_000): Promise<{ checksum: string; tables: number; rows: number }> {
  return eventually(
    async () => {
      const sums = await Promise.all(ids.map((id) => checksumOf(c, id)));
      return sums.every((s) => s.checksum === sums[0]!.checksum) ? sums[0] : undefined;
    },
    timeoutMs,
    `nodes ${ids.join(',')} to hold the same database`,
  );
}

/** Values of the first result of an rqlite answer. */
export function valuesOf(r: Reply, i = 0): unknown[][] {
  return r.body?.results?.[i]?.values ?? [];
}
