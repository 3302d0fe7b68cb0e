// The shell's dot commands, in the spirit of sqlite3's and the rqlite shell's. Each takes its
// words after the command and throws ShellError (or SqlClientError) when it fails; the session
// prints that as one "Error: ..." line.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SqlParam } from '../client/index.js';
import { commandWords } from './command-words.js';
import { CONSISTENCY_LEVELS } from './consistency.js';
import { isOutputMode, OUTPUT_MODES } from './render/output-mode.js';
import { parseConsistency } from './shell-args.js';
import { ShellError } from './shell-error.js';
import type { LineOutcome, ShellSession } from './shell-session.js';
import { CONTINUE } from './shell-session.js';
import { formatStatus } from './status-format.js';

interface DotCommand {
  usage: string;
  help: string;
  run(session: ShellSession, args: string[]): Promise<LineOutcome | void>;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** The store's own bookkeeping table(s), hidden from .tables and .schema as sqlite_ ones are. */
const STORE_PREFIX = '_raftkit_';

const COMMANDS: Record<string, DotCommand> = {
  backup: {
    usage: '.backup FILE',
    help: 'Write a consistent copy of the database (a SQLite file) to FILE',
    async run(session, args) {
      const file = oneFile(args, '.backup FILE');
      const bytes = await session.client.backup();
      await writeOut(file, bytes);
      session.out(`Backup written to ${file} (${bytes.byteLength} bytes)\n`);
    },
  },
  bail: {
    usage: '.bail on|off',
    help: 'Stop piped input at the first error (default off)',
    run(session, args) {
      session.settings.bail = onOff(args, '.bail on|off');
      return Promise.resolve();
    },
  },
  connect: {
    usage: '.connect URL[,URL...]',
    help: 'Talk to other node(s) from now on',
    run(session, args) {
      const urls = args.flatMap((a) => a.split(',')).filter((u) => u !== '');
      if (urls.length === 0) throw usage('.connect URL[,URL...]');
      session.connect(urls);
      session.out(`Connected to ${session.urls.join(', ')}\n`);
      return Promise.resolve();
    },
  },
  consistency: {
    usage: '.consistency [LEVEL]',
    help: `Show or set the read consistency level (${CONSISTENCY_LEVELS.join(', ')})`,
    run(session, args) {
      if (args.length > 1) throw usage('.consistency [LEVEL]');
      if (args[0] === undefined) session.out(`${session.settings.consistency}\n`);
      else session.settings.consistency = parseConsistency(args[0], 'bad_command');
      return Promise.resolve();
    },
  },
  dump: {
    usage: '.dump [FILE]',
    help: 'Dump the database as SQL text, to FILE or to the screen',
    async run(session, args) {
      if (args.length > 1) throw usage('.dump [FILE]');
      const dump = await session.client.backup({ format: 'sql' });
      if (args[0] === undefined) {
        session.out(Buffer.from(dump).toString('utf8'));
        return;
      }
      await writeOut(args[0], dump);
      session.out(`SQL dump written to ${args[0]} (${dump.byteLength} bytes)\n`);
    },
  },
  exit: {
    usage: '.exit [CODE]',
    help: 'Exit the shell (with CODE as the exit status)',
    run(session, args) {
      if (args.length > 1 || (args[0] !== undefined && !/^\d{1,3}$/.test(args[0]))) throw usage('.exit [CODE]');
      return Promise.resolve({ kind: 'exit', code: args[0] === undefined ? session.exitCode() : Number(args[0]) });
    },
  },
  headers: {
    usage: '.headers on|off',
    help: 'Show column names in column and csv modes (default on)',
    run(session, args) {
      session.settings.headers = onOff(args, '.headers on|off');
      return Promise.resolve();
    },
  },
  help: {
    usage: '.help',
    help: 'Show this message',
    run(session) {
      session.out(helpText());
      return Promise.resolve();
    },
  },
  indexes: {
    usage: '.indexes [TABLE]',
    help: 'List the indexes (of tables matching the LIKE pattern TABLE)',
    async run(session, args) {
      if (args.length > 1) throw usage('.indexes [TABLE]');
      const filter = args[0] === undefined ? '' : ' AND tbl_name LIKE ?';
      const rows = await session.readRows(`SELECT name, tbl_name AS "table" FROM sqlite_master WHERE type = 'index'${filter} ORDER BY tbl_name, name`, params(args[0]));
      session.printRows(rows.columns, rows.values);
    },
  },
  mode: {
    usage: '.mode [MODE]',
    help: `Show or set the output mode (${Object.keys(OUTPUT_MODES).join(', ')})`,
    run(session, args) {
      if (args.length > 1) throw usage('.mode [MODE]');
      const mode = args[0];
      if (mode === undefined) {
        session.out(`${session.settings.mode}\n`);
      } else if (isOutputMode(mode)) {
        session.settings.mode = mode;
      } else {
        const modes = Object.entries(OUTPUT_MODES).map(([name, what]) => `  ${name.padEnd(8)}${what}`);
        throw new ShellError('bad_command', `unknown mode ${JSON.stringify(mode)}; the modes are:\n${modes.join('\n')}`);
      }
      return Promise.resolve();
    },
  },
  nodes: {
    usage: '.nodes',
    help: 'Show the cluster members as the connected node sees them',
    async run(session, args) {
      if (args.length > 0) throw usage('.nodes');
      const nodes = await session.client.nodes();
      session.printRows(
        ['id', 'api_addr', 'addr', 'voter', 'reachable', 'leader', 'error'],
        nodes.map((n) => [n.id, n.apiAddr ?? null, n.addr ?? null, n.voter, n.reachable, n.leader, n.error ?? null]),
      );
    },
  },
  nullvalue: {
    usage: '.nullvalue TEXT',
    help: 'Show NULL as TEXT (default NULL)',
    run(session, args) {
      if (args.length !== 1) throw usage('.nullvalue TEXT');
      session.settings.nullValue = args[0]!;
      return Promise.resolve();
    },
  },
  quit: {
    usage: '.quit',
    help: 'Exit the shell',
    run(session) {
      return Promise.resolve({ kind: 'exit', code: session.exitCode() });
    },
  },
  read: {
    usage: '.read FILE',
    help: 'Run the SQL and dot commands in FILE',
    async run(session, args) {
      const file = oneFile(args, '.read FILE');
      return session.runScript(await readIn(file));
    },
  },
  ready: {
    usage: '.ready',
    help: 'Whether the connected node is ready (has a leader, database open)',
    async run(session, args) {
      if (args.length > 0) throw usage('.ready');
      session.out((await session.client.ready()) ? 'ready\n' : 'not ready\n');
    },
  },
  restore: {
    usage: '.restore FILE',
    help: 'Replace the whole database, on every node, with FILE (a SQLite file or a SQL dump)',
    async run(session, args) {
      const file = oneFile(args, '.restore FILE');
      const bytes = await readFile(resolve(file)).catch((e: unknown) => {
        throw fileError(file, e);
      });
      await session.client.load(bytes);
      const kind = bytes.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER) ? 'SQLite file' : 'SQL dump';
      session.out(`Database restored from ${file} (${kind})\n`);
    },
  },
  schema: {
    usage: '.schema [TABLE]',
    help: 'Show the CREATE statements (of tables matching the LIKE pattern TABLE)',
    async run(session, args) {
      if (args.length > 1) throw usage('.schema [TABLE]');
      const filter = args[0] === undefined ? '' : ' AND tbl_name LIKE ?';
      const rows = await session.readRows(
        `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND substr(name, 1, ?) <> ?${filter} ORDER BY tbl_name, type DESC, name`,
        [BigInt(STORE_PREFIX.length), STORE_PREFIX, ...params(args[0])],
      );
      session.out(rows.values.map((row) => `${String(row[0])};\n`).join(''));
    },
  },
  status: {
    usage: '.status [KEY]',
    help: 'Show the connected node\'s status (or one part of it, e.g. "store.raft")',
    async run(session, args) {
      if (args.length > 1) throw usage('.status [KEY]');
      session.out(formatStatus(await session.client.status(args[0])));
    },
  },
  tables: {
    usage: '.tables [PATTERN]',
    help: 'List the tables and views (matching the LIKE pattern PATTERN)',
    async run(session, args) {
      if (args.length > 1) throw usage('.tables [PATTERN]');
      const filter = args[0] === undefined ? '' : ' AND name LIKE ?';
      const rows = await session.readRows(
        `SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND substr(name, 1, ?) <> ?${filter} ORDER BY name`,
        [BigInt(STORE_PREFIX.length), STORE_PREFIX, ...params(args[0])],
      );
      session.printRows(rows.columns, rows.values);
    },
  },
  timer: {
    usage: '.timer on|off',
    help: 'Show the run time of each statement (real, and on the node)',
    run(session, args) {
      session.settings.timer = onOff(args, '.timer on|off');
      return Promise.resolve();
    },
  },
};

