// Checks a command's or query's arguments against the fields a remote machine declared, before
// anything is proposed: the same rules as the Python client's (unknown fields first, then each
// declared field), so a bad call is refused with the field named and takes no log index.
import { RaftkitError } from '../common/errors.js';
import type { OperationSchema } from '../fsm/schema.js';

function typeProblem(type: string, v: unknown): string | undefined {
  if (type.endsWith('[]')) {
    if (!Array.isArray(v)) return `must be a list of ${type.slice(0, -2)}`;
    for (let i = 0; i < v.length; i++) {
      const p = typeProblem(type.slice(0, -2), v[i]);
      if (p) return `item ${i} ${p}`;
    }
    return undefined;
  }
  const ok: Record<string, () => boolean> = {
    string: () => typeof v === 'string',
    date: () => typeof v === 'string',
    number: () => typeof v === 'number' && Number.isFinite(v),
    integer: () => Number.isSafeInteger(v),
    boolean: () => typeof v === 'boolean',
    object: () => typeof v === 'object' && v !== null && !Array.isArray(v),
    array: () => Array.isArray(v),
  };
  const check = ok[type];
  return check === undefined || check() ? undefined : `must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** Throws RaftkitError 'bad_request' with `field` and `fields` for the first bad argument. */
export function checkRemoteArgs(op: OperationSchema, args: unknown): void {
  const fail = (field: string, message: string): never => {
    throw new RaftkitError('bad_request', `bad argument of ${op.kind} "${op.name}": "${field}" ${message}`, { field, fields: [{ field, message }] });
  };
  if (args === undefined || args === null) args = {};
  if (typeof args !== 'object' || Array.isArray(args)) fail('body', 'the arguments must be a JSON object of named fields');
  const given = args as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in op.args)) fail(key, `is not an argument (arguments: ${Object.keys(op.args).join(', ') || 'none'})`);
  }
  for (const [name, f] of Object.entries(op.args)) {
    if (!(name in given)) {
      if (!f.optional) fail(name, `is required (${f.type})`);
      continue;
    }
    const v = given[name];
    if (v === null) {
      if (!f.nullable && !f.optional) fail(name, 'must not be null');
      continue;
    }
    const p = typeProblem(f.type, v);
    if (p) fail(name, p);
  }
}
