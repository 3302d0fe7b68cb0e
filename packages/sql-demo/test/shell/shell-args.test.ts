import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShellArgs, ShellError } from '../../src/shell/index.js';

test('defaults: one node on 127.0.0.1:4001, weak reads, table output; the token from RAFTKIT_TOKEN', () => {
  assert.deepEqual(parseShellArgs([], { RAFTKIT_TOKEN: 's3cret' }), {
    urls: ['http://127.0.0.1:4001'],
    token: 's3cret',
    consistency: 'weak',
    mode: 'table',
    timer: false,
    bail: false,
    help: false,
    commands: [],
  });
});

test('flags with spaces or =, URL lists, and statements after the flags', () => {
  const args = parseShellArgs(
    ['--url', 'http://a:1,http://b:2', '--url=c:3', '--token=T', '--consistency', 'STRONG', '--mode', 'csv', '--timer', '--bail', 'SELECT 1;', '.tables'],
    {},
  );
  assert.deepEqual(args.urls, ['http://a:1', 'http://b:2', 'c:3']);
  assert.equal(args.token, 'T');
  assert.equal(args.consistency, 'strong');
  assert.equal(args.mode, 'csv');
  assert.equal(args.timer, true);
  assert.equal(args.bail, true);
  assert.deepEqual(args.commands, ['SELECT 1;', '.tables']);
  assert.deepEqual(parseShellArgs(['--', '--not-a-flag'], {}).commands, ['--not-a-flag']);
});

test('bad flags are usage errors that say what is wrong', () => {
  const usage = (argv: string[], message: RegExp) =>
    assert.throws(
      () => parseShellArgs(argv, {}),
      (e: unknown) => e instanceof ShellError && e.code === 'usage' && message.test(e.message),
    );
  usage(['--bogus'], /unknown flag --bogus/);
  usage(['--url'], /--url needs a value/);
  usage(['--consistency', 'eventual'], /unknown consistency level "eventual": use one of none, weak, linearizable, strong, auto/);
  usage(['--mode', 'html'], /unknown output mode "html"/);
  usage(['--timer=yes'], /--timer takes no value/);
});
