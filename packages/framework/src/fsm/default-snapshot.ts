import 'reflect-metadata';
import { instanceToPlain, plainToInstance } from 'class-transformer';
import { RsmError } from '../rsm/rsm-error.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The default snapshot: the instance's enumerable fields through class-transformer's
 * instanceToPlain (a deep copy, so later commands do not change it). `@Exclude()` leaves a field
 * out. Map fields are kept as objects, so their keys must be strings.
 */
export function captureFields(instance: object): Record<string, unknown> {
  for (const [key, value] of Object.entries(instance)) {
    if (!(value instanceof Map)) continue;
    for (const k of value.keys()) {
      if (typeof k !== 'string') {
        throw new RsmError(
          'snapshot_failed',
          `field "${key}" of ${instance.constructor.name} is a Map with a ${typeof k} key; the default snapshot keeps only string keys: declare @Snapshot() and @Restore() methods`,
        );
      }
    }
  }
  return instanceToPlain(instance) as Record<string, unknown>;
}

/** The fields that the default snapshot would write for this instance (not `@Exclude`d ones). */
function capturedKeys(instance: object): Set<string> {
  const probe = Object.create(Object.getPrototypeOf(instance) as object) as Record<string, unknown>;
  for (const key of Object.keys(instance)) probe[key] = null;
  return new Set(Object.keys(instanceToPlain(probe)));
}

/**
 * The default restore: plainToInstance of the instance's class (so `@Type` fields get their
 * classes), then the fields are assigned to the live instance. A field that was a Map or Set in
 * the instance and arrives as a plain object or array becomes a Map or Set again. A captured
 * field missing from the snapshot (it was undefined then) becomes undefined.
 */
export function restoreFields(instance: object, state: unknown): void {
  if (!isPlainObject(state)) {
    throw new Error(
      `the default restore of ${instance.constructor.name} expects an object of fields, got ${Array.isArray(state) ? 'an array' : state === null ? 'null' : typeof state}`,
    );
  }
  const cls = instance.constructor as new () => object;
  const restored = plainToInstance(cls, state) as Record<string, unknown>;
  const live = instance as Record<string, unknown>;
  const next: Record<string, unknown> = {};
  for (const key of Object.keys(state)) {
    let value = restored[key];
    const current = live[key];
    if (current instanceof Map && isPlainObject(value)) value = new Map(Object.entries(value));
    else if (current instanceof Set && Array.isArray(value)) value = new Set(value);
    next[key] = value;
  }
  for (const key of capturedKeys(instance)) if (!(key in next)) next[key] = undefined;
  Object.assign(instance, next);
}
