import { ValidateIf } from 'class-validator';
import { NULLABLE_CONTEXT } from './constants.js';

/**
 * An argument field that may be `null` (but, unlike `@IsOptional()`, not missing): the field's
 * other validators are skipped when it is null. The schema shows it as nullable.
 */
export function Nullable(): PropertyDecorator {
  return ValidateIf((_object: unknown, value: unknown) => value !== null, { context: { [NULLABLE_CONTEXT]: true } });
}
