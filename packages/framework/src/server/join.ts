import type { NodeStatus } from '../api/node-service.js';
import type { Logger } from '../host/logger.js';
import type { PeerClient } from '../api/peer-client.js';
import type { NodeHost } from '../host/node-host.js';
import type { NodeRaftService } from './node-raft-service.js';

export interface JoinOptions {
  service: NodeRaftService;
  host: NodeHost;
  /** Any member's "host:port". */
  through: string;
  /** How this node calls the member's API (scheme and token). */
  peers: PeerClient;
  selfAddress: string;
  logger: Logger;
  /** How long to wait for this node to catch up before promoting it (default 60 s). */
  catchUpTimeoutMs?: number;
}

/**
 * Joins every group of a running cluster through any member: creates the groups here with an
 * empty log, asks to be added as a learner (the member forwards to the leader), waits until this
 * node has caught up with the leader's commit index, then asks to be promoted to voter. Safe to
 * run again on restart: steps already done answer 409 and are skipped.
 */
export async function joinCluster(o: JoinOptions): Promise<void> {
  const call = (method: string, path: string, body?: unknown) => o.peers.call(o.through, path, { method, body, timeoutMs: 10_000 });
  const status = await call('GET', '/v1/status');
  if (status.status !== 200) throw new Error(`GET /v1/status answered ${status.status}: ${JSON.stringify(status.json)}`);
  const cluster = status.json as NodeStatus;
  for (const g of cluster.groups) {
    for (const m of g.members) if (m.address && m.id !== o.host.id) await o.host.setPeerAddress(m.id, m.address);
    if (!g.members.some((m) => m.address) && cluster.address) await o.host.setPeerAddress(cluster.id, cluster.address);
    if (!o.host.hasGroup(g.group)) await o.host.createGroup(g.group, { type: g.type, voters: [] });
    const path = `/v1/groups/${encodeURIComponent(g.group)}`;
    const member = g.members.find((m) => m.id === o.host.id);
    if (!member) {
      const add = await call('POST', `${path}/members`, { id: o.host.id, address: o.selfAddress, role: 'learner' });
      if (add.status !== 200 && add.status !== 409) throw new Error(`adding node ${o.host.id} to "${g.group}" answered ${add.status}: ${JSON.stringify(add.json)}`);
      o.logger.info({ group: g.group }, 'joined as learner');
    }
    if (member?.role === 'voter') continue;
    await waitCaughtUp(o, g.group, async () => (await call('GET', '/v1/status')).json as NodeStatus);
    const promote = await call('POST', `${path}/members/${o.host.id}/promote`);
    if (promote.status !== 200 && promote.status !== 409)
      throw new Error(`promoting node ${o.host.id} in "${g.group}" answered ${promote.status}: ${JSON.stringify(promote.json)}`);
    o.logger.info({ group: g.group }, 'promoted to voter');
  }
}

async function waitCaughtUp(o: JoinOptions, group: string, clusterStatus: () => Promise<NodeStatus>): Promise<void> {
  const deadline = Date.now() + (o.catchUpTimeoutMs ?? 60_000);
  for (;;) {
    const remote = (await clusterStatus()).groups.find((g) => g.group === group);
    const target = remote?.commit ?? 0;
    if (o.host.hasGroup(group)) {
      const local = o.host.groupStatus(group);
      if (local.applied >= target && target > 0) return;
    }
    if (Date.now() > deadline) throw new Error(`node ${o.host.id} did not catch up with "${group}" in time`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
