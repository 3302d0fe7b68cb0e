// Plain grpc-js clients of etcd's services, built from this package's own proto files: for the
// tests that need what etcd3 hides (watch ids, progress responses, exact statuses, half-closes).
import { credentials, loadPackageDefinition, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { etcdDefinitions } from '../../src/wire/proto.js';

type Unary = (request: object, options: object, callback: (err: ServiceError | null, response: Record<string, unknown>) => void) => void;

export interface RawClients {
  kv: Client;
  watch: Client;
  lease: Client;
  cluster: Client;
  maintenance: Client;
  auth: Client;
  close(): void;
}

export function rawClients(port: number): RawClients {
  const root = loadPackageDefinition(etcdDefinitions()) as unknown as { etcdserverpb: Record<string, new (address: string, creds: unknown) => Client> };
  const make = (name: string) => new root.etcdserverpb[name]!(`127.0.0.1:${port}`, credentials.createInsecure());
  const clients = { kv: make('KV'), watch: make('Watch'), lease: make('Lease'), cluster: make('Cluster'), maintenance: make('Maintenance'), auth: make('Auth') };
  return {
    ...clients,
    close() {
      for (const c of Object.values(clients)) c.close();
    },
  };
}

/** Calls a unary method; resolves the response or rejects the ServiceError. */
export function call(client: Client, method: string, request: object, options: object = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
    fn(request, options, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

/** Rejects with the gRPC status and message of a failed call. */
export async function callError(client: Client, method: string, request: object, options: object = {}): Promise<{ code: number; details: string }> {
  try {
    await call(client, method, request, options);
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error(`${method} succeeded; a failure was expected`);
}

/** A bidi stream with a queue of what it received. */
export interface RawStream {
  stream: ClientDuplexStream<object, Record<string, unknown>>;
  /** The next response (waits up to timeoutMs). */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves the final status of the call. */
  status: Promise<{ code: number; details: string }>;
  /** Responses received and not yet taken. */
  pending(): Record<string, unknown>[];
}

export function openStream(client: Client, method: string): RawStream {
  const stream = (client as unknown as Record<string, () => ClientDuplexStream<object, Record<string, unknown>>>)[method]!.call(client);
  const queue: Record<string, unknown>[] = [];
  const waiters: ((r: Record<string, unknown>) => void)[] = [];
  stream.on('data', (r: Record<string, unknown>) => {
    const w = waiters.shift();
    if (w) w(r);
    else queue.push(r);
  });
  const status = new Promise<{ code: number; details: string }>((resolve) => {
    stream.on('status', (s: { code: number; details: string }) => resolve({ code: s.code, details: s.details }));
  });
  stream.on('error', () => {});
  return {
    stream,
    status,
    pending: () => queue,
    next(timeoutMs = 5_000) {
      const r = queue.shift();
      if (r) return Promise.resolve(r);
      return new Promise((resolve, reject) => {
        const waiter = (x: Record<string, unknown>) => {
          clearTimeout(t);
          resolve(x);
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no response on ${method} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}
