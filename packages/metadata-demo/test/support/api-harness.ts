// Starts the gRPC server or the JSON gateway on 127.0.0.1 over a fresh FakeBackend, for the
// protocol tests; close() stops the server and the fake.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clusterSecret, type ExtraRoutes, type NodeRaftService } from '@raftkit/framework/server';
import { PeerClient } from '@raftkit/framework/api';
import { EtcdAuth } from '../../src/api/etcd-auth.js';
import { metaGatewayRoutes } from '../../src/gateway/index.js';
import { startGrpcServer, type GrpcServerHandle, type MetaApiLimits } from '../../src/grpc/index.js';
import { FakeBackend } from '../fakes/fake-backend.js';
import { recordingLogger, type RecordingLogger } from './recording-logger.js';

export interface GrpcHarness {
  backend: FakeBackend;
  server: GrpcServerHandle;
  port: number;
  logger: RecordingLogger;
  close(): Promise<void>;
}

/** `secret`: the cluster token (and tokens accepted in a rotation) that turns etcd authentication on. */
export async function startFakeGrpc(limits?: Partial<MetaApiLimits>, secret?: { token: string; acceptTokens?: string[] }): Promise<GrpcHarness> {
  const backend = new FakeBackend();
  const logger = recordingLogger();
  const auth = secret ? { auth: new EtcdAuth(clusterSecret(secret.token, secret.acceptTokens)) } : {};
  const server = await startGrpcServer({ backend, listen: '127.0.0.1:0', logger, ...(limits ? { limits } : {}), ...auth });
  return {
    backend,
    server,
    port: server.port,
    logger,
    async close() {
      await server.close();
      backend.close();
    },
  };
}

export interface GatewayHarness {
  backend: FakeBackend;
  url: string;
  logger: RecordingLogger;
  routes: ExtraRoutes;
  /** POSTs `body` (a string as is, anything else as JSON) to the gateway. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; contentType: string | null; text: string; json: unknown }>;
  close(): Promise<void>;
}

export async function startFakeGateway(o: { token?: string; acceptTokens?: string[]; limits?: Partial<MetaApiLimits> } = {}): Promise<GatewayHarness> {
  const backend = new FakeBackend();
  const logger = recordingLogger();
  // The gateway does not use the raft service; the routes take the context runRaftServer gives.
  const routes = metaGatewayRoutes({ backend, ...(o.limits ? { limits: o.limits } : {}) })({
    service: undefined as unknown as NodeRaftService,
    token: o.token,
    secret: clusterSecret(o.token, o.acceptTokens),
    peers: new PeerClient(),
    apiTls: undefined,
    logger,
  });
  const server: Server = createServer((req, res) => {
    if (!routes.onRequest(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not the gateway');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    backend,
    url,
    logger,
    routes,
    async post(path, body, headers = {}) {
      const res = await fetch(url + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, contentType: res.headers.get('content-type'), text, json };
    },
    async close() {
      await routes.close?.();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      backend.close();
    },
  };
}
