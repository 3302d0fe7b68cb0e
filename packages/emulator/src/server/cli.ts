#!/usr/bin/env node
// npm run emulator [-- --port N]: serves the Raft emulator on 127.0.0.1 and prints its address.

import { parseArgs } from 'node:util';
import { startEmulatorServer } from './server.js';

const USAGE = 'usage: npm run emulator [-- --port N]   (default port 8070; 0 picks a free one)';

function main(): Promise<void> | void {
  let port = 8070;
  try {
    const { values } = parseArgs({ options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) return console.log(USAGE);
    if (values.port !== undefined) {
      if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) throw new Error(`--port must be a port number, got '${values.port}'`);
      port = Number(values.port);
    }
  } catch (e) {
    console.error(`emulator: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  return startEmulatorServer({ port }).then(
    (s) => console.log(`raftkit emulator: open ${s.url} (Ctrl-C stops it)`),
    (e: NodeJS.ErrnoException) => {
      console.error(`emulator: ${e.code === 'EADDRINUSE' ? `port ${port} is in use; try --port 0` : e.message}`);
      process.exit(1);
    },
  );
}

void main();
