// The remote state machine types of one node (`--remote-machine NAME@VERSION`): the registry
// entries that make their groups' machines, the WebSocket route where the machines connect
// (GET /v1/groups/{group}/machine), the handshake, and their status and metrics.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Counter, Gauge, type Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerTokenCheck } from '../common/bearer-token.js';
import { RaftkitError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { refuseOnSocket } from '../common/raw-http.js';
import type { ExternalMachineType } from '../fsm/state-machine-registry.js';
import { MachineLink } from './machine-link.js';
import { parseHello, type HelloMessage } from './remote-protocol.js';
import { RemoteMachine, type RemoteMachineStatus } from './remote-machine.js';

/** A remote state machine type: the name its machines declare and the version this node runs. */
export interface RemoteMachineSpec {
  name: string;
  version: number;
}

export interface RemoteMachinesOptions {
  types: RemoteMachineSpec[];
  nodeId: number;
  token?: string | undefined;
  /** Tokens also accepted during a rotation (--accept-token). */
  acceptTokens?: readonly string[];
  /** How long a machine may take to answer one request before it is marked failed (default 5000). */
  timeoutMs?: number;
  logger: Logger;
}

const ROUTE = /^\/v1\/groups\/([^/?]+)\/machine(?:\?.*)?$/;
const STATUS_OF: Record<string, number> = { bad_request: 400, unauthorized: 401, unknown_group: 404, not_found: 404, unavailable: 503 };

export class RemoteMachines {
  private readonly machines = new Map<string, RemoteMachine>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 << 20, clientTracking: true });
  private readonly checkToken: ReturnType<typeof bearerTokenCheck>;
  private readonly timeoutMs: number;
  private failures: Counter | undefined;
  private closed = false;
  /** Set once the node has recovered its groups: until then an unknown group may still come. */
  private started = false;

  constructor(private readonly o: RemoteMachinesOptions) {
    this.checkToken = bearerTokenCheck(o.token, o.acceptTokens);
    this.timeoutMs = o.timeoutMs ?? 5000;
  }

  /** Registers the machines' metrics (on the host's registry, which /metrics serves). */
  useMetrics(registry: Registry): void {
    const machines = this.machines;
    new Gauge({
      name: 'raftkit_remote_machine_up',
      help: "Whether the group's remote state machine is connected (1) or waiting/failed (0)",
      labelNames: ['group', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [group, m] of machines) this.set({ group, state: m.status().state }, m.connected ? 1 : 0);
      },
    });
    this.failures = new Counter({
      name: 'raftkit_remote_machine_failures_total',
      help: 'Remote state machines marked failed: no answer in time, or a protocol error',
      labelNames: ['group'],
      registers: [registry],
    });
  }

  /** The registry entries of the remote types. */
  types(): ExternalMachineType[] {
    return this.o.types.map((spec) => ({
      type: spec.name,
      createMachine: (group: string) => {
        const m = new RemoteMachine({
          group,
          type: spec.name,
          version: spec.version,
          nodeId: this.o.nodeId,
          onStateChange: (x) => {
            const s = x.status();
            if (s.state === 'failed') this.failures?.inc({ group });
            this.o.logger.info({ group, state: s.state, message: s.message, machineIndex: s.machineIndex }, 'remote state machine');
          },
        });
        this.machines.set(group, m);
        return m;
      },
      schema: (group: string) => {
        const m = this.machines.get(group);
        if (!m) throw new RaftkitError('unknown_group', `no group "${group}" on node ${this.o.nodeId}`);
        return m.schema(group);
      },
    }));
  }

  /** The node has recovered its groups: an unknown group is now really unknown (404, not 503). */
  markStarted(): void {
    this.started = true;
  }

  /** The machine's status of a group (undefined for a group that is not remote). */
  status(group: string): RemoteMachineStatus | undefined {
    return this.machines.get(group)?.status();
  }

  /** Takes `GET /v1/groups/{group}/machine` upgrades; false for any other path. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const m = ROUTE.exec(req.url ?? '');
    if (!m) return false;
    try {
      if (this.closed) throw new RaftkitError('unavailable', 'the node is shutting down');
      if (this.checkToken(req.headers.authorization) !== 'ok') throw new RaftkitError('unauthorized', 'a valid Authorization: Bearer token is required');
      let group: string;
      try {
        group = decodeURIComponent(m[1]!);
      } catch {
        throw new RaftkitError('bad_request', 'bad %-escape in the group name', { field: 'path' });
      }
      const machine = this.machines.get(group);
      if (!machine && !this.started) throw new RaftkitError('unavailable', 'the node is starting');
      if (!machine)
        throw new RaftkitError(
          'unknown_group',
          `no group "${group}" of a remote state machine type on node ${this.o.nodeId} (remote types: ${this.o.types.map((t) => t.name).join(', ') || 'none'})`,
        );
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, group, machine));
    } catch (e) {
      const err = e instanceof RaftkitError ? e : new RaftkitError('internal', 'internal error');
      const headers: Record<string, string> = err.code === 'unauthorized' ? { 'WWW-Authenticate': 'Bearer' } : {};
      if (err.code === 'unavailable') headers['Retry-After'] = '1';
      refuseOnSocket(socket, STATUS_OF[err.code] ?? 500, 'application/json; charset=utf-8', JSON.stringify({ error: err.code, message: err.message }), headers);
    }
    return true;
  }

  private accept(ws: WebSocket, group: string, machine: RemoteMachine): void {
    const timer = setTimeout(() => refuse('bad_request', `no hello within ${this.timeoutMs} ms`), this.timeoutMs);
    const refuse = (code: 'bad_request' | 'conflict', message: string) => {
      clearTimeout(timer);
      this.o.logger.warn({ group, code, message }, 'remote state machine refused');
      // The whole message first: a close reason holds only 123 bytes.
      ws.send(JSON.stringify({ type: 'refused', error: code, message }));
      ws.close(code === 'conflict' ? 4409 : 4400, JSON.stringify({ error: code, message }).slice(0, 123));
    };
    ws.on('error', () => undefined);
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      let hello: HelloMessage;
      try {
        if (isBinary) throw new RaftkitError('bad_request', 'the hello must be a text message');
        hello = parseHello(data.toString());
      } catch (e) {
        return refuse('bad_request', (e as Error).message);
      }
      const no = machine.refusal(hello);
      if (no) return refuse(no.code, no.message);
      const link = new MachineLink(ws, this.timeoutMs, (f) => machine.detach(link, f));
      ws.send(JSON.stringify({ type: 'welcome', group, node: this.o.nodeId, protocol: hello.protocol }));
      machine.attach(link, hello);
    });
  }

  /** Closes every machine connection (the node stops); the machines reconnect to a new process. */
  close(): void {
    this.closed = true;
    for (const ws of this.wss.clients) ws.close(1001, 'the node is shutting down');
    this.wss.close();
  }
}
