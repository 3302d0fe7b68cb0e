// Drives runShell as a user piping a script into `raftkit-sql shell` would: the input ends after
// the script, stdout and stderr are collected, the exit status is returned.
import { PassThrough } from 'node:stream';
import { runShell, type ShellIo } from '../../src/shell/index.js';

export interface SessionResult {
  code: number;
  out: string;
  err: string;
}

export interface OpenSession {
  input: PassThrough;
  output: () => string;
  errors: () => string;
  done: Promise<number>;
}

/** Starts a session on live streams (for interactive tests that type line by line). */
export function openSession(argv: string[], io: Omit<ShellIo, 'input' | 'output' | 'errorOutput'> = {}): OpenSession {
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  let out = '';
  let err = '';
  output.on('data', (d: Buffer) => (out += d.toString()));
  errorOutput.on('data', (d: Buffer) => (err += d.toString()));
  const done = runShell(argv, { env: {}, ...io, input, output, errorOutput });
  return { input, output: () => out, errors: () => err, done };
}

/** Runs `script` as piped input (not a terminal) and answers what the shell printed. */
export async function runScript(argv: string[], script: string, io: Omit<ShellIo, 'input' | 'output' | 'errorOutput'> = {}): Promise<SessionResult> {
  const session = openSession(argv, io);
  session.input.end(script);
  const code = await session.done;
  return { code, out: session.output(), err: session.errors() };
}
