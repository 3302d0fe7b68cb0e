// The part of rqlite-js (a JavaScript package without types) that the tests use.
declare module 'rqlite-js' {
  export interface DataResult {
    get(column: string): unknown;
    getLastInsertId(): number | undefined;
    getRowsAffected(): number;
    toObject(): Record<string, unknown>;
  }
  export interface DataResultError extends Error {
    name: 'DataResultError';
  }
  export interface DataResults {
    hasError(): boolean;
    getFirstError(): DataResultError | undefined;
    get(index: number): DataResult | DataResultError | undefined;
    getResults(): (DataResult | DataResultError)[];
    toArray(): Record<string, unknown>[];
  }
  export interface QueryOptions {
    level?: 'none' | 'weak' | 'linearizable' | 'strong';
    transaction?: boolean;
    timings?: boolean;
    pretty?: boolean;
    raw?: boolean;
  }
  export class DataApiClient {
    constructor(hosts: string | string[], options?: { exponentailBackoffBase?: number; authentication?: { username?: string; password?: string } });
    query(sql: string | unknown[], options?: QueryOptions): Promise<DataResults>;
    execute(sql: string | unknown[], options?: QueryOptions): Promise<DataResults>;
  }
  const rqlite: { DataApiClient: typeof DataApiClient };
  export default rqlite;
}
