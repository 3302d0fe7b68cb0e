// One accepted WebSocket to a remote machine: numbered requests, answers matched by id, and a
// deadline per request. A request not answered in time fails the link (the machine is marked
// failed and the socket closed): a machine that stops answering must not hold up its group.
import type { WebSocket } from 'ws';
import { parseResult, type ResultMessage } from './remote-protocol.js';

export type LinkFailure = { kind: 'timeout' | 'closed' | 'protocol'; message: string };

interface Waiter {
  resolve(r: ResultMessage): void;
  reject(f: LinkFailure): void;
  timer: NodeJS.Timeout;
}

export class MachineLink {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private failure: LinkFailure | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
    /** Called once, when the link fails or closes. */
    private readonly onDown: (f: LinkFailure) => void,
  ) {
    ws.on('message', (data, isBinary) => {
      const msg = isBinary ? undefined : parseResult(data.toString());
      if (!msg) return this.fail({ kind: 'protocol', message: 'the machine sent something that is not a result message' });
      if (msg.gap) return this.fail({ kind: 'protocol', message: `the machine reports a gap: ${msg.error?.message ?? ''}` });
      const w = this.waiting.get(msg.id);
      if (!w) return; // the answer of a replayed entry: nobody waits for it
      this.waiting.delete(msg.id);
      clearTimeout(w.timer);
      w.resolve(msg);
    });
    // A machine whose connection died without a close (a partition, a stopped host) is found
    // by a missed pong, so a new connection of the group is not refused for long.
    let alive = true;
    ws.on('pong', () => (alive = true));
    const pinger = setInterval(() => {
      if (!alive) return this.fail({ kind: 'timeout', message: `the machine did not answer a ping within ${timeoutMs} ms` });
      alive = false;
      ws.ping();
    }, timeoutMs);
    pinger.unref();
    ws.once('close', () => clearInterval(pinger));
    ws.on('close', (code, reason) => this.fail({ kind: 'closed', message: `the machine's connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})` }));
    ws.on('error', (e) => this.fail({ kind: 'closed', message: `the machine's connection failed: ${e.message}` }));
  }

  get up(): boolean {
    return this.failure === undefined;
  }

  /** Sends without waiting for the answer (replays); the machine still answers, in order. */
  post(msg: Record<string, unknown>): void {
    if (!this.up) return;
    this.ws.send(JSON.stringify({ ...msg, id: this.nextId++ }));
  }

  /** Sends and resolves with the machine's answer; rejects with the link's failure. */
  request(msg: Record<string, unknown>): Promise<ResultMessage> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ResultMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail({ kind: 'timeout', message: `the machine did not answer ${String(msg.type)} ${String(msg.index ?? msg.name ?? '')} within ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
      this.waiting.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  fail(f: LinkFailure, closeCode = 4500): void {
    if (this.failure) return;
    this.failure = f;
    if (f.kind === 'timeout') this.ws.terminate();
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(f);
    }
    this.waiting.clear();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(f.kind === 'timeout' ? 4408 : closeCode, JSON.stringify({ error: f.kind === 'timeout' ? 'timeout' : 'internal', message: f.message }).slice(0, 123));
    }
    this.onDown(f);
  }

  close(code: number, reason: string): void {
    this.fail({ kind: 'closed', message: reason }, code);
  }
}
