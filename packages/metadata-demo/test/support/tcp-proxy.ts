// A TCP proxy on 127.0.0.1 in front of a server, for the client tests that need a connection to
// break at a chosen moment (after a request was sent, under an open stream): cut() destroys every
// connection through it; refuse() also stops accepting new ones (as a dead process would).
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Bytes that went from clients to the server so far. */
  readonly bytesUp: number;
  /** Destroys every open connection (both sides). */
  cut(): void;
  /** Stops listening and cuts: new connections are refused. */
  refuse(): Promise<void>;
  /** Listens again on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let bytesUp = 0;
  const onConnection = (client: Socket) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d: Buffer) => {
      bytesUp += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  };
  let server: Server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const cut = () => {
    for (const s of [...sockets]) s.destroy();
    sockets.clear();
  };
  return {
    port,
    get bytesUp() {
      return bytesUp;
    },
    cut,
    async refuse() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        cut();
      });
    },
    async accept() {
      server = createServer(onConnection);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
