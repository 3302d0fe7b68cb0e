// One shell session: the connection and settings, and what happens to each line of input. Lines
// gather into SQL until a statement-ending semicolon; a line starting with "." (between
// statements) is a dot command. Each statement is sent on its own to /db/request, which tells a
// read from a write by the statement itself, so one failing statement never holds back the next.
import { SqlClient, SqlClientError, type FetchLike, type RowsResult, type SqlParam, type SqlValue, type StatementResult } from '../client/index.js';
import { runDotCommand } from './dot-commands.js';
import { renderRows } from './render/render-rows.js';
import { defaultSettings, type ShellSettings } from './shell-settings.js';
import { ShellError } from './shell-error.js';
import { StatementBuffer, statementsOf } from './statement-buffer.js';

/** After a line: go on, or end the session with this exit status. */
export type LineOutcome = { kind: 'continue' } | { kind: 'exit'; code: number };

export const CONTINUE: LineOutcome = { kind: 'continue' };

export interface SessionOptions {
  urls: string[];
  token?: string | undefined;
  fetch?: FetchLike | undefined;
  settings?: Partial<ShellSettings>;
  /** Prompts, no line numbers in errors, never bail. */
  interactive: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

const MAX_READ_DEPTH = 8;

export class ShellSession {
  readonly settings: ShellSettings;
  readonly interactive: boolean;
  /** Statements and commands that failed so far. */
  failures = 0;
  private clientUrls: string[];
  private sqlClient: SqlClient;
  private readonly input = new StatementBuffer();
  private readDepth = 0;

  constructor(private readonly o: SessionOptions) {
    this.settings = { ...defaultSettings(), ...o.settings };
    this.interactive = o.interactive;
    this.clientUrls = o.urls;
    this.sqlClient = this.makeClient(o.urls);
  }

  get client(): SqlClient {
    return this.sqlClient;
  }

  /** host:port of the node statements go to, for the prompt. */
  get host(): string {
    try {
      return new URL(this.sqlClient.currentUrl).host;
    } catch {
      return this.sqlClient.currentUrl;
    }
  }

  get urls(): readonly string[] {
    return this.clientUrls;
  }

  /** `127.0.0.1:4001> `, or sqlite3's continuation prompt while a statement is open. */
  prompt(): string {
    const main = `${this.host}> `;
    return this.input.isEmpty ? main : `${' '.repeat(Math.max(0, main.length - 5))}...> `;
  }

  /** Drops a half-typed statement (Ctrl-C); answers whether there was one. */
  discardPending(): boolean {
    const had = !this.input.isEmpty;
    this.input.clear();
    return had;
  }

  /** Talks to other nodes from now on (.connect). Throws SqlClientError for a bad URL. */
  connect(urls: string[]): void {
    this.sqlClient = this.makeClient(urls);
    this.clientUrls = urls;
  }

  out(text: string): void {
    this.o.out(text);
  }

  /** One line of the session's input. */
  handleLine(line: string, lineNumber: number): Promise<LineOutcome> {
    return this.feed(this.input, line, lineNumber);
  }

  /** The input ended: a last statement without its semicolon still runs. */
  async endOfInput(): Promise<LineOutcome> {
    const rest = this.input.drain();
    return rest === undefined ? CONTINUE : this.runSql(rest, this.input.startLine);
  }

  /** Runs a whole text (a .read file, a command-line argument) as if typed, line by line. */
  async runScript(text: string): Promise<LineOutcome> {
    if (this.readDepth >= MAX_READ_DEPTH) throw new ShellError('bad_command', `.read nested deeper than ${MAX_READ_DEPTH} files`);
    this.readDepth++;
    try {
      const buffer = new StatementBuffer();
      const lines = text.split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const outcome = await this.feed(buffer, lines[i]!, i + 1);
        if (outcome.kind === 'exit') return outcome;
      }
      const rest = buffer.drain();
      return rest === undefined ? CONTINUE : await this.runSql(rest, buffer.startLine);
    } finally {
      this.readDepth--;
    }
  }

  /** Runs a read for a dot command; throws on any error, which the command reports. */
  async readRows(sql: string, params: SqlParam[] = []): Promise<RowsResult> {
    const response = await this.sqlClient.query([params.length === 0 ? sql : [sql, ...params]], { level: this.settings.consistency });
    const result = response.results[0];
    if (result?.kind === 'error') throw new ShellError('bad_command', result.error);
    if (result?.kind !== 'rows') return { kind: 'rows', columns: [], types: [], values: [] };
    return result;
  }