/** sqlite3 takes any unambiguous prefix (.q, .sch); the rqlite shell takes the words in any case. */
export async function runDotCommand(session: ShellSession, line: string): Promise<LineOutcome> {
  const [word = '.', ...args] = commandWords(line);
  const name = word.slice(1).toLowerCase();
  const command = COMMANDS[name] ?? uniquePrefix(name);
  if (!command) throw new ShellError('bad_command', `unknown command or invalid arguments: "${word.slice(1)}". Enter ".help" for help`);
  return (await command.run(session, args)) ?? CONTINUE;
}

function uniquePrefix(name: string): DotCommand | undefined {
  if (name === '') return undefined;
  const matches = Object.keys(COMMANDS).filter((c) => c.startsWith(name));
  return matches.length === 1 ? COMMANDS[matches[0]!] : undefined;
}

export function helpText(): string {
  const entries = Object.values(COMMANDS).map((c) => [c.usage, c.help] as const);
  const width = Math.max(...entries.map(([u]) => u.length)) + 2;
  const lines = entries.map(([u, h]) => `${u.padEnd(width)}${h}`);
  return `${lines.join('\n')}

Statements end with ";" and may span lines. Each goes to /db/request at the read consistency
level, which runs a read as a read and a write through the log.
`;
}

function onOff(args: string[], form: string): boolean {
  const word = args.length === 1 ? args[0]!.toLowerCase() : '';
  if (['on', 'yes', 'true', '1'].includes(word)) return true;
  if (['off', 'no', 'false', '0'].includes(word)) return false;
  throw usage(form);
}

function oneFile(args: string[], form: string): string {
  if (args.length !== 1 || args[0] === '') throw usage(form);
  return args[0]!;
}

function params(pattern: string | undefined): SqlParam[] {
  return pattern === undefined ? [] : [pattern];
}

function usage(form: string): ShellError {
  return new ShellError('bad_command', `usage: ${form}`);
}

async function readIn(file: string): Promise<string> {
  try {
    return await readFile(resolve(file), 'utf8');
  } catch (e) {
    throw fileError(file, e);
  }
}

async function writeOut(file: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(resolve(file), bytes);
  } catch (e) {
    throw fileError(file, e);
  }
}

function fileError(file: string, e: unknown): ShellError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
  return new ShellError('file', `${file}: ${reason}`);
}
