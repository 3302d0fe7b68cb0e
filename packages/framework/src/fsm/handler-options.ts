/**
 * What a handler's argument is declared as when its parameter type cannot say it (no
 * emitDecoratorMetadata, or a parameter typed by an interface, a type alias or `unknown`):
 * an argument class (validated with class-validator), `String`, `Number`, `Boolean` or `Array`
 * (their JSON type is checked), or `'any'` to knowingly take the JSON as it is, unvalidated.
 */
export type ArgsDeclaration = (abstract new (...args: any[]) => unknown) | StringConstructor | NumberConstructor | BooleanConstructor | ArrayConstructor | 'any';

/** The options of `@Command(...)` and `@Query(...)`. */
export interface HandlerOptions {
  /** The name in the API; default: the method's name. */
  name?: string;
  /** The argument's type, instead of the parameter's emitted `design:paramtypes`. */
  args?: ArgsDeclaration;
}

/**
 * The options of the call forms `()`, `(name)`, `(options)` and `(name, options)`; a name given
 * first wins over one in the options.
 */
export function handlerOptions(nameOrOptions: string | HandlerOptions | undefined, more: Omit<HandlerOptions, 'name'> | undefined): HandlerOptions {
  if (typeof nameOrOptions === 'string') return { ...more, name: nameOrOptions };
  return { ...nameOrOptions, ...more };
}
