// A fast path for the common argument class: fields of plain JSON values checked by synchronous
// class-validator constraints. Every command is converted on its proposer and on each
// replica as it applies; class-transformer and class-validator walk their metadata stores on each
// call (about 5 µs for a two-field class here), this reads them once per class.
//
// It only ever answers "valid, here is the instance" for inputs where it does exactly what
// plainToInstance + validateSync (whitelist, forbidNonWhitelisted) would; for anything else —
// an invalid input (the slow path lists every bad field, so an error has one shape whichever
// path the input came by), a value that is not plain JSON, a class with class-transformer decorators,
// nested/promise/`each` validation, an asynchronous constraint — it answers `undefined` and the
// caller takes the slow path.
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';

interface Check {
  readonly validateIf: ((object: unknown, value: unknown) => boolean) | undefined;
  readonly constraints: unknown[];
  readonly validators: { validate(value: unknown, args: ValidationArguments): unknown }[];
}

interface FieldPlan {
  readonly name: string;
  /** ValidateIf / IsOptional / Nullable: the field's checks run only when all of these hold. */
  readonly conditions: ((object: unknown, value: unknown) => boolean)[];
  /** IsDefined first, then the other constraints, as the validator orders them. */
  readonly checks: Check[];
}

interface ClassPlan {
  readonly fields: FieldPlan[];
  readonly known: Set<string>;
}

const plans = new WeakMap<Function, ClassPlan | null>();

/** TransformationType.PLAIN_TO_CLASS in class-transformer's enum. */
const PLAIN_TO_CLASS = 0;

function planFor(cls: Function): ClassPlan | null {
  let plan = plans.get(cls);
  if (plan === undefined) {
    plan = buildPlan(cls);
    plans.set(cls, plan);
  }
  return plan;
}

function buildPlan(cls: Function): ClassPlan | null {
  const ct = defaultMetadataStorage;
  if (ct.getStrategy(cls) !== 'none' || ct.getExposedMetadatas(cls).length > 0 || ct.getExcludedMetadatas(cls).length > 0) return null;
  const storage = getMetadataStorage();
  const metas = storage.getTargetValidationMetadatas(cls, '', false, false, undefined);
  if (metas.length === 0) return null;
  const grouped = storage.groupByPropertyName(metas);
  const fields: FieldPlan[] = [];
  for (const name of Object.keys(grouped)) {
    if (name === '__proto__' || name === 'constructor') return null;
    // A method or accessor of that name: class-transformer skips the key; leave that to it.
    for (let p: object | null = cls.prototype as object; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      if (Object.getOwnPropertyDescriptor(p, name)) return null;
    }
    if (ct.findTypeMetadata(cls, name) || ct.findTransformMetadatas(cls, name, PLAIN_TO_CLASS).length > 0) return null;
    const conditions: FieldPlan['conditions'] = [];
    const defined: Check[] = [];
    const custom: Check[] = [];
    for (const m of grouped[name]!) {
      switch (m.type) {
        case ValidationTypes.WHITELIST:
          break;
        case ValidationTypes.CONDITIONAL_VALIDATION:
          conditions.push(m.constraints[0] as (object: unknown, value: unknown) => boolean);
          break;
        case ValidationTypes.IS_DEFINED:
        case ValidationTypes.CUSTOM_VALIDATION: {
          if (m.each) return null;
          const constraintMetas = storage.getTargetValidatorConstraints(m.constraintCls);
          if (constraintMetas.some((c) => c.async)) return null;
          const check: Check = {
            validateIf: m.validateIf,
            constraints: m.constraints,
            validators: constraintMetas.map((c) => c.instance as unknown as Check['validators'][number]),
          };
          (m.type === ValidationTypes.IS_DEFINED ? defined : custom).push(check);
          break;
        }
        default:
          return null; // nested, promise and anything newer
      }
    }
    fields.push({ name, conditions, checks: [...defined, ...custom] });
  }
  return { fields, known: new Set(fields.map((f) => f.name)) };
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Deeper values take the slow path (which refuses what is too deep for it to walk). */
const MAX_JSON_DEPTH = 32;

/**
 * A primitive, or arrays and plain objects of them: what JSON.parse makes. Such a value of a
 * field without class-transformer metadata is what plainToInstance would copy it to, so the
 * instance may hold it as is (a command's structured argument, e.g. the SQL store's statements,
 * is then not copied on the proposer and on every replica). Not a `__proto__` key: the copy
 * would turn it into a prototype.
 */
function isPlainJson(v: unknown, depth = 0): boolean {
  if (isPrimitive(v)) return true;
  if (typeof v !== 'object' || depth >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) return false;
    for (let i = 0; i < v.length; i++) if (!(i in v) || !isPlainJson(v[i], depth + 1)) return false;
    return true;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k in v) {
    if (!Object.hasOwn(v, k) || k === '__proto__') return false;
    if (!isPlainJson((v as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}

/**
 * The converted, validated instance of `cls` for `plain` (a plain object), or undefined when the
 * input is invalid or outside what this path handles (then convert the slow way).
 */
export function fastConvert(cls: new () => object, plain: Record<string, unknown>): object | undefined {
  const plan = planFor(cls);
  if (!plan) return undefined;
  const keys = Object.keys(plain);
  for (const k of keys) if (!plan.known.has(k) || !isPlainJson(plain[k])) return undefined;
  const instance = new cls() as Record<string, unknown>;
  for (const k of keys) instance[k] = plain[k];
  // As the slow path's pruneUnsent: declared fields the input did not send are not there.
  for (const k of Object.keys(instance)) {
    if (instance[k] === undefined && !Object.hasOwn(plain, k)) delete instance[k];
    else if (!plan.known.has(k))
      return undefined; // would be refused (whitelist): slow path words it
    else if (!isPrimitive(instance[k]) && instance[k] !== undefined && !Object.hasOwn(plain, k)) return undefined;
  }
  const targetName = cls.name;
  for (const f of plan.fields) {
    const value = instance[f.name];
    let run = true;
    for (const c of f.conditions) if (!c(instance, value)) run = false;
    if (!run) continue;
    for (const check of f.checks) {
      if (check.validateIf && !check.validateIf(instance, value)) continue;
      for (const v of check.validators) {
        const ok = v.validate(value, { targetName, property: f.name, object: instance, value, constraints: check.constraints });
        if (typeof ok !== 'boolean' || !ok) return undefined;
      }
    }
  }
  return instance;
}
