// Read-your-writes through the node a client talks to: when a follower forwards a command, the
// leader answers once the command is applied there, and this follower may learn the new commit
// index a moment later. The follower holds the leader's answer until it has applied the command
// too, so a read it then serves at any consistency (local included) sees the write. Bounded:
// after HOLD_MAX_MS the answer goes anyway (this node is behind; the write is done either way).
import type { IncomingHttpHeaders } from 'node:http';
import type { NodeService } from './node-service.js';

/** The header a command's answer names its log index in (also read by the demo apps). */
export const APPLIED_INDEX_HEADER = 'x-raftkit-applied-index';
const HOLD_MAX_MS = 1_000;
const COMMAND_PATH = /^\/v1\/groups\/([^/?]+)\/commands\//;

/**
 * Holds a relayed answer (bounded by `maxMs`) until `service` applied, in `group`, the index the
 * answer names in APPLIED_INDEX_HEADER; at once for anything but a 200 naming an index.
 */
export async function untilApplied(service: NodeService, group: string, status: number, headers: IncomingHttpHeaders, maxMs = HOLD_MAX_MS): Promise<void> {
  const raw = headers[APPLIED_INDEX_HEADER];
  if (status !== 200 || typeof raw !== 'string' || !/^\d{1,15}$/.test(raw) || !service.appliedIndex || !service.whenApplied) return;
  const index = Number(raw);
  try {
    if (service.appliedIndex(group) >= index) return;
    await service.whenApplied(group, index, maxMs);
  } catch {
    // the group is not (or no longer) here: nothing to wait for
  }
}

/** ForwarderOptions.beforeRelay for the API: untilApplied for the group of a command's path. */
export async function untilAppliedHere(service: NodeService, status: number, headers: IncomingHttpHeaders, pathAndQuery: string): Promise<void> {
  const group = COMMAND_PATH.exec(pathAndQuery)?.[1];
  if (group === undefined) return;
  let name: string;
  try {
    name = decodeURIComponent(group);
  } catch {
    return;
  }
  return untilApplied(service, name, status, headers);
}
