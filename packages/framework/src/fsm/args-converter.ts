import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { RaftkitError } from '../common/errors.js';
import { badArgumentsError, collectFailures, type ArgumentFailure } from './argument-failures.js';
import type { HandlerDefinition } from './definition.js';
import { fastConvert } from './fast-args.js';

const VALIDATION = {
  whitelist: true,
  forbidNonWhitelisted: true,
  // An argument class without any validator simply accepts no fields (whitelist); the
  // "unknown value" check would refuse even `{}` for it.
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
} as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Removes the fields that a class's own field declarations left undefined where the input had
 * nothing: with ES2022 class fields every declared field is an own property, and the whitelist
 * would refuse an undecorated one (`extra?: string`) that the client never sent.
 */
function pruneUnsent(value: unknown, raw: unknown, depth = 0): void {
  if (typeof value !== 'object' || value === null || depth > 32) return;
  const source = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : undefined;
  const target = value as Record<string, unknown>;
  for (const key of Object.keys(target)) {
    const v = target[key];
    if (v === undefined && !(source && Object.hasOwn(source, key))) delete target[key];
    else if (typeof v === 'object' && v !== null) pruneUnsent(v, source?.[key], depth + 1);
  }
}

/** class-transformer and class-validator, as the reference for the fast path (fast-args.ts): the instance, or every bad field. */
export function convertDto(cls: new () => object, plain: Record<string, unknown>): { instance: object } | { failures: [ArgumentFailure, ...ArgumentFailure[]] } {
  const instance = plainToInstance(cls, plain, { exposeDefaultValues: true });
  pruneUnsent(instance, plain);
  const [first, ...rest] = collectFailures(validateSync(instance, VALIDATION), instance);
  return first ? { failures: [first, ...rest] } : { instance };
}

function describe(h: HandlerDefinition): string {
  return `${h.kind} "${h.name}"`;
}

/**
 * Turns a handler's plain JSON args into what its method receives, or throws RaftkitError
 * 'bad_request'. For an argument class the error names every bad field: details `{ field, fields }`
 * (badArgumentsError). Strict: unknown properties are refused and nothing is coerced ("3" is not a
 * number). Deterministic: the same input gives the same outcome on every replica.
 */
export function convertArgs(h: HandlerDefinition, raw: unknown): unknown {
  switch (h.argKind) {
    case 'any':
      return raw;
    case 'none':
      if (raw === undefined || raw === null || (isPlainObject(raw) && Object.keys(raw).length === 0)) return undefined;
      throw new RaftkitError('bad_request', `${describe(h)} takes no arguments`);
    case 'string':
    case 'boolean':
      if (typeof raw !== h.argKind) throw new RaftkitError('bad_request', `the argument of ${describe(h)} must be a ${h.argKind}`);
      return raw;
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new RaftkitError('bad_request', `the argument of ${describe(h)} must be a finite number`);
      return raw;
    case 'array':
      if (!Array.isArray(raw)) throw new RaftkitError('bad_request', `the argument of ${describe(h)} must be an array`);
      return raw;
    case 'dto': {
      const plain = raw === undefined || raw === null ? {} : raw;
      if (!isPlainObject(plain)) throw new RaftkitError('bad_request', `the arguments of ${describe(h)} must be a JSON object`);
      const cls = h.argType as new () => object;
      const fast = fastConvert(cls, plain);
      if (fast) return fast;
      const r = convertDto(cls, plain);
      if ('failures' in r) throw badArgumentsError(describe(h), r.failures);
      return r.instance;
    }
  }
}
