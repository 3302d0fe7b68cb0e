import { Injectable } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants.js';
import { STATE_MACHINE_METADATA } from '../fsm/constants.js';
import type { StateMachineClass } from '../fsm/definition.js';

/** The state machine classes one RaftModule.forFeature call declared. */
export class RaftFeature {
  constructor(readonly machines: readonly StateMachineClass[]) {}
}

/**
 * Finds the `@StateMachine` classes declared with RaftModule.forFeature or registered as providers (like @nestjs/cqrs finds
 * its handlers) and makes a fresh instance per group with the class's constructor dependencies
 * resolved from the Nest container.
 */
@Injectable()
export class RaftExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
  ) {}

  machines(): StateMachineClass[] {
    const found = new Set<StateMachineClass>();
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.instance instanceof RaftFeature) {
        for (const m of wrapper.instance.machines) found.add(m);
        continue;
      }
      const type = wrapper.metatype as StateMachineClass | undefined;
      if (typeof type === 'function' && Reflect.getMetadata(STATE_MACHINE_METADATA, type) !== undefined) found.add(type);
    }
    return [...found];
  }

  /** A new instance for one group: constructor parameters come from the container. */
  instantiate(cls: StateMachineClass): object {
    const paramTypes: unknown[] = Reflect.getMetadata('design:paramtypes', cls) ?? [];
    const overrides: { index: number; param: unknown }[] = Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, cls) ?? [];
    const tokens = paramTypes.slice();
    for (const o of overrides) tokens[o.index] = o.param;
    const args = tokens.map((token, i) => {
      if (token === undefined || token === Object) {
        throw new Error(`${cls.name}: constructor parameter ${i} has no injection token (use a class type or @Inject(token))`);
      }
      return this.moduleRef.get(token as never, { strict: false });
    });
    return new cls(...args);
  }
}
