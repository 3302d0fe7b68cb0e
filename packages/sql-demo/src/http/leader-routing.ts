// Sending a request that only the leader may serve (writes, weak reads, backups, loads) on to the
// leader: a 301 to it with ?redirect (rqlite's choice for its clients), else forwarded through
// raftkit's LeaderForwarder and the leader's answer relayed. A request that already came
// forwarded is answered 421 naming the leader, so the forwarder follows a leader that moved on.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LeaderForwarder, sendJson, untilApplied } from '@raftkit/framework/api';
import type { Logger } from '@raftkit/framework';
import type { NodeRaftService } from '@raftkit/framework/server';
import { HttpFailure, LEADER_NOT_FOUND } from './http-failure.js';

export interface LeaderRoutingOptions {
  service: NodeRaftService;
  group: string;
  token: string | undefined;
  /** With https: the CA the leader's API certificate is checked against (the node's --tls-ca). */
  ca?: () => Buffer | undefined;
  logger: Logger;
}

export class LeaderRouting {
  private readonly forwarder: LeaderForwarder;

  constructor(private readonly o: LeaderRoutingOptions) {
    this.forwarder = new LeaderForwarder({
      nodeId: o.service.nodeId,
      token: o.token,
      ...(o.ca ? { ca: o.ca } : {}),
      logger: o.logger,
      // A client that reads from the node it wrote through, at any level, sees its write.
      beforeRelay: (status, headers) => untilApplied(o.service, o.group, status, headers),
    });
  }

  /** Whether this node leads the group now. */
  isLeader(): boolean {
    return this.o.service.leaderOf(this.o.group)?.id === this.o.service.nodeId;
  }

  /** The leader's API base URL ("http://host:port"), if a leader is known. */
  leaderUrl(): string | undefined {
    return this.o.service.leaderOf(this.o.group)?.url;
  }

  /**
   * Answers `res` from the leader: 301 (redirect), 421 (the request was forwarded here already),
   * or the leader's own answer. Throws HttpFailure 503 "leader not found" when there is none.
   */
  async toLeader(req: IncomingMessage, res: ServerResponse, o: { body: Buffer; redirect: boolean; timeoutMs: number }): Promise<void> {
    const leader = this.o.service.leaderOf(this.o.group);
    if (!leader || leader.id === this.o.service.nodeId) throw new HttpFailure('leader_not_found', LEADER_NOT_FOUND);
    if (leader.url === undefined) throw new HttpFailure('leader_not_found', `${LEADER_NOT_FOUND}: node ${leader.id} leads but its address is not known yet`);
    const target = req.url ?? '/';
    if (o.redirect) {
      res.writeHead(301, { Location: `${leader.url}${target}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    if (req.headers['x-raft-forwarded-by'] !== undefined || req.headers['x-raft-no-forward'] !== undefined) {
      sendJson(res, 421, { error: 'not_leader', message: `node ${this.o.service.nodeId} does not lead "${this.o.group}"`, leader: { id: leader.id, url: leader.url } });
      return;
    }
    await this.forwarder.forward(req, res, target, o.body, { id: leader.id, url: leader.url }, o.timeoutMs);
  }

  close(): void {
    this.forwarder.close();
  }
}
