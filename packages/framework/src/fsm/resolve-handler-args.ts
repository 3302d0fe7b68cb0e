import { StateMachineDefinitionError } from './definition-error.js';
import type { ArgKind } from './definition.js';
import type { ArgsDeclaration } from './handler-options.js';

/** Built-in types that JSON cannot carry as themselves, so they cannot type an argument. */
const NOT_AN_ARGUMENT_TYPE = new Set<unknown>([Function, Promise, Date, Map, Set, Symbol, BigInt, RegExp, Error, Uint8Array]);

/** A `@Command` or `@Query` method as describeStateMachine found it. */
export interface HandlerSite {
  /** `Class.method`, for messages. */
  readonly where: string;
  readonly decorator: '@Command' | '@Query';
  /** The name given to the decorator, if any (the hints repeat it). */
  readonly name: string | undefined;
  /** `{ args }` given to the decorator. */
  readonly declared: ArgsDeclaration | undefined;
  /** TypeScript's `design:paramtypes`: undefined when the code was compiled without emitDecoratorMetadata. */
  readonly paramTypes: readonly unknown[] | undefined;
  /** The method's declared parameter count (`Function.length`). */
  readonly arity: number;
}

export interface ResolvedArgs {
  readonly argType: Function | undefined;
  readonly argKind: ArgKind;
}

const NO_ARGS: ResolvedArgs = { argType: undefined, argKind: 'none' };
const ANY_ARGS: ResolvedArgs = { argType: undefined, argKind: 'any' };

function ofType(t: Function): ResolvedArgs {
  if (t === String) return { argType: t, argKind: 'string' };
  if (t === Number) return { argType: t, argKind: 'number' };
  if (t === Boolean) return { argType: t, argKind: 'boolean' };
  if (t === Array) return { argType: t, argKind: 'array' };
  return { argType: t, argKind: 'dto' };
}

function declarationHint(site: HandlerSite): string {
  const name = site.name === undefined ? '' : `${JSON.stringify(site.name)}, `;
  return `${site.decorator}(${name}{ args: YourArgsClass }), or { args: 'any' } to accept unvalidated JSON`;
}

/** A reflected parameter type that says what the argument is (not Object, not missing). */
function informativeType(t: unknown): Function | undefined {
  return typeof t === 'function' && t !== Object ? t : undefined;
}

function fromDeclaration(site: HandlerSite, declared: ArgsDeclaration): ResolvedArgs {
  const reflected = informativeType(site.paramTypes?.[0]);
  if (declared === 'any') {
    if (reflected) {
      throw new StateMachineDefinitionError(
        `${site.decorator} ${site.where} declares args: 'any' but its parameter is typed ${reflected.name}: remove args: 'any' to have it validated, or type the parameter unknown`,
      );
    }
    return ANY_ARGS;
  }
  if (typeof declared !== 'function' || declared === Object || NOT_AN_ARGUMENT_TYPE.has(declared)) {
    const shown = typeof declared === 'function' ? declared.name : typeof declared === 'string' ? JSON.stringify(declared) : String(declared);
    throw new StateMachineDefinitionError(
      `${site.decorator} ${site.where} declares args: ${shown}; declare an argument class (validated with class-validator), String, Number, Boolean, Array, or 'any'`,
    );
  }
  if (reflected && declared !== reflected && !(declared.prototype instanceof reflected)) {
    throw new StateMachineDefinitionError(
      `${site.decorator} ${site.where} declares args: ${declared.name} but its parameter is typed ${reflected.name}; make them the same class (or the declared one a subclass)`,
    );
  }
  return ofType(declared);
}

/**
 * What a handler's args are: from `{ args }` when declared, else from its first parameter's
 * reflected type. A parameter whose type cannot be reflected throws StateMachineDefinitionError
 * saying how to fix it: taking the JSON unvalidated without being told to is how a
 * `{"qty":"lots"}` ends up in the state.
 */
export function resolveHandlerArgs(site: HandlerSite): ResolvedArgs {
  if (site.declared !== undefined) return fromDeclaration(site, site.declared);
  if (site.paramTypes === undefined) {
    if (site.arity === 0) return NO_ARGS;
    throw new StateMachineDefinitionError(
      `${site.decorator} ${site.where} takes an argument, but its type was not emitted (no design:paramtypes metadata), so it could not be validated: ` +
        `compile with emitDecoratorMetadata: true (and experimentalDecorators) in tsconfig, or declare the argument class explicitly: ${declarationHint(site)}`,
    );
  }
  if (site.paramTypes.length === 0) return NO_ARGS;
  const t = site.paramTypes[0];
  const type = informativeType(t);
  if (!type) {
    const reflectedAs =
      t === Object ? 'Object, as an interface, a type alias, any, unknown or a union is' : 'undefined, as void, null, never or a class not yet defined where the decorator ran is';
    throw new StateMachineDefinitionError(
      `the argument of ${site.decorator} ${site.where} has no class type (its type is reflected as ${reflectedAs}), so it could not be validated: ` +
        `give the argument a class type (validated with class-validator) or declare it explicitly: ${declarationHint(site)}`,
    );
  }
  if (NOT_AN_ARGUMENT_TYPE.has(type)) {
    throw new StateMachineDefinitionError(
      `the argument of ${site.decorator} ${site.where} is typed ${type.name}, which JSON args cannot be: ` +
        `give the argument a class type (validated with class-validator) or declare it explicitly: ${declarationHint(site)}`,
    );
  }
  return ofType(type);
}
