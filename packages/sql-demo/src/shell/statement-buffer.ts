// Lines typed (or piped) into the shell, gathered until they form complete SQL: the text ends with
// a semicolon that ends a statement, by SQLite's own rule (sqlite3_complete): not one inside a
// string, a quoted name or a comment, nor one inside CREATE TRIGGER ... BEGIN ... END.
import { splitTokens } from '../sql/statement-splitter.js';
import { isSignificant, tokenize, type Token } from '../sql/tokenizer.js';

export class StatementBuffer {
  private lines: string[] = [];
  /** The input line number the buffered text started at (for error messages). */
  private firstLine = 0;

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  get startLine(): number {
    return this.firstLine;
  }

  /** Adds a line; answers the complete SQL text (and empties the buffer) once there is one. */
  add(line: string, lineNumber: number): string | undefined {
    if (this.lines.length === 0) {
      if (line.trim() === '') return undefined;
      this.firstLine = lineNumber;
    }
    this.lines.push(line);
    const text = this.lines.join('\n');
    if (isOnlyComments(text)) {
      // A comment line between statements opens nothing (no continuation prompt for it).
      this.lines = [];
      return undefined;
    }
    if (!isCompleteSql(text)) return undefined;
    this.lines = [];
    return text;
  }

  /** Whatever is left (input ended without a final semicolon), emptying the buffer. */
  drain(): string | undefined {
    const text = this.lines.join('\n');
    this.lines = [];
    return text.trim() === '' ? undefined : text;
  }

  clear(): void {
    this.lines = [];
  }
}

/** Whether `text` ends with a statement-ending semicolon (after which only blanks and comments). */
export function isCompleteSql(text: string): boolean {
  let tokens: Token[];
  try {
    tokens = tokenize(text);
  } catch (e) {
    // An open string or quoted name goes on on the next line; any other bad token is the
    // server's to report, so the text is sent as it is.
    return !/unterminated/.test((e as Error).message);
  }
  const significant = tokens.filter(isSignificant);
  const last = significant[significant.length - 1];
  if (last?.kind !== 'semicolon') return false;
  // The final semicolon ends a statement unless the splitter kept it inside one (a trigger body).
  const statements = splitTokens(text, tokens);
  const final = statements[statements.length - 1];
  return final === undefined || final.end <= last.start;
}

/** Blanks and complete comments only (an open block comment is not complete: more may follow). */
function isOnlyComments(text: string): boolean {
  try {
    return tokenize(text).every((t) => !isSignificant(t) && !(t.text.startsWith('/*') && !t.text.endsWith('*/')));
  } catch {
    return false;
  }
}

/** The statements of complete SQL text, each without its semicolon. */
export function statementsOf(text: string): string[] {
  try {
    return splitTokens(text, tokenize(text)).map((s) => s.sql);
  } catch {
    // Text the tokenizer rejects goes as one statement; the server's error names the problem.
    return [text.trim().replace(/;$/, '')];
  }
}
