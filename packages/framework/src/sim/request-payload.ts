// The entry bytes of one front-end command in the late-proposals scenario: the command's id, the
// internal request key its first receiving node gave it, and the proposing leader's clock (the
// entry timestamp the request table expires by). A fixed binary layout, so the same proposal
// always makes the same bytes and the log-matching checker can compare entries byte for byte.
//
//   [0] tag 'L' | [1..4] command u32 | [5..12] timestamp f64 | [13..16] seq u32 | [17..20] floor u32
//   | [21] origin length | [22..] origin (ASCII: the key's origin pattern is [A-Za-z0-9._-])

import type { RequestKey } from '../rsm/request-table.js';

const TAG = 0x4c; // 'L'
const HEADER = 22;

export interface CommandPayload {
  command: number;
  key: RequestKey;
  timestamp: number;
}

export function encodeCommand(p: CommandPayload): Uint8Array {
  const origin = p.key.origin;
  const out = new Uint8Array(HEADER + origin.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, TAG);
  v.setUint32(1, p.command);
  v.setFloat64(5, p.timestamp);
  v.setUint32(13, p.key.seq);
  v.setUint32(17, p.key.floor);
  v.setUint8(21, origin.length);
  for (let i = 0; i < origin.length; i++) out[HEADER + i] = origin.charCodeAt(i);
  return out;
}

/** Undefined for any other entry (a no-op, the liveness probe's write, a conf change's bytes). */
export function decodeCommand(data: Uint8Array): CommandPayload | undefined {
  if (data.length < HEADER || data[0] !== TAG) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = v.getUint8(21);
  if (data.length !== HEADER + len) return undefined;
  const origin = String.fromCharCode(...data.subarray(HEADER));
  return { command: v.getUint32(1), timestamp: v.getFloat64(5), key: { origin, seq: v.getUint32(13), floor: v.getUint32(17) } };
}