  printRows(columns: readonly string[], values: readonly (readonly SqlValue[])[]): void {
    this.o.out(renderRows(this.settings.mode, columns, values, this.settings));
  }

  /** Counts a failure and prints it on stderr, one line, never a stack. */
  reportError(message: string, lineNumber?: number): void {
    this.failures++;
    const where = !this.interactive && lineNumber !== undefined ? `near line ${lineNumber}: ` : '';
    this.o.err(`Error: ${where}${message}\n`);
  }

  private async feed(buffer: StatementBuffer, line: string, lineNumber: number): Promise<LineOutcome> {
    if (buffer.isEmpty) {
      const trimmed = line.trim();
      if (trimmed.startsWith('.')) return this.afterFailure(await this.dotCommand(trimmed, lineNumber));
      // The rqlite shell's bare words, so that "quit" does not sit waiting for a semicolon.
      if (/^(quit|exit);?$/i.test(trimmed)) return { kind: 'exit', code: this.exitCode() };
    }
    const sql = buffer.add(line, lineNumber);
    return sql === undefined ? CONTINUE : this.runSql(sql, buffer.startLine);
  }

  /** The exit status at the end of the session: non-interactive input that had errors fails. */
  exitCode(): number {
    return !this.interactive && this.failures > 0 ? 1 : 0;
  }

  private async dotCommand(line: string, lineNumber: number): Promise<LineOutcome | 'failed'> {
    try {
      return await runDotCommand(this, line);
    } catch (e) {
      this.reportError(messageOf(e), lineNumber);
      return 'failed';
    }
  }

  private async runSql(text: string, lineNumber: number): Promise<LineOutcome> {
    for (const sql of statementsOf(text)) {
      const ok = await this.runStatement(sql, lineNumber);
      if (!ok) {
        const outcome = this.afterFailure('failed');
        if (outcome.kind === 'exit') return outcome;
      }
    }
    return CONTINUE;
  }

  /** With .bail on, non-interactive input stops at the first failure. */
  private afterFailure(outcome: LineOutcome | 'failed'): LineOutcome {
    if (outcome !== 'failed') return outcome;
    return this.settings.bail && !this.interactive ? { kind: 'exit', code: 1 } : CONTINUE;
  }

  private async runStatement(sql: string, lineNumber: number): Promise<boolean> {
    const started = performance.now();
    let results: StatementResult[];
    let serverSeconds: number | undefined;
    try {
      const response = await this.sqlClient.request([sql], { level: this.settings.consistency, timings: this.settings.timer });
      results = response.results;
      serverSeconds = response.time;
    } catch (e) {
      this.reportError(messageOf(e), lineNumber);
      return false;
    }
    const elapsed = (performance.now() - started) / 1000;
    let ok = true;
    for (const result of results) {
      if (result.kind === 'error') {
        this.reportError(result.error, lineNumber);
        ok = false;
      } else if (result.kind === 'rows') {
        this.printRows(result.columns, result.values);
      } else if (this.settings.mode !== 'csv' && this.settings.mode !== 'json') {
        const n = result.rowsAffected;
        this.o.out(`${n} ${n === 1 ? 'row' : 'rows'} affected\n`);
      }
    }
    if (this.settings.timer) this.o.out(runTimeLine(elapsed, serverSeconds, results));
    return ok;
  }

  private makeClient(urls: string[]): SqlClient {
    // Every integer as a bigint: exact, and a number is then always a REAL (shown as 2.0, not 2).
    return new SqlClient({ urls, token: this.o.token, fetch: this.o.fetch, integers: 'bigint' });
  }
}

function runTimeLine(elapsed: number, serverSeconds: number | undefined, results: StatementResult[]): string {
  const server = serverSeconds === undefined ? '' : `, server ${serverSeconds.toFixed(6)} s`;
  const rows = results.length === 1 && results[0]!.kind === 'rows' ? ` (${results[0]!.values.length} ${results[0]!.values.length === 1 ? 'row' : 'rows'})` : '';
  return `Run Time: real ${elapsed.toFixed(3)} s${server}${rows}\n`;
}

/** What the user sees of an error: its message only (a SqlClientError's is written for people). */
export function messageOf(e: unknown): string {
  if (e instanceof SqlClientError && e.code === 'unauthorized') return `${e.message}: give the cluster's token with --token or RAFTKIT_TOKEN`;
  if (e instanceof SqlClientError || e instanceof ShellError) return e.message;
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}
