import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { entryCrc, entryCrcAt, groupCrc } from '../../src/storage/checksum.js';

function reference(group: string, index: number, term: number, type: number, data: Uint8Array): number {
  const name = Buffer.from(group, 'utf8');
  const head = Buffer.alloc(4 + name.length + 17);
  head.writeUInt32LE(name.length, 0);
  name.copy(head, 4);
  head.writeBigUInt64LE(BigInt(index), 4 + name.length);
  head.writeBigUInt64LE(BigInt(term), 12 + name.length);
  head.writeUInt8(type, 20 + name.length);
  return crc32(Buffer.concat([head, data]));
}

test('entry checksums equal CRC-32 over len(group) | group | index | term | type | data', () => {
  for (const size of [0, 1, 7, 8, 9, 255, 512, 513, 5000]) {
    const data = new Uint8Array(size).map((_, i) => (i * 37 + size) & 0xff);
    for (const [group, index, term, type] of [
      ['g', 1, 1, 0],
      ['ünïcode ✓', 2 ** 40 + 3, 2 ** 33 + 1, 2],
      ['', 9007199254740991, 1, 1],
    ] as const) {
      assert.equal(entryCrc(groupCrc(group), index, term, type, data), reference(group, index, term, type, data), `${group} ${index} size ${size}`);
      const padded = new Uint8Array(size + 10);
      padded.set(data, 5);
      assert.equal(entryCrcAt(groupCrc(group), index, term, type, padded, 5, size), reference(group, index, term, type, data));
    }
  }
});
