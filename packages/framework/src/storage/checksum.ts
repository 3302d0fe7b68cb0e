// CRC-32 (IEEE, zlib's polynomial) helpers for log records. The bulk of every entry (its data)
// goes through node:zlib's native crc32; the small fixed-size header is folded in with a table in
// JS so that checking an entry costs one native call.
import { crc32 } from 'node:zlib';

// Slicing-by-8 tables: TABLE[k * 256 + b] is the CRC of byte b followed by k zero bytes.
const TABLE = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
})();

/**
 * Payloads up to this size are checksummed in JS: for small entries the cost of calling into
 * zlib (and of a view to pass it) exceeds the byte work; larger ones go to zlib's native crc32.
 */
const JS_CRC_MAX = 512;

/** Continues a finished CRC-32 over buf[off, off + len) (JS, slicing-by-8). */
function crcRange(crc: number, buf: Uint8Array, off: number, len: number): number {
  const t = TABLE;
  let c = ~crc;
  let i = off;
  const end = off + len;
  for (; i + 8 <= end; i += 8) {
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    c =
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const encoder = new TextEncoder();

/** Continues a finished CRC-32 over the 8 little-endian bytes of v (0 <= v < 2^53): one slicing-by-8 step. */
function fold64(crc: number, v: number): number {
  const t = TABLE;
  const c = ~crc ^ (v >>> 0);
  const hi = Math.floor(v / 4294967296);
  return (
    ~(
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^
      t[512 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[(hi >>> 24) & 0xff]!
    ) >>> 0
  );
}

/** Continues a finished CRC-32 over one byte. */
function fold8(crc: number, b: number): number {
  const c = ~crc;
  return ~(TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)) >>> 0;
}

/** Continues a finished CRC-32 `crc` over `len` little-endian bytes of the unsigned integer `v` (v < 2^53). */
function foldUint(crc: number, v: number, len: number): number {
  const t = TABLE;
  let c = ~crc;
  let lo = v >>> 0;
  for (let i = 0; i < len && i < 4; i++, lo >>>= 8) c = t[(c ^ lo) & 0xff]! ^ (c >>> 8);
  if (len > 4) {
    let hi = Math.floor(v / 4294967296) >>> 0;
    for (let i = 4; i < len; i++, hi >>>= 8) c = t[(c ^ hi) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/** CRC of a group name, length-prefixed so that name and header never run into each other. */
export function groupCrc(group: string): number {
  const bytes = encoder.encode(group);
  const c = foldUint(0, bytes.length, 4);
  // (never hand zlib an empty input: with no backing store it sees NULL and returns 0)
  return bytes.length === 0 ? c : crc32(bytes, c);
}

/**
 * The checksum stored with every entry: CRC-32 over (len32(group) ‖ group ‖ index64 ‖ term64 ‖
 * type8 ‖ data), with `prefix` = groupCrc(group).
 */
export function entryCrc(prefix: number, index: number, term: number, type: number, data: Uint8Array): number {
  return entryCrcAt(prefix, index, term, type, data, 0, data.byteLength);
}

/** entryCrc over data held at buf[off, off + len), without needing a view of it. */
export function entryCrcAt(prefix: number, index: number, term: number, type: number, buf: Uint8Array, off: number, len: number): number {
  const c = fold8(fold64(fold64(prefix, index), term), type);
  if (len === 0) return c;
  if (len <= JS_CRC_MAX) return crcRange(c, buf, off, len);
  return crc32(off === 0 && len === buf.byteLength ? buf : buf.subarray(off, off + len), c);
}

/** Checksum of a small metadata row (hard state, membership, snapshot metadata): group ‖ text. */
export function rowCrc(prefix: number, text: string): number {
  return text.length === 0 ? prefix : crc32(text, prefix);
}

export { crc32 };
