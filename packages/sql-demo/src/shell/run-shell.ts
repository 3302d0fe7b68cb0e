// `raftkit-sql shell`: parses the flags, then runs the statements given on the command line, or
// the piped input, or an interactive session. Errors are one line on stderr, never a stack.
import { SqlClientError, type FetchLike } from '../client/index.js';
import { historyPath } from './history-file.js';
import { runLineLoop } from './line-loop.js';
import { parseShellArgs, SHELL_USAGE, type ShellArgs } from './shell-args.js';
import { ShellError } from './shell-error.js';
import { messageOf, ShellSession, type LineOutcome } from './shell-session.js';

/** Where the shell reads and writes, and how it reaches the nodes; each defaults to the process's own. */
export interface ShellIo {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  errorOutput?: NodeJS.WritableStream;
  /** The HTTP transport (a test's fake); the global fetch by default. */
  fetch?: FetchLike;
  /** RAFTKIT_TOKEN and RAFTKIT_SQL_HISTORY are read from here (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Prompts, banner, history and Ctrl-C handling; by default when the input is a terminal. */
  interactive?: boolean;
}

/** Runs the shell with `argv` (the words after `shell`); resolves to the exit status. */
export async function runShell(argv: string[], io: ShellIo = {}): Promise<number> {
  const input = io.input ?? process.stdin;
  const output = io.output ?? process.stdout;
  const errorOutput = io.errorOutput ?? process.stderr;
  const env = io.env ?? process.env;
  const write = (stream: NodeJS.WritableStream) => (text: string) => void stream.write(text);
  // A reader that went away (| head) is not worth a crash with a stack trace: output is dropped.
  const ignoreOutputError = () => {};
  output.on('error', ignoreOutputError);

  let args: ShellArgs;
  try {
    args = parseShellArgs(argv, env);
  } catch (e) {
    if (!(e instanceof ShellError)) throw e;
    errorOutput.write(`raftkit-sql shell: ${e.message}\nRun "raftkit-sql shell --help" for the flags.\n`);
    return 2;
  }
  if (args.help) {
    output.write(SHELL_USAGE);
    return 0;
  }
  const fromCommandLine = args.commands.length > 0;
  const interactive = !fromCommandLine && (io.interactive ?? (input as { isTTY?: boolean }).isTTY === true);

  let session: ShellSession;
  try {
    session = new ShellSession({
      urls: args.urls,
      token: args.token,
      fetch: io.fetch,
      settings: { consistency: args.consistency, mode: args.mode, timer: args.timer, bail: args.bail },
      interactive,
      out: write(output),
      err: write(errorOutput),
    });
  } catch (e) {
    if (!(e instanceof SqlClientError)) throw e;
    errorOutput.write(`raftkit-sql shell: ${e.message}\n`);
    return 2;
  }

  try {
    const outcome = fromCommandLine ? await runCommands(session, args.commands) : await runInput(session, input, output, env, interactive);
    return outcome.kind === 'exit' ? outcome.code : session.exitCode();
  } catch (e) {
    // Nothing should get here; if something does, it is still one line.
    errorOutput.write(`Error: ${messageOf(e)}\n`);
    return 1;
  } finally {
    output.removeListener('error', ignoreOutputError);
  }
}

async function runCommands(session: ShellSession, commands: string[]): Promise<LineOutcome> {
  for (const command of commands) {
    const outcome = await session.runScript(command);
    if (outcome.kind === 'exit') return outcome;
  }
  return { kind: 'continue' };
}

function runInput(
  session: ShellSession,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  env: Readonly<Record<string, string | undefined>>,
  interactive: boolean,
): Promise<LineOutcome> {
  if (interactive) {
    output.write(`raftkit-sql shell, talking to ${session.urls.join(', ')}\nEnter ".help" for usage hints.\n`);
  }
  return runLineLoop(session, { input, output }, interactive ? historyPath(env) : undefined);
}
