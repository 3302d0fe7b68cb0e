import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { RAFT_APP_FLAGS, RAFT_MODULE_OPTIONS } from './constants.js';
import { parsedAppFlags } from './node-flags.js';
import { RaftExceptionFilter } from './raft-exception.filter.js';
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
 * forRoot takes this node's flags from `node`, else from runNestRaftApp, else process.argv;
 * forFeature declares state machine classes (their constructor dependencies are injected).
 * RaftkitErrors thrown from HTTP handlers are answered like the node's API answers them
 * (RaftExceptionFilter; `exceptionFilter: false` leaves them to Nest). The node serves its
 * own port (--listen: peers, HTTP API, watch) next to the Nest app's; see docs/nest.md.
 */
@Module({})
export class RaftModule {
  static forRoot(options: RaftModuleOptions = {}): DynamicModule {
    return RaftModule.root([{ provide: RAFT_MODULE_OPTIONS, useValue: options }], [], options.exceptionFilter ?? true);
  }

  static forRootAsync(options: RaftModuleAsyncOptions): DynamicModule {
    return RaftModule.root(
      [{ provide: RAFT_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }],
      options.imports ?? [],
      options.exceptionFilter ?? true,
    );
  }

  /**
   * Declares state machine classes; they are discovered when the node starts and instantiated
   * per group with their constructor dependencies taken from anywhere in the application.
   */
  static forFeature(machines: Type<object>[]): DynamicModule {
    return { module: RaftModule, providers: [{ provide: Symbol('raftkit:feature'), useValue: new RaftFeature(machines) }] };
  }

  private static root(providers: Provider[], imports: any[], exceptionFilter: boolean): DynamicModule {
    const filter: Provider[] = exceptionFilter ? [{ provide: APP_FILTER, useClass: RaftExceptionFilter }] : [];
    return {
      module: RaftModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [...providers, ...filter, { provide: RAFT_APP_FLAGS, useFactory: parsedAppFlags }, RaftExplorer, RaftService],
      exports: [RaftService, RAFT_APP_FLAGS],
    };
  }
}
