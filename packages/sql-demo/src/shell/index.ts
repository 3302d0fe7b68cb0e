// The interactive shell of the SQL store (`raftkit-sql shell`).
export { runShell, type ShellIo } from './run-shell.js';
export { parseShellArgs, SHELL_USAGE, DEFAULT_URL, type ShellArgs } from './shell-args.js';
export { ShellError, type ShellErrorCode } from './shell-error.js';
export { isOutputMode, OUTPUT_MODES, type OutputMode } from './render/output-mode.js';
export { renderRows } from './render/render-rows.js';
