// A MetaMachine in a temporary folder, fed entries as the framework feeds them: each command
// gets the next index and the entry clock (a timestamp that never goes back). Args are the JSON
// a node would propose.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext } from '@raftkit/framework';
import { encodePut } from '../../src/codec/wire-codec.js';
import { isWireError } from '../../src/codec/wire-types.js';
import { putRequest } from '../../src/api/request-builders.js';
import { MetaMachine, type MetaMachineOptions } from '../../src/machine/meta.machine.js';

type Commands = 'put' | 'deleteRange' | 'txn' | 'compact' | 'leaseGrant' | 'leaseRevoke' | 'leaseKeepAlive' | 'leaseExpire' | 'alarm' | 'publishMember';

export class MachineFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'meta-machine-'));
  machine: MetaMachine;
  index = 0;
  term = 1;
  /** The entry clock (ms); tests move it. */
  now = 1_000_000;

  constructor(readonly options: MetaMachineOptions = {}) {
    this.machine = new MetaMachine(options);
    this.index = this.machine.open(this.dir);
  }

  ctx(): CommandContext {
    return { index: ++this.index, term: this.term, timestamp: this.now };
  }

  /** Applies one command entry; answers its result (a WireError included). */
  command(name: Commands, args: object): any {
    const handler = (this.machine as unknown as Record<string, (a: object, c: CommandContext) => unknown>)[name]!;
    return handler.call(this.machine, args, this.ctx());
  }

  /** A command that must not be refused. */
  ok(name: Commands, args: object): any {
    const r = this.command(name, args);
    if (isWireError(r)) throw new Error(`${name} ${JSON.stringify(args)} was refused: ${JSON.stringify(r)}`);
    return r;
  }

  put(key: string, value: string, o: { lease?: bigint; quotaBytes?: number } = {}): any {
    return this.command('put', { ...encodePut(putRequest(key, value, o.lease ? { lease: o.lease } : {})), ...(o.quotaBytes ? { quotaBytes: o.quotaBytes } : {}) });
  }

  get(key: string): string | undefined {
    return this.machine.store.get(Buffer.from(key))?.value.toString();
  }

  /** Closes and reopens the machine on the same folder (a restart); answers what open() reports. */
  reopen(): number {
    this.machine.close();
    this.machine = new MetaMachine(this.options);
    return this.machine.open(this.dir);
  }

  close(): void {
    this.machine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
