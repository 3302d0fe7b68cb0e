import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeCommand } from '../../src/rsm/command-codec.js';
import { RsmError } from '../../src/rsm/rsm-error.js';
import { RaftkitError } from '../../src/common/errors.js';

const enc = (s: string) => new TextEncoder().encode(s);

test('a command round-trips through its compact encoding', () => {
  const payload = { command: 'put', args: { key: 'k', value: 'v' }, clientId: 'c1', sequence: 7, timestamp: 1234 };
  const bytes = encodeCommand(payload);
  assert.equal(new TextDecoder().decode(bytes), '{"c":"put","t":1234,"a":{"key":"k","value":"v"},"i":"c1","s":7}');
  assert.deepEqual(decodeCommand(bytes), payload);
  const bare = decodeCommand(encodeCommand({ command: 'reset', args: undefined, timestamp: 5 }));
  assert.deepEqual(bare, { command: 'reset', args: undefined, timestamp: 5 });
});

test('the encoder refuses malformed payloads before anything is proposed', () => {
  const bad = (p: Parameters<typeof encodeCommand>[0], pattern: RegExp) =>
    assert.throws(
      () => encodeCommand(p),
      (e: unknown) => e instanceof RaftkitError && e.code === 'bad_request' && pattern.test(e.message),
    );
  bad({ command: '', args: {}, timestamp: 1 }, /command name/);
  bad({ command: 'x', args: {}, timestamp: Number.NaN }, /timestamp/);
  bad({ command: 'x', args: {}, timestamp: 1, clientId: 'c' }, /both or neither/);
  bad({ command: 'x', args: {}, timestamp: 1, sequence: 1 }, /both or neither/);
  bad({ command: 'x', args: {}, timestamp: 1, clientId: 'c', sequence: 0 }, /positive integer/);
  bad({ command: 'x', args: {}, timestamp: 1, clientId: 'c', sequence: 1.5 }, /positive integer/);
  bad({ command: 'x', args: {}, timestamp: 1, clientId: '', sequence: 1 }, /client id/);
  bad({ command: 'x', args: { n: 10n }, timestamp: 1 }, /not JSON-serialisable/);
});

test('the decoder refuses anything that is not a well-formed command, saying why', () => {
  const bad = (data: Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => decodeCommand(data),
      (e: unknown) => e instanceof RsmError && e.code === 'bad_entry' && pattern.test(e.message),
    );
  bad(enc('hello'), /not UTF-8 JSON/);
  bad(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8 JSON/);
  bad(enc('[1,2]'), /not a JSON object/);
  bad(enc('null'), /not a JSON object/);
  bad(enc('{"t":1}'), /command name/);
  bad(enc('{"c":"x"}'), /timestamp/);
  bad(enc('{"c":"x","t":1,"i":"c"}'), /both or neither/);
  bad(enc('{"c":"x","t":1,"i":"c","s":-1}'), /positive integer/);
  bad(enc('{"c":7,"t":1}'), /command name/);
});
