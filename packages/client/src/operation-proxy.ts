/** Sends one operation by name; what that means (command, query, which route) is the caller's. */
export type OperationCall = (name: string, args: unknown, opts?: object) => Promise<unknown>;

/**
 * An object whose every string property is a method calling `call` with that property's name,
 * made on first use and then reused. `then` and symbols are not operations, so the object is
 * not mistaken for a promise (`await`, `Promise.resolve`) nor for an iterable.
 */
export function operationProxy(call: OperationCall): object {
  const made = new Map<string, (args: unknown, opts?: object) => Promise<unknown>>();
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      let f = made.get(prop);
      if (!f) {
        f = (args: unknown, opts?: object) => call(prop, args, opts);
        made.set(prop, f);
      }
      return f;
    },
    set() {
      return false;
    },
  });
}
