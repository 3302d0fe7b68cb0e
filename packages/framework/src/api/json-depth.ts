// A request body's nesting depth, measured before JSON.parse: a body nested thousands of levels
// deep parses fine but overflows the stack of every recursive walker after it (class-transformer,
// JSON.stringify, a state machine's own code), which would answer 500. One linear pass, no recursion.

/** The deepest nesting a request body may have: far beyond any real document, far below any stack limit. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first position where `text`'s nesting of `[` and `{` goes deeper than `max`, or -1.
 * Brackets inside strings do not count (escapes are honoured); the text need not be valid JSON.
 */
export function jsonDepthOverflow(text: string, max: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}
