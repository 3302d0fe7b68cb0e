// A dot command's words: split on blanks, with 'single' or "double" quotes around a word that
// holds blanks (a file name), as sqlite3 reads its dot commands.
import { ShellError } from './shell-error.js';

export function commandWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    const quote = line[i] === '"' || line[i] === "'" ? line[i]! : undefined;
    if (quote) {
      const close = line.indexOf(quote, i + 1);
      if (close < 0) throw new ShellError('bad_command', `unterminated ${quote} in: ${line.trim()}`);
      words.push(line.slice(i + 1, close));
      i = close + 1;
    } else {
      const start = i;
      while (i < line.length && !/\s/.test(line[i]!)) i++;
      words.push(line.slice(start, i));
    }
  }
  return words;
}
