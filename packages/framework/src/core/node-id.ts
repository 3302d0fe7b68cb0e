import type { NodeId } from './types.js';

/** Whether `v` is a node id: a positive safe integer (0 means "none" in the core). */
export function isNodeId(v: unknown): v is NodeId {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/** A node id written in decimal ("7"), as in flags, headers and paths; undefined when it is not one. */
export function parseNodeId(text: unknown): NodeId | undefined {
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,15}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
