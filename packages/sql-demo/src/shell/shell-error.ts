// Errors of the shell itself (not of the SQL it sends): bad command-line flags, a dot command used
// wrongly, a file that cannot be read or written. Their message is what the user sees.

export type ShellErrorCode = 'usage' | 'bad_command' | 'file';

export class ShellError extends Error {
  constructor(
    readonly code: ShellErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ShellError';
  }
}
