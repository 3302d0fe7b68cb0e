import 'reflect-metadata';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { GroupSchema, OperationSchema, SchemaField } from './schema.js';
import { NULLABLE_CONTEXT, PROPERTY_TYPE_METADATA } from './constants.js';
import type { HandlerDefinition, StateMachineDefinition } from './definition.js';

/** class-validator's metadata record (its class is not exported from the package root). */
type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** class-validator names that fix a field's type. */
const TYPE_OF_VALIDATOR: Record<string, string> = {
  isString: 'string',
  isNumber: 'number',
  isNumberString: 'string',
  isInt: 'integer',
  isBoolean: 'boolean',
  isBooleanString: 'string',
  isDate: 'date',
  isDateString: 'string',
  isISO8601: 'string',
  isArray: 'array',
  isObject: 'object',
  isNotEmptyObject: 'object',
  isUUID: 'string',
  isEmail: 'string',
  isUrl: 'string',
  isJSON: 'string',
  isHexadecimal: 'string',
  isBase64: 'string',
};

/** Validators that only hint at a type, used when no validator above fixes it. */
const HINT_OF_VALIDATOR: Record<string, string> = {
  minLength: 'string',
  maxLength: 'string',
  isLength: 'string',
  matches: 'string',
  contains: 'string',
  notContains: 'string',
  isAlpha: 'string',
  isAlphanumeric: 'string',
  isLowercase: 'string',
  isUppercase: 'string',
  min: 'number',
  max: 'number',
  isPositive: 'number',
  isNegative: 'number',
  isDivisibleBy: 'number',
  arrayMinSize: 'array',
  arrayMaxSize: 'array',
  arrayNotEmpty: 'array',
  arrayUnique: 'array',
  arrayContains: 'array',
};

function typeOfConstants(values: unknown[]): string {
  if (values.length > 0 && values.every((v) => typeof v === 'string')) return 'string';
  if (values.length > 0 && values.every((v) => typeof v === 'number')) return 'number';
  return 'any';
}

function typeOfValidator(m: ValidationMetadata, table: Record<string, string>): string | undefined {
  let t: string | undefined;
  if (m.type === ValidationTypes.NESTED_VALIDATION) t = 'object';
  else if (m.name === 'isEnum') t = typeOfConstants(Object.values((m.constraints?.[0] ?? {}) as object));
  else if (m.name === 'isIn') t = typeOfConstants((m.constraints?.[0] ?? []) as unknown[]);
  else if (m.name !== undefined) t = table[m.name];
  if (t === undefined) return undefined;
  // `each` applies the validator to each element of an array field.
  return m.each && t !== 'array' ? `${t}[]` : t;
}

function typeOfDesign(t: unknown): string {
  if (t === String) return 'string';
  if (t === Number) return 'number';
  if (t === Boolean) return 'boolean';
  if (t === Array) return 'array';
  if (t === Date) return 'date';
  if (typeof t === 'function' && t !== Object) return 'object';
  return 'any';
}

/**
 * The fields of an argument class, from its class-validator metadata: field name -> { type,
 * optional, nullable }. Types: 'string', 'number', 'integer', 'boolean', 'date', 'object',
 * 'array', 'T[]' for a validator with `each: true`, else the TypeScript type of the field, else
 * 'any'. `@IsOptional()` makes a field optional and nullable, `@Nullable()` nullable only.
 */
export function describeArgsClass(cls: Function): Record<string, SchemaField> {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const byField = new Map<string, ValidationMetadata[]>();
  for (const m of metas) {
    const list = byField.get(m.propertyName) ?? [];
    list.push(m);
    byField.set(m.propertyName, list);
  }
  const fields: Record<string, SchemaField> = {};
  for (const [field, list] of byField) {
    const optional = list.some((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION && m.name === 'isOptional');
    const nullable =
      optional || list.some((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION && (m.context as Record<string, unknown> | undefined)?.[NULLABLE_CONTEXT] === true);
    let type: string | undefined;
    for (const m of list) type ??= typeOfValidator(m, TYPE_OF_VALIDATOR);
    for (const m of list) type ??= typeOfValidator(m, HINT_OF_VALIDATOR);
    type ??= typeOfDesign(Reflect.getMetadata(PROPERTY_TYPE_METADATA, cls.prototype as object, field));
    fields[field] = { type, optional, nullable };
  }
  return fields;
}

/**
 * The argument fields of a handler: those of its argument class, or none when its arguments
 * are not a class (a primitive, `unknown`, or no parameter; such args are not described).
 */
export function describeHandlerArgs(h: HandlerDefinition): Record<string, SchemaField> {
  return h.argKind === 'dto' && h.argType ? describeArgsClass(h.argType) : {};
}

function operations(handlers: ReadonlyMap<string, HandlerDefinition>): OperationSchema[] {
  return [...handlers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((h) => ({ name: h.name, kind: h.kind, args: describeHandlerArgs(h) }));
}

/** The schema of a group running a state machine of this definition (GET /v1/groups/{group}/schema). */
export function buildGroupSchema(group: string, definition: StateMachineDefinition): GroupSchema {
  return { group, type: definition.type, commands: operations(definition.commands), queries: operations(definition.queries) };
}
