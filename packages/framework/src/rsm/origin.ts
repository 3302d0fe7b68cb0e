import { randomBytes } from 'node:crypto';

/**
 * A request origin for this process: the node id and 48 random bits, so the keys of a restarted
 * node never collide with those of its previous incarnation.
 */
export function newOrigin(nodeId: number): string {
  return `${nodeId}.${randomBytes(6).toString('hex')}`;
}
