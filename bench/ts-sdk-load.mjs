// One load phase of npm run bench:python from the TypeScript SDK, in a process of its own as the
// Python phases are: closed-loop commands for a fixed time. Prints one JSON line (with the
// client process's CPU time per command).
// Usage: node bench/ts-sdk-load.mjs URLS GROUP COMMAND CONCURRENCY SECONDS
import { RaftClient } from '../packages/client/dist/src/index.js';

const [urls, group, command, concurrency, seconds] = process.argv.slice(2);
const client = new RaftClient({ endpoints: urls.split(','), deadlineMs: 30_000 });
const g = client.group(group);
const lat = [];
const stop = Date.now() + Number(seconds) * 1000;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: Number(concurrency) }, async (_, n) => {
    for (let i = 0; Date.now() < stop; i++) {
      const args = command === 'put' ? { key: `ts${n}-${i % 1000}`, value: 'x'.repeat(16) } : { sku: `ts${n % 100}`, qty: 1 };
      const t = performance.now();
      await g.command(command, args);
      lat.push(performance.now() - t);
    }
  }),
);
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
lat.sort((a, b) => a - b);
const q = (x) => Math.round(lat[Math.min(lat.length - 1, Math.floor(x * lat.length))] * 100) / 100;
console.log(JSON.stringify({ ops: lat.length, seconds: Math.round(secs * 100) / 100, opsPerSec: Math.round(lat.length / secs), p50ms: q(0.5), p99ms: q(0.99), clientCpuMsPerOp: Math.round(((cpu.user + cpu.system) / 1000 / lat.length) * 1000) / 1000 }));
client.close();
