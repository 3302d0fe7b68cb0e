// The recipes' test bed: the gRPC server over the fake backend, and MetaClients of it (one per
// simulated process, each with its own connection, as separate processes would have).
import { MetaClient } from '../../src/client/index.js';
import { startFakeGrpc, type GrpcHarness } from '../support/api-harness.js';

export interface RecipeBed {
  h: GrpcHarness;
  /** A new client of the server (closed by close()). */
  client(): MetaClient;
  close(): Promise<void>;
}

export async function startRecipeBed(): Promise<RecipeBed> {
  const h = await startFakeGrpc();
  const clients: MetaClient[] = [];
  return {
    h,
    client() {
      const c = new MetaClient({ endpoints: [`127.0.0.1:${h.port}`] });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await h.close();
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves `p`, or rejects after `ms` saying what did not happen. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p.finally(() => clearTimeout(timer)), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
}

/** Whether `p` is still pending after `ms`. */
export async function stillPending(p: Promise<unknown>, ms = 100): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return !settled;
}
