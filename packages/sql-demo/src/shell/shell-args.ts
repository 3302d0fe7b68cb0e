// `raftkit-sql shell [flags] [SQL...]`: the command line, checked before anything connects.
import type { ConsistencyLevel } from '../client/index.js';
import { CONSISTENCY_LEVELS } from './consistency.js';
import { isOutputMode, OUTPUT_MODES, type OutputMode } from './render/output-mode.js';
import { ShellError, type ShellErrorCode } from './shell-error.js';

export interface ShellArgs {
  /** Nodes to talk to, in failover order. */
  urls: string[];
  token?: string;
  consistency: ConsistencyLevel;
  mode: OutputMode;
  timer: boolean;
  /** Stop at the first error (non-interactive input). */
  bail: boolean;
  help: boolean;
  /** SQL and dot commands given on the command line: run them and exit, reading no input. */
  commands: string[];
}

export const DEFAULT_URL = 'http://127.0.0.1:4001';

export const SHELL_USAGE = `Usage: raftkit-sql shell [flags] [SQL or .command ...]

An interactive SQL shell for a raftkit-sql (or rqlite) cluster. With statements on the command
line it runs them and exits; with input piped in it runs that and exits.

Flags:
  --url URL[,URL...]     node(s) to talk to, tried in order (default ${DEFAULT_URL})
  --token T              the cluster's token (default: env RAFTKIT_TOKEN)
  --consistency LEVEL    read consistency: ${CONSISTENCY_LEVELS.join(', ')} (default weak)
  --mode MODE            output mode: ${Object.keys(OUTPUT_MODES).join(', ')} (default table)
  --timer                print each statement's run time
  --bail                 stop at the first error (piped input and command-line statements)
  -h, --help             this help

Exit status: 0 when every statement succeeded (always 0 after .quit in an interactive session),
1 when a statement or command failed in piped or command-line input, 2 for bad flags.
History is kept in ~/.raftkit_sql_history (env RAFTKIT_SQL_HISTORY: another file, or empty for none).
`;

const VALUE_FLAGS = new Set(['--url', '--token', '--consistency', '--mode']);

/** Throws ShellError('usage') naming the bad flag. */
export function parseShellArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ShellArgs {
  const args: ShellArgs = { urls: [], consistency: 'weak', mode: 'table', timer: false, bail: false, help: false, commands: [] };
  if (env.RAFTKIT_TOKEN) args.token = env.RAFTKIT_TOKEN;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      args.commands.push(arg);
      continue;
    }
    if (arg === '--') {
      args.commands.push(...argv.slice(i + 1));
      break;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (VALUE_FLAGS.has(flag) && value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ShellError('usage', `${flag} needs a value`);
    } else if (!VALUE_FLAGS.has(flag) && value !== undefined) {
      throw new ShellError('usage', `${flag} takes no value`);
    }
    applyFlag(args, flag, value ?? '');
  }
  if (args.urls.length === 0) args.urls.push(DEFAULT_URL);
  return args;
}

function applyFlag(args: ShellArgs, flag: string, value: string): void {
  switch (flag) {
    case '--url':
      args.urls.push(
        ...value
          .split(',')
          .map((u) => u.trim())
          .filter((u) => u !== ''),
      );
      if (args.urls.length === 0) throw new ShellError('usage', '--url needs a URL, e.g. http://127.0.0.1:4001');
      return;
    case '--token':
      args.token = value;
      return;
    case '--consistency':
      args.consistency = parseConsistency(value, 'usage');
      return;
    case '--mode':
      if (!isOutputMode(value)) throw new ShellError('usage', `unknown output mode ${JSON.stringify(value)}: use one of ${Object.keys(OUTPUT_MODES).join(', ')}`);
      args.mode = value;
      return;
    case '--timer':
      args.timer = true;
      return;
    case '--bail':
      args.bail = true;
      return;
    case '-h':
    case '--help':
      args.help = true;
      return;
    default:
      throw new ShellError('usage', `unknown flag ${flag}`);
  }
}

export function parseConsistency(value: string, code: ShellErrorCode): ConsistencyLevel {
  const level = CONSISTENCY_LEVELS.find((l) => l === value.toLowerCase());
  if (!level) throw new ShellError(code, `unknown consistency level ${JSON.stringify(value)}: use one of ${CONSISTENCY_LEVELS.join(', ')}`);
  return level;
}
