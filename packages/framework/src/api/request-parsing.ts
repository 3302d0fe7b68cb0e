// Parsing and validation of what a request carries (headers, query parameters, bodies): each
// bad input becomes a 400 naming its field before anything reaches the node.
import type { IncomingMessage } from 'node:http';
import { GROUP_NAME } from '../host/group-factory.js';
import { parseRequestKey, type RequestKey } from '../rsm/request-table.js';
import { RaftkitError } from '../common/errors.js';
import { positiveInt, requireString } from './http-util.js';
import type { CommandOptions, Consistency, GroupMemberSpec, MemberRole, MembershipChangeItem, MembershipTransition } from './node-service.js';

const CLIENT_ID = /^[\x20-\x7e]{1,128}$/;
const CONSISTENCIES: readonly Consistency[] = ['linearizable', 'lease', 'local'];

export function badRequest(message: string, field: string): RaftkitError {
  return new RaftkitError('bad_request', message, { field });
}

/** X-Raft-Client-Id (1-128 printable ASCII) and X-Raft-Sequence (positive safe integer), both or neither. */
export function exactlyOnce(req: IncomingMessage): Pick<CommandOptions, 'clientId' | 'sequence'> {
  const id = req.headers['x-raft-client-id'];
  const seq = req.headers['x-raft-sequence'];
  if (id === undefined && seq === undefined) return {};
  if (id === undefined) throw badRequest('X-Raft-Client-Id is required with X-Raft-Sequence', 'X-Raft-Client-Id');
  if (seq === undefined) throw badRequest('X-Raft-Sequence is required with X-Raft-Client-Id', 'X-Raft-Sequence');
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) throw badRequest('X-Raft-Client-Id must be 1 to 128 printable ASCII characters', 'X-Raft-Client-Id');
  const n = typeof seq === 'string' && /^[1-9][0-9]{0,15}$/.test(seq) ? Number(seq) : NaN;
  if (!Number.isSafeInteger(n)) throw badRequest('X-Raft-Sequence must be a positive integer', 'X-Raft-Sequence');
  return { clientId: id, sequence: n };
}

/** The request key a forwarding node gave the command (`X-Raft-Request-Id`), if any; 400 when malformed. */
export function forwardedRequestKey(req: IncomingMessage): RequestKey | undefined {
  const h = req.headers['x-raft-request-id'];
  if (h === undefined) return undefined;
  const key = typeof h === 'string' ? parseRequestKey(h) : undefined;
  if (!key) throw badRequest('X-Raft-Request-Id must be origin:sequence:floor (origin 1-64 of [A-Za-z0-9._-], 0 <= floor <= sequence)', 'X-Raft-Request-Id');
  return key;
}

const ROLES: readonly MemberRole[] = ['voter', 'learner', 'witness'];
const TRANSITIONS: readonly MembershipTransition[] = ['auto', 'joint', 'explicit'];
export const ADDRESS = /^\S+$/;

export function roleOf(v: unknown, field: string, dflt: MemberRole | undefined, extra: readonly string[] = []): MemberRole {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !([...ROLES, ...extra] as readonly string[]).includes(v)) {
    throw badRequest(`${field} must be ${[...ROLES, ...extra].map((r) => JSON.stringify(r)).join(', ')}`, field);
  }
  return v as MemberRole;
}

/** The body of POST .../membership: `{"changes":[{"id","role","address"?}], "transition"?}`. */
export function membershipChanges(b: Record<string, unknown>): { changes: MembershipChangeItem[]; transition: MembershipTransition } {
  if (!Array.isArray(b['changes'])) throw badRequest('changes must be an array of {"id","role","address"?} (empty: leave the joint configuration)', 'changes');
  const t = b['transition'] ?? 'auto';
  if (typeof t !== 'string' || !(TRANSITIONS as readonly string[]).includes(t)) throw badRequest('transition must be "auto", "joint" or "explicit"', 'transition');
  const changes = (b['changes'] as unknown[]).map((x, i): MembershipChangeItem => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw badRequest(`changes[${i}] must be an object {"id","role","address"?}`, `changes[${i}]`);
    const o = x as Record<string, unknown>;
    const item: MembershipChangeItem = { id: positiveInt(o['id'], `changes[${i}].id`), role: roleOf(o['role'], `changes[${i}].role`, undefined, ['removed']) };
    if (o['address'] !== undefined) item.address = requireString(o['address'], `changes[${i}].address`, 256, ADDRESS);
    return item;
  });
  return { changes, transition: t as MembershipTransition };
}

export function singleParam(q: URLSearchParams, name: string): string | undefined {
  const all = q.getAll(name);
  if (all.length > 1) throw badRequest(`the query parameter ${name} is given more than once`, name);
  return all[0];
}

export function consistencyOf(q: URLSearchParams): Consistency {
  const c = singleParam(q, 'consistency');
  if (c === undefined) return 'linearizable';
  if (!(CONSISTENCIES as readonly string[]).includes(c)) throw badRequest('consistency must be linearizable, lease or local', 'consistency');
  return c as Consistency;
}

export function fromOf(q: URLSearchParams): number | undefined {
  const f = singleParam(q, 'from');
  if (f === undefined) return undefined;
  const n = /^[1-9][0-9]{0,15}$/.test(f) ? Number(f) : NaN;
  if (!Number.isSafeInteger(n)) throw badRequest('from must be a log index, an integer >= 1', 'from');
  return n;
}

export function isTrue(v: string | string[] | undefined): boolean {
  return v === '1' || v === 'true';
}

export function notLeaderOf(e: unknown): { id?: number; url?: string } | undefined {
  if (!(e instanceof Error) || (e as { code?: unknown }).code !== 'not_leader') return undefined;
  const raw = e instanceof RaftkitError ? e.details['leader'] : (e as { leader?: unknown }).leader;
  if (typeof raw === 'number') return { id: raw };
  if (typeof raw === 'object' && raw !== null) {
    const { id, url } = raw as { id?: unknown; url?: unknown };
    return { id: typeof id === 'number' ? id : undefined, url: typeof url === 'string' && url !== '' ? url : undefined };
  }
  return {};
}

/** The body of POST /v1/groups: `{"group","type","members":[{"id","address","role"?}]}`. */
export function groupCreation(b: Record<string, unknown>): { group: string; type: string; members: GroupMemberSpec[] } {
  const group = requireString(b['group'], 'group', 128, GROUP_NAME);
  const type = requireString(b['type'], 'type', 128);
  if (!Array.isArray(b['members']) || b['members'].length === 0) throw badRequest('members must be a non-empty array of {"id","address","role"?}', 'members');
  const seen = new Set<number>();
  const members = (b['members'] as unknown[]).map((x, i): GroupMemberSpec => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw badRequest(`members[${i}] must be an object {"id","address","role"?}`, `members[${i}]`);
    const o = x as Record<string, unknown>;
    const id = positiveInt(o['id'], `members[${i}].id`);
    if (seen.has(id)) throw badRequest(`members[${i}].id ${id} is listed twice`, `members[${i}].id`);
    seen.add(id);
    return { id, address: requireString(o['address'], `members[${i}].address`, 256, ADDRESS), role: roleOf(o['role'], `members[${i}].role`, 'voter') };
  });
  return { group, type, members };
}
