// The client's endpoints: one grpc-js channel each (opened on first use), the one calls go to,
// and the move to the next one when it fails. A channel whose connection failed stays in
// TRANSIENT_FAILURE (grpc-js reconnects in the background, with a backoff capped at 1 s here),
// so a dead endpoint is passed over at once until it is back.
import { Client, connectivityState, credentials, type ChannelOptions } from '@grpc/grpc-js';

export interface ChannelSettings {
  /** Interval of HTTP/2 pings on an open connection; a peer that misses one for keepAliveTimeoutMs is dropped. */
  keepAliveTimeMs: number;
  keepAliveTimeoutMs: number;
}

/** "host:port", "http://host:port" or "dns:host:port" into the target grpc-js takes. */
export function parseEndpoint(e: string): string {
  const s = e.trim();
  if (s.startsWith('https://') || s.startsWith('unixs://')) throw new Error(`raftkit-meta client: TLS endpoints are not supported: ${e}`);
  const bare = s.replace(/^http:\/\//, '').replace(/\/+$/, '');
  if (bare === '' || bare.includes('/')) throw new Error(`raftkit-meta client: not an endpoint (host:port): ${e}`);
  return bare;
}

export class Endpoints {
  private readonly clients: (Client | undefined)[];
  private currentIndex = 0;
  private closed = false;

  constructor(
    readonly addresses: readonly string[],
    private readonly settings: ChannelSettings,
  ) {
    if (addresses.length === 0) throw new Error('raftkit-meta client: no endpoints');
    this.clients = addresses.map(() => undefined);
  }

  /** The endpoint calls go to now. */
  get current(): number {
    return this.currentIndex;
  }

  get size(): number {
    return this.addresses.length;
  }

  client(i: number): Client {
    if (this.closed) throw new Error('raftkit-meta client: closed');
    let c = this.clients[i];
    if (!c) {
      const options: ChannelOptions = {
        'grpc.keepalive_time_ms': this.settings.keepAliveTimeMs,
        'grpc.keepalive_timeout_ms': this.settings.keepAliveTimeoutMs,
        'grpc.keepalive_permit_without_calls': 1,
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.max_receive_message_length': -1,
        // Channels of different clients in one process do not share connections.
        'grpc.use_local_subchannel_pool': 1,
      };
      c = new Client(this.addresses[i]!, credentials.createInsecure(), options);
      this.clients[i] = c;
    }
    return c;
  }

  /** After a failure on endpoint `i`: the next one becomes current (unless another call moved on already). */
  failover(i: number): void {
    if (this.currentIndex === i) this.currentIndex = (i + 1) % this.addresses.length;
  }

  /**
   * Whether endpoint `i` has a connection, waiting up to `timeoutMs` while it connects. False at
   * once when its last connection attempt failed: nothing sent there can arrive.
   */
  ready(i: number, timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const channel = this.client(i).getChannel();
    const deadline = Date.now() + Math.max(0, timeoutMs);
    return new Promise((resolve) => {
      const check = (): void => {
        const state = channel.getConnectivityState(true);
        if (state === connectivityState.READY) return resolve(true);
        if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN || Date.now() >= deadline) return resolve(false);
        channel.watchConnectivityState(state, deadline, (err) => (err ? resolve(channel.getConnectivityState(false) === connectivityState.READY) : check()));
      };
      check();
    });
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients) c?.close();
  }
}
