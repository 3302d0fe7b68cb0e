// The KV demo's API (docs/api.md section 3) as a client-side declaration.
export interface KvApi {
  commands: {
    put: { args: { key: string; value: string }; result: { revision: number } };
    delete: { args: { key: string }; result: { deleted: boolean; revision: number } };
    cas: { args: { key: string; expected: string | null; value: string }; result: { succeeded: boolean; revision: number } };
  };
  queries: {
    get: { args: { key: string }; result: { value: string | null; revision: number } };
    range: { args: { prefix: string; limit?: number }; result: { items: { key: string; value: string; revision: number }[] } };
  };
}
