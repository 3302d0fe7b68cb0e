// A body over the size limit answers 413 in a way that a client which writes its whole body
// before reading (as fetch and most simple clients do) still receives, not a connection reset.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startSingleNode, type SingleNode } from '../support/single-node.js';

let node: SingleNode;
before(async () => {
  node = await startSingleNode();
});
after(async () => {
  await node.stop();
});

/** Writes the whole request (head and body) before reading anything, then reads until the server closes. */
function writeAllThenRead(port: number, head: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (e) => reject(new Error(`${(e as NodeJS.ErrnoException).code ?? e.message} after ${Buffer.concat(chunks).length} bytes of answer`)));
    socket.pause();
    socket.write(head);
    socket.write(body, () => socket.resume());
  });
}

for (const size of [3 * 1024 * 1024, 12 * 1024 * 1024]) {
  test(`a declared ${size >> 20} MiB body (limit 1 MiB) written in full before reading gets the 413 JSON answer`, async () => {
    const body = Buffer.alloc(size, 0x20);
    const head = `POST /v1/groups/kv/commands/put HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`;
    const answer = await writeAllThenRead(node.port, head, body);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"error":"payload_too_large"/);
  });
}

test('a chunked body over the limit written in full before reading gets the 413 too', async () => {
  const piece = Buffer.alloc(64 * 1024, 0x20);
  const parts: Buffer[] = [];
  for (let i = 0; i < 40; i++) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n\r\n'));
  const head = 'POST /v1/groups/kv/commands/put HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  const answer = await writeAllThenRead(node.port, head, Buffer.concat(parts));
  assert.match(answer, /^HTTP\/1\.1 413 /);
});
