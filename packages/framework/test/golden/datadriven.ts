// The datadriven file format (as in cockroachdb/datadriven, used by etcd raft's testdata):
//
//   # a comment
//   command arg key=value
//   ----
//   expected output, up to the next blank line
//
// Output that itself contains blank lines is fenced by a doubled separator:
//
//   command
//   ----
//   ----
//   output with
//
//   a blank line
//   ----
//   ----
//
// This module parses such files, writes actual outputs back into them (rewrite mode) and
// renders a mismatch as a small unified diff.

export interface Directive {
  /** 1-based line of the command, for messages. */
  line: number;
  cmd: string;
  expected: string;
  /** 0-based index of the first `----` line. */
  sepLine: number;
  /** 0-based index of the first line after the expected output (and its closing fence). */
  resumeLine: number;
}

export interface DataFile {
  name: string;
  lines: string[];
  directives: Directive[];
}

export function parseDataFile(name: string, text: string): DataFile {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const directives: Directive[] = [];
  const fail = (i: number, what: string) => new Error(`${name}:${i + 1}: ${what}`);
  let i = 0;
  while (i < lines.length) {
    const text = lines[i]!;
    if (text.trim() === '' || text.startsWith('#')) {
      i++;
      continue;
    }
    const cmdLine = i++;
    if (lines[i] !== '----') throw fail(i, `expected "----" after the command "${text}"`);
    const sepLine = i++;
    let out: string[];
    if (lines[i] === '----') {
      const start = ++i;
      while (i < lines.length && !(lines[i] === '----' && lines[i + 1] === '----')) i++;
      if (i >= lines.length) throw fail(sepLine, 'unterminated "----\\n----" block');
      out = lines.slice(start, i);
      i += 2;
    } else {
      const start = i;
      while (i < lines.length && lines[i]!.trim() !== '') i++;
      out = lines.slice(start, i);
    }
    directives.push({ line: cmdLine + 1, cmd: text.trim(), expected: out.join('\n'), sepLine, resumeLine: i });
  }
  return { name, lines, directives };
}

/** The file's text with every directive's expected output replaced by `actual[i]`. */
export function rewriteDataFile(f: DataFile, actual: string[]): string {
  const out: string[] = [];
  let at = 0;
  f.directives.forEach((d, i) => {
    out.push(...f.lines.slice(at, d.sepLine), '----');
    const body = actual[i]!.split('\n');
    if (body.some((l) => l.trim() === '')) out.push('----', ...body, '----', '----');
    else out.push(...body);
    at = d.resumeLine;
  });
  out.push(...f.lines.slice(at));
  return out.join('\n') + '\n';
}

/** A line diff (longest common subsequence): ' ' kept, '-' only expected, '+' only actual. */
export function diffLines(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i++]}`);
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${a[i++]}`);
    } else {
      out.push(`+ ${b[j++]}`);
    }
  }
  return collapseContext(out, 3).join('\n');
}

/** Keeps `n` unchanged lines around each change; longer unchanged runs become "  ...". */
function collapseContext(lines: string[], n: number): string[] {
  const changed = lines.map((l) => !l.startsWith('  '));
  const keep = lines.map((_, i) => changed.slice(Math.max(0, i - n), i + n + 1).some(Boolean));
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (keep[i]) out.push(l);
    else if (keep[i - 1] !== false) out.push('  ...');
  });
  return out;
}

export function formatMismatch(f: DataFile, d: Directive, actual: string): string {
  return [`${f.name}:${d.line}: output of "${d.cmd}" differs (rerun with REWRITE=1 to accept the actual output)`, '--- expected', '+++ actual', diffLines(d.expected, actual)].join(
    '\n',
  );
}
