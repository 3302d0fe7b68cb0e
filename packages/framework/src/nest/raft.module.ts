import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RAFT_MODULE_OPTIONS } from './constants.js';
import type { RaftModuleAsyncOptions, RaftModuleOptions } from './raft-module-options.js';
import { RaftExplorer, RaftFeature } from './raft.explorer.js';
import { RaftService } from './raft.service.js';

/**
 * Runs a raftkit node inside a Nest application.
 *
 * ```ts
 * @Module({ imports: [RaftModule.forRoot({ groups: [{ name: 'kv', type: 'kv' }] }), RaftModule.forFeature([KvStore])] })
 * class AppModule {}
 * ```
 * forRoot reads the shared flags from process.argv unless `node` is given; forFeature declares
 * state machine classes (their constructor dependencies are injected).
 */
@Module({})
export class RaftModule {
  static forRoot(options: RaftModuleOptions = {}): DynamicModule {
    return RaftModule.root([{ provide: RAFT_MODULE_OPTIONS, useValue: options }], []);
  }

  static forRootAsync(options: RaftModuleAsyncOptions): DynamicModule {
    return RaftModule.root([{ provide: RAFT_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }], options.imports ?? []);
  }

  /**
   * Declares state machine classes; they are discovered when the node starts and instantiated
   * per group with their constructor dependencies taken from anywhere in the application.
   */
  static forFeature(machines: Type<object>[]): DynamicModule {
    return { module: RaftModule, providers: [{ provide: Symbol('raftkit:feature'), useValue: new RaftFeature(machines) }] };
  }

  private static root(providers: Provider[], imports: any[]): DynamicModule {
    return {
      module: RaftModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [...providers, RaftExplorer, RaftService],
      exports: [RaftService],
    };
  }
}
