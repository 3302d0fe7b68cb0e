// 32-bit mixing for the checker's running checksums. Not cryptographic: it only has to make an
// accidental collision between two different histories vanishingly unlikely in one run.

export const HASH_START = 0x9747b28c;

/** Folds one 32-bit value into h (the murmur3 round). */
export function mix(h: number, x: number): number {
  let k = Math.imul(x | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** Folds a byte string (its length first, so "" and "\0" differ). */
export function mixBytes(h: number, bytes: Uint8Array): number {
  h = mix(h, bytes.length);
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    h = mix(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  let tail = 0;
  for (let s = 0; i < bytes.length; i++, s += 8) tail |= bytes[i]! << s;
  return mix(h, tail);
}
