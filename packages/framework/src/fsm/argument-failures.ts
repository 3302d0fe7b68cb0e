import type { ValidationError } from 'class-validator';
import { RaftkitError } from '../common/errors.js';

/** One bad field of a handler's args: its path (`qty`, `items[0].qty`) and what is wrong with it. */
export interface ArgumentFailure {
  readonly field: string;
  readonly message: string;
}

/** How many failures the message spells out; details.fields has them all. */
const LISTED_IN_MESSAGE = 10;

function pathOf(parentPath: string, property: string, parentValue: unknown): string {
  if (Array.isArray(parentValue)) return `${parentPath}[${property}]`;
  return parentPath ? `${parentPath}.${property}` : property;
}

function propertyOf(value: unknown, property: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[property] : undefined;
}

/**
 * Every failing field of class-validator's error tree, depth first in its order. `value` is what
 * was validated: it tells an array's index (`items[0]`) from an object's property (`inner.x`),
 * as the rest of the API writes paths.
 */
export function collectFailures(errors: readonly ValidationError[], value: unknown, parentPath = '', out: ArgumentFailure[] = []): ArgumentFailure[] {
  for (const e of errors) {
    const field = pathOf(parentPath, e.property, value);
    const messages = Object.values(e.constraints ?? {});
    if (messages.length > 0) out.push({ field, message: messages.join('; ') });
    collectFailures(e.children ?? [], propertyOf(value, e.property), field, out);
  }
  return out;
}

/**
 * The 'bad_request' for args that failed validation: details `{ field, fields }` where `field` is
 * the first bad field (what clients read before `fields` existed) and `fields` lists every one as
 * `{ field, message }`. `what` names the handler (`command "put"`).
 */
export function badArgumentsError(what: string, failures: readonly [ArgumentFailure, ...ArgumentFailure[]]): RaftkitError {
  const first = failures[0];
  const details = { field: first.field, fields: failures.map(({ field, message }) => ({ field, message })) };
  if (failures.length === 1) return new RaftkitError('bad_request', `bad argument "${first.field}" of ${what}: ${first.message}`, details);
  const listed = failures
    .slice(0, LISTED_IN_MESSAGE)
    .map((f) => `"${f.field}" (${f.message})`)
    .join(', ');
  const unlisted = failures.length - LISTED_IN_MESSAGE;
  const more = unlisted > 0 ? `, and ${unlisted} more (details.fields lists them all)` : '';
  return new RaftkitError('bad_request', `${failures.length} bad arguments of ${what}: ${listed}${more}`, details);
}
