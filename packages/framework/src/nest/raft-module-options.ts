import type { ServerFlags } from '../server/flags.js';
import type { RaftServerOptions } from '../server/raft-server.js';

export interface RaftModuleOptions {
  /**
   * This node: the parsed shared flags, or the command line to parse them from (default
   * process.argv). See `parseServerFlags`.
   */
  node?: ServerFlags | { argv: string[] };
  /** Groups founded on a first start with --peers. */
  groups?: { name: string; type: string }[];
  /** Host tuning (tick, election and heartbeat ticks, snapshot interval, timeouts). */
  host?: RaftServerOptions['host'];
}

export interface RaftModuleAsyncOptions {
  imports?: any[];
  inject?: any[];
  useFactory: (...args: any[]) => RaftModuleOptions | Promise<RaftModuleOptions>;
}
