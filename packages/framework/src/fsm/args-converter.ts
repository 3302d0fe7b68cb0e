import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { RaftkitError } from '../common/errors.js';
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

/** The first failing field, depth first, as a dotted path ("items.0.key") with its messages. */
function firstFailure(errors: ValidationError[], prefix = ''): { field: string; message: string } | undefined {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints && Object.keys(e.constraints).length > 0) return { field, message: Object.values(e.constraints).join('; ') };
    const nested = firstFailure(e.children ?? [], field);
    if (nested) return nested;
  }
  return undefined;
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

/** class-transformer and class-validator, as the reference for the fast path (fast-args.ts). */
export function convertDto(cls: new () => object, plain: Record<string, unknown>): { instance: object } | { failure: { field: string; message: string } } {
  const instance = plainToInstance(cls, plain, { exposeDefaultValues: true });
  pruneUnsent(instance, plain);
  const failure = firstFailure(validateSync(instance, VALIDATION));
  return failure ? { failure } : { instance };
}

function describe(h: HandlerDefinition): string {
  return `${h.kind} "${h.name}"`;
}

/**
 * Turns a handler's plain JSON args into what its method receives, or throws RaftkitError
 * 'bad_request' whose message names the field (details `{ field }`). Deterministic: the same
 * input gives the same outcome on every replica.
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
      if ('failure' in r) {
        const { field, message } = r.failure;
        throw new RaftkitError('bad_request', `bad argument "${field}" of ${describe(h)}: ${message}`, { field });
      }
      return r.instance;
    }
  }
}
