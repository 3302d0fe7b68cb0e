// A request body that is a stream of JSON objects, one after another (grpc-gateway reads a
// streaming method's body with a JSON decoder: `{...}{...}` or one per line). Splits bytes into
// whole objects as they arrive, without waiting for the body to end. Scanning bytes is safe for
// UTF-8: every byte of a multi-byte character is >= 0x80, never a quote, brace or backslash.
import { JsonRequestError } from './jsonpb.js';

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const OPEN_LIST = 0x5b; // [
const CLOSE_LIST = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

export class JsonObjectSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Where scanning resumes in `pending`. */
  private pos = 0;
  /** Start of the object being read in `pending`, or -1 between objects. */
  private start = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private broken: JsonRequestError | undefined;

  constructor(private readonly maxObjectBytes: number) {}

  /**
   * The objects completed by `chunk`, and the error that stopped reading if the bytes are not a
   * sequence of JSON objects (the splitter takes nothing more after one).
   */
  push(chunk: Buffer): { objects: unknown[]; error?: JsonRequestError } {
    const objects: unknown[] = [];
    if (this.broken) return { objects, error: this.broken };
    try {
      this.scan(chunk, objects);
      return { objects };
    } catch (e) {
      this.broken = e instanceof JsonRequestError ? e : new JsonRequestError(String(e));
      return { objects, error: this.broken };
    }
  }

  private scan(chunk: Buffer, out: unknown[]): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const b = this.pending;
    for (; this.pos < b.length; this.pos++) {
      const c = b[this.pos]!;
      if (this.start < 0) {
        if (WHITESPACE.has(c)) continue;
        if (c !== OPEN) throw new JsonRequestError(`invalid JSON: expected a JSON object, got "${String.fromCharCode(c)}"`);
        this.start = this.pos;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN || c === OPEN_LIST) this.depth++;
      else if (c === CLOSE || c === CLOSE_LIST) this.depth--;
      if (this.depth === 0) {
        out.push(parse(b.subarray(this.start, this.pos + 1)));
        this.start = -1;
      }
    }
    // Keep only the unfinished object.
    const keepFrom = this.start < 0 ? b.length : this.start;
    this.pending = b.subarray(keepFrom);
    this.pos -= keepFrom;
    if (this.start >= 0) this.start = 0;
    if (this.pending.length > this.maxObjectBytes) throw new JsonRequestError(`a request object is larger than ${this.maxObjectBytes} bytes`);
  }

  /** The body ended: the error if it ended inside an object. */
  end(): JsonRequestError | undefined {
    if (this.broken) return this.broken;
    return this.start >= 0 ? new JsonRequestError('invalid JSON: the body ended inside an object') : undefined;
  }
}

function parse(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new JsonRequestError(`invalid JSON: ${(e as Error).message}`);
  }
}
