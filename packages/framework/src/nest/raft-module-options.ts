import type { ServerFlags } from '../server/flags.js';
import type { RaftServerOptions } from '../server/raft-server.js';

export interface RaftModuleOptions {
  /**
   * This node: the parsed shared flags, or the command line to parse them from with the app's
   * own flags declared (`appFlags`, so they are not refused as unknown). Default: what
   * runNestRaftApp parsed, else process.argv. See `parseServerFlags`.
   */
  node?: ServerFlags | { argv: string[]; appFlags?: Record<string, { type: 'string' | 'boolean' }> };
  /** Groups founded on a first start with --peers. */
  groups?: { name: string; type: string }[];
  /** Host tuning (tick, election and heartbeat ticks, snapshot interval, timeouts). */
  host?: RaftServerOptions['host'];
  /**
   * Register RaftExceptionFilter for the whole application, so RaftkitErrors are answered with
   * the API's status and JSON body instead of a 500 (default true).
   */
  exceptionFilter?: boolean;
}

export interface RaftModuleAsyncOptions {
  imports?: any[];
  /** As RaftModuleOptions.exceptionFilter (decided when the module is declared). */
  exceptionFilter?: boolean;
  inject?: any[];
  useFactory: (...args: any[]) => RaftModuleOptions | Promise<RaftModuleOptions>;
}
