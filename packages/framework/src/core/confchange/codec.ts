import { RaftError } from '../errors.js';
import { ConfChangeTransition, ConfChangeType, type ConfChange } from './types.js';
import { isNodeId } from '../node-id.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TYPES = new Set<string>(Object.values(ConfChangeType));
const TRANSITIONS = new Set<string>(Object.values(ConfChangeTransition));

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(cc));
}

/** Decodes and validates; a malformed change is a 'conf_change_invalid' error, never a crash. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    throw new RaftError('conf_change_invalid', 'conf change entry is not valid JSON');
  }
  const cc = raw as Partial<ConfChange> | null;
  if (!cc || typeof cc !== 'object' || !Array.isArray(cc.changes) || typeof cc.transition !== 'string' || !TRANSITIONS.has(cc.transition)) {
    throw new RaftError('conf_change_invalid', 'conf change entry lacks transition or changes');
  }
  for (const c of cc.changes) {
    if (!c || typeof c.type !== 'string' || !TYPES.has(c.type) || !isNodeId(c.nodeId)) {
      throw new RaftError('conf_change_invalid', `conf change has a bad change: ${JSON.stringify(c)}`);
    }
  }
  if (cc.context !== undefined && typeof cc.context !== 'string') {
    throw new RaftError('conf_change_invalid', 'conf change context must be a string');
  }
  return cc as ConfChange;
}
