import { parseServerFlags, type ServerFlags } from '../server/flags.js';
import type { RaftModuleOptions } from './raft-module-options.js';

/** What runNestRaftApp parsed, for a RaftModule.forRoot() that names no node. */
let parsedByRunner: { flags: ServerFlags; appFlags: Record<string, string | boolean | undefined> } | undefined;

/** Called by runNestRaftApp before the application is created. */
export function useParsedFlags(flags: ServerFlags, appFlags: Record<string, string | boolean | undefined>): void {
  parsedByRunner = { flags, appFlags };
}

/** The app's own flags as runNestRaftApp parsed them (empty without it). */
export function parsedAppFlags(): Record<string, string | boolean | undefined> {
  return parsedByRunner?.appFlags ?? {};
}

/**
 * This node's flags: given directly, parsed from the given command line (with the app's own
 * flags declared, so they are not refused as unknown), or those runNestRaftApp parsed, or
 * process.argv. A bad command line throws FlagError, whose message is one line.
 */
export function nodeFlagsOf(node: RaftModuleOptions['node']): ServerFlags {
  if (node && 'id' in node) return node;
  if (!node && parsedByRunner) return parsedByRunner.flags;
  return parseServerFlags(node?.argv ?? process.argv.slice(2), process.env, node?.appFlags ?? {}).flags;
}
