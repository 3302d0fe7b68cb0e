/** How a handler's first parameter is turned into the value it receives. */
export type ArgKind =
  /** A class: plainToInstance, then class-validator (whitelist, forbidNonWhitelisted). */
  | 'dto'
  /** A primitive or array parameter: its JSON type is checked. */
  | 'string'
  | 'number'
  | 'boolean'
  | 'array'
  /** Declared with `{ args: 'any' }`: the plain JSON is passed as it is, unvalidated. */
  | 'any'
  /** The method takes no parameters: args must be absent, null or {}. */
  | 'none';

/** A `@Command` or `@Query` of a state machine. */
export interface HandlerDefinition {
  readonly kind: 'command' | 'query';
  readonly name: string;
  /** The method that handles it. */
  readonly method: string | symbol;
  /** The argument's type: `{ args }` of the decorator, else the first parameter's design:paramtypes[0]; undefined for 'any' and 'none'. */
  readonly argType: Function | undefined;
  readonly argKind: ArgKind;
}

export type StateMachineClass<T extends object = object> = new (...args: any[]) => T;

/** What describeStateMachine reads from a decorated class. */
export interface StateMachineDefinition<T extends object = object> {
  readonly type: string;
  readonly target: StateMachineClass<T>;
  readonly commands: ReadonlyMap<string, HandlerDefinition>;
  readonly queries: ReadonlyMap<string, HandlerDefinition>;
  /** The `@Snapshot` / `@Restore` methods, if declared. */
  readonly hooks: { readonly snapshot?: string | symbol; readonly restore?: string | symbol };
  /** 'disk': the class implements OnDiskStateMachine and keeps its own durable state. */
  readonly storage: 'memory' | 'disk';
}
