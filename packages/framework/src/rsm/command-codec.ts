import { RaftkitError } from '../common/errors.js';
import { requestKeyProblem, type RequestKey } from './request-table.js';
import { RsmError } from './rsm-error.js';

/** The payload of a command's log entry. */
export interface CommandPayload {
  /** The command's name (`@Command` name). */
  command: string;
  /** The command's arguments as plain JSON (undefined when there are none). */
  args: unknown;
  /** Exactly-once: the client's id and its increasing sequence; both or neither. */
  clientId?: string;
  sequence?: number;
  /**
   * At most once without a session: the internal key the first receiving node gave the command
   * (never together with a client id).
   */
  request?: RequestKey;
  /** Milliseconds since the epoch, assigned by the proposing leader. */
  timestamp: number;
}

/** Longest command name and client id accepted. */
export const MAX_NAME_LENGTH = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** What travels in the entry: short keys, JSON. `a` is absent when args are undefined. */
interface Wire {
  c: string;
  a?: unknown;
  t: number;
  i?: string;
  s?: number;
  /** [origin, seq, floor] of the request key. */
  r?: [string, number, number];
}

/**
 * Why a payload is malformed, or undefined when it is well formed. Shared by the encoder
 * (proposer side, answered as 400) and the decoder (apply side, answered as an error result).
 */
function payloadProblem(command: unknown, clientId: unknown, sequence: unknown, timestamp: unknown, request: unknown): string | undefined {
  if (typeof command !== 'string' || command.length === 0 || command.length > MAX_NAME_LENGTH) {
    return `the command name must be a string of 1-${MAX_NAME_LENGTH} characters`;
  }
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
    return 'the timestamp must be a finite number of milliseconds >= 0';
  }
  if ((clientId === undefined) !== (sequence === undefined)) {
    return 'a client id and a sequence go together: give both or neither';
  }
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_NAME_LENGTH)) {
    return `the client id must be a string of 1-${MAX_NAME_LENGTH} characters`;
  }
  if (sequence !== undefined && (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence <= 0)) {
    return 'the sequence must be a positive integer';
  }
  if (request !== undefined) {
    if (clientId !== undefined) return 'a command carries a client session or a request key, not both';
    if (!Array.isArray(request) || request.length !== 3) return 'the request key must be [origin, seq, floor]';
    return requestKeyProblem(request[0], request[1], request[2]);
  }
  return undefined;
}

/**
 * Encodes a command for proposal (the host proposes bytes). Throws RaftkitError 'bad_request'
 * for a malformed payload (for example a sequence without a client id) or args that are not
 * JSON-serialisable, so nothing bad is ever proposed.
 */
export function encodeCommand(payload: CommandPayload): Uint8Array {
  const r = payload.request;
  const problem = payloadProblem(payload.command, payload.clientId, payload.sequence, payload.timestamp, r && [r.origin, r.seq, r.floor]);
  if (problem) throw new RaftkitError('bad_request', problem);
  const wire: Wire = { c: payload.command, t: payload.timestamp };
  if (payload.args !== undefined) wire.a = payload.args;
  if (payload.clientId !== undefined) {
    wire.i = payload.clientId;
    wire.s = payload.sequence!;
  }
  if (r) wire.r = [r.origin, r.seq, r.floor];
  let text: string;
  try {
    text = JSON.stringify(wire);
  } catch (e) {
    throw new RaftkitError('bad_request', `the arguments of command "${payload.command}" are not JSON-serialisable: ${(e as Error).message}`);
  }
  return encoder.encode(text);
}

/** Decodes and validates an entry's payload; throws RsmError 'bad_entry' saying what is wrong. */
export function decodeCommand(data: Uint8Array): CommandPayload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    throw new RsmError('bad_entry', `entry of ${data.length} bytes is not an encoded command (not UTF-8 JSON)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RsmError('bad_entry', 'entry is not an encoded command (not a JSON object)');
  }
  const w = parsed as Partial<Wire>;
  const problem = payloadProblem(w.c, w.i, w.s, w.t, w.r);
  if (problem) throw new RsmError('bad_entry', `entry is not a valid command: ${problem}`);
  const payload: CommandPayload = { command: w.c!, args: w.a, timestamp: w.t! };
  if (w.i !== undefined) {
    payload.clientId = w.i;
    payload.sequence = w.s!;
  }
  if (w.r !== undefined) payload.request = { origin: w.r[0], seq: w.r[1], floor: w.r[2] };
  return payload;
}
