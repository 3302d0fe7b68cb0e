// /status, /nodes and /readyz in rqlite's shapes, from the node service's view of the group.
import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupInfo } from '@raftkit/framework/api';
import {
  formatNodesResponse,
  formatReadyzResponse,
  formatStatusResponse,
  parseNodesRequest,
  parseReadyzRequest,
  parseStatusRequest,
  type ClusterMember,
  type NodeStatus,
  type RaftState,
  type ReadyzState,
} from '../rqlite/index.js';
import type { EngineInfo } from '../engine/sql-engine.js';
import type { SqlApiContext } from './api-context.js';
import { waitForApplied } from './applied-wait.js';
import type { PeerClient } from '@raftkit/framework/api';
import { sendReply, splitUrl } from './http-io.js';

const RAFT_STATE: Record<string, RaftState> = { leader: 'Leader', follower: 'Follower', candidate: 'Candidate', 'pre-candidate': 'Candidate' };
const DEFAULT_CONTACT_MS = 5_000;
const DEFAULT_SYNC_MS = 5_000;

export class ClusterEndpoints {
  constructor(
    private readonly ctx: SqlApiContext,
    /** How this node calls the others (http or https with the node's --tls-ca, the cluster token). */
    private readonly peers: PeerClient,
  ) {}

  private group(): GroupInfo | undefined {
    return this.ctx.service.status().groups.find((g) => g.group === this.ctx.group);
  }

  private async engineInfo(): Promise<EngineInfo | undefined> {
    try {
      return (await this.ctx.service.query(this.ctx.group, 'info', undefined, 'local')).result as EngineInfo;
    } catch {
      return undefined;
    }
  }

  async status(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseStatusRequest(req.method ?? 'GET', splitUrl(req.url).rawQuery);
    const st = this.ctx.service.status();
    const g = this.group();
    const info = await this.engineInfo();
    const members = g?.members ?? [];
    const leader = g && g.leader ? members.find((m) => m.id === g.leader) : undefined;
    const self = members.find((m) => m.id === st.id);
    const status: NodeStatus = {
      nodeId: String(st.id),
      raftAddr: st.address,
      apiBindAddr: st.address,
      ...(leader ? { leader: { nodeId: String(leader.id), raftAddr: leader.address ?? '' } } : {}),
      raft: {
        state: g ? (RAFT_STATE[g.role] ?? 'Follower') : 'Shutdown',
        term: g?.term ?? 0,
        commitIndex: g?.commit ?? 0,
        appliedIndex: g?.applied ?? 0,
        lastLogIndex: g?.lastIndex ?? 0,
        voter: self?.role === 'voter',
      },
      ready: !!g?.leader,
      members: members.map((m) => ({ id: String(m.id), raftAddr: m.address ?? '', voter: m.role === 'voter' })),
      sqlite: { version: info?.sqliteVersion ?? '', foreignKeys: info?.foreignKeys ?? false },
      build: { version: this.ctx.version },
      authEnabled: this.ctx.authEnabled,
      startTime: this.ctx.startTime,
      now: new Date(),
      process: { pid: process.pid, ppid: process.ppid, hostname: hostname(), executable: process.execPath },
    };
    sendReply(res, formatStatusResponse(status, request));
  }

  async nodes(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseNodesRequest(req.method ?? 'GET', splitUrl(req.url).rawQuery);
    const g = this.group();
    const selfId = this.ctx.service.nodeId;
    const timeoutMs = request.timeoutMs ?? DEFAULT_CONTACT_MS;
    const members: ClusterMember[] = await Promise.all(
      (g?.members ?? []).map(async (m) => ({
        id: String(m.id),
        raftAddr: m.address ?? '',
        voter: m.role === 'voter',
        leader: g?.leader === m.id,
        contact:
          m.id === selfId
            ? { reachable: true as const, apiAddr: this.peers.baseUrl(m.address ?? ''), version: this.ctx.version, seconds: 0 }
            : await this.contact(m.address, timeoutMs),
      })),
    );
    sendReply(res, formatNodesResponse(members, request));
  }

  /** Asks a member whether it answers (its /readyz?noleader), as rqlite asks each node for its API address. */
  private async contact(address: string | undefined, timeoutMs: number): Promise<ClusterMember['contact']> {
    if (!address) return { reachable: false, error: 'no known address' };
    const started = performance.now();
    try {
      const r = await this.peers.call(address, '/readyz?noleader', { method: 'GET', timeoutMs: Math.max(1, timeoutMs), signal: AbortSignal.timeout(Math.max(1, timeoutMs)) });
      if (r.status !== 200) return { reachable: false, error: `status ${r.status}` };
      return { reachable: true, apiAddr: this.peers.baseUrl(address), version: this.ctx.version, seconds: (performance.now() - started) / 1000 };
    } catch (e) {
      return { reachable: false, error: (e as Error).message };
    }
  }

  async readyz(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseReadyzRequest(req.method ?? 'GET', splitUrl(req.url).rawQuery);
    const g = this.group();
    const state: ReadyzState = {
      leader: g?.leader ? { state: 'ok' } : { state: 'none' },
      storeReady: this.ctx.machine() !== undefined && g !== undefined,
      db: { ok: true },
    };
    if (!request.noLeader && state.leader.state === 'ok' && state.storeReady) {
      if (request.sync && g) state.sync = await this.synced(g.commit, request.timeoutMs ?? DEFAULT_SYNC_MS);
      try {
        await this.ctx.service.query(this.ctx.group, 'query', { statements: ['SELECT 1'] }, 'local');
      } catch (e) {
        state.db = { ok: false, error: (e as Error).message };
      }
    }
    sendReply(res, formatReadyzResponse(request, state));
  }

  private async synced(commit: number, timeoutMs: number): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      // Every entry counts here (no-ops and membership changes too), so the group's own applied index.
      await waitForApplied(() => this.group()?.applied ?? 0, commit, timeoutMs);
      return { ok: true };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }
}
