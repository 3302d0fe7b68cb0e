// Spawns raftkit-kv processes on 127.0.0.1 (ephemeral ports, temp data dirs) and talks to them
// over real HTTP and WebSocket. Every child is killed by PID and the temp root removed in stopAll().
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { eventually, sleep } from '../support/eventually.js';
import { freePorts } from '../support/ports.js';
import { spawnNode, type Proc } from '../support/proc.js';

/** The raftkit-kv bin, from test/dist/kv/. */
export const KV_BIN = fileURLToPath(new URL('../../../packages/kv-demo/bin/raftkit-kv.js', import.meta.url));

export { eventually, freePorts, sleep };

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: any;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is instead of JSON-encoding `body`. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** undefined: the cluster's token; null: no Authorization header; a string: that token. */
  token?: string | null;
  timeoutMs?: number;
}

/**
 * One HTTP request with node:http and a fresh connection (no pooled socket can outlive a killed
 * node). The answer is read even if the server replies before the body is fully sent (413).
 */
export function request(port: number, method: string, path: string, o: RequestOptions & { defaultToken?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  const token = o.token === undefined ? o.defaultToken : o.token;
  if (token) headers['authorization'] = `Bearer ${token}`;
  let data: Buffer | undefined;
  if (o.raw !== undefined) data = Buffer.isBuffer(o.raw) ? o.raw : Buffer.from(o.raw);
  else if (o.body !== undefined) data = Buffer.from(JSON.stringify(o.body));
  if (data) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(data.length);
  }
  const timeoutMs = o.timeoutMs ?? 15_000;
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on('error', (e) => {
        if (!settled) reject(e);
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`${method} ${path} on port ${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
    });
    req.end(data);
  });
}

/**
 * Sends a body of `size` bytes: `declared` announces it with Content-Length and waits for an early
 * answer after the first 64 KiB; `chunked` streams it (Transfer-Encoding: chunked) with
 * backpressure until the server answers. Either way the answer is returned and the socket dropped.
 */
export function sendLarge(port: number, path: string, size: number, mode: 'declared' | 'chunked', token?: string, timeoutMs = 10_000): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  if (mode === 'declared') headers['content-length'] = String(size);
  else headers['transfer-encoding'] = 'chunked';
  return new Promise<Reply>((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      };
      res.on('end', done);
      res.on('error', done);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer to a ${size}-byte ${mode} body within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (answered) return;
      clearTimeout(timer);
      reject(e);
    });
    const piece = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (!answered && sent < size) {
        const n = Math.min(piece.length, size - sent);
        sent += n;
        if (mode === 'declared' && sent > piece.length) return; // only the first piece: wait for the early answer
        if (!req.write(n === piece.length ? piece : piece.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && sent >= size) req.end();
    };
    pump();
  });
}

export type KvProc = Proc;

export interface ClusterOptions {
  token?: string;
  logLevel?: string;
  /** More flags for every node. */
  extraArgs?: string[];
  /** The server to run (default the raftkit-kv bin): any bin built on runRaftServer takes the same flags. */
  bin?: string;
  /** The group whose leader and routes the helpers use (default "kv"). */
  group?: string;
}

/** A raftkit-kv cluster. `ids` are the founding voters; extra ids (joiners) get ports via `reserve`. */
export class KvCluster {
  readonly procs = new Map<number, KvProc>();
  readonly root = mkdtempSync(join(tmpdir(), 'raftkit-kv-'));
  readonly ports = new Map<number, number>();
  readonly token: string | undefined;
  private readonly logLevel: string;
  private readonly extraArgs: string[];
  private readonly bin: string;
  readonly group: string;

  constructor(
    readonly ids: number[],
    o: ClusterOptions = {},
  ) {
    this.token = o.token;
    this.logLevel = o.logLevel ?? 'warn';
    this.extraArgs = o.extraArgs ?? [];
    this.bin = o.bin ?? KV_BIN;
    this.group = o.group ?? 'kv';
  }

  get peers(): string {
    return this.ids.map((id) => `${id}=127.0.0.1:${this.portOf(id)}`).join(',');
  }

  /** Allocates ports for ids that do not have one yet. */
  async reserve(ids: number[]): Promise<void> {
    const missing = ids.filter((id) => !this.ports.has(id));
    const ports = await freePorts(missing.length);
    missing.forEach((id, i) => this.ports.set(id, ports[i]!));
  }

  portOf(id: number): number {
    const p = this.ports.get(id);
    if (p === undefined) throw new Error(`no port reserved for node ${id}`);
    return p;
  }

  urlOf(id: number): string {
    return `http://127.0.0.1:${this.portOf(id)}`;
  }

  dataDirOf(id: number): string {
    return join(this.root, `n${id}`);
  }

  /** Starts the founding voters and waits for a leader. */
  async startAll(): Promise<number> {
    await this.reserve(this.ids);
    for (const id of this.ids) this.start(id);
    return this.waitLeader();
  }

  /** Starts (or restarts, same data dir) node `id` with --peers, or with --join through `join`. */
  start(id: number, o: { join?: number } = {}): KvProc {
    const prev = this.procs.get(id);
    if (prev && prev.child.exitCode === null && prev.child.signalCode === null) throw new Error(`node ${id} is still running`);
    const port = this.portOf(id);
    const dataDir = this.dataDirOf(id);
    const args = [this.bin, '--id', String(id), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-level', this.logLevel];
    if (o.join !== undefined) args.push('--join', `127.0.0.1:${this.portOf(o.join)}`);
    else args.push('--peers', this.peers);
    if (this.token) args.push('--token', this.token);
    args.push(...this.extraArgs);
    const p = spawnNode(id, port, dataDir, args);
    this.procs.set(id, p);
    return p;
  }

  isRunning(id: number): boolean {
    const p = this.procs.get(id);
    return !!p && p.child.exitCode === null && p.child.signalCode === null;
  }

  /** kill -9 (by PID) and wait for the exit. */
  async kill(id: number): Promise<void> {
    const p = this.procs.get(id);
    if (!p || !this.isRunning(id)) return;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  /** SIGTERM (by PID): a graceful stop; answers the exit code. */
  async stop(id: number): Promise<number | null> {
    const p = this.procs.get(id);
    if (!p || !this.isRunning(id)) return p ? p.child.exitCode : null;
    p.child.kill('SIGTERM');
    return p.exited;
  }

  running(): number[] {
    return [...this.procs.keys()].filter((id) => this.isRunning(id));
  }

  req(id: number, method: string, path: string, o: RequestOptions = {}): Promise<Reply> {
    return request(this.portOf(id), method, path, { ...o, defaultToken: this.token });
  }

  command(id: number, name: string, args: unknown, o: Omit<RequestOptions, 'body'> = {}): Promise<Reply> {
    return this.req(id, 'POST', `/v1/groups/${this.group}/commands/${name}`, { ...o, body: args });
  }

  query(id: number, name: string, args: unknown, consistency?: string, o: Omit<RequestOptions, 'body'> = {}): Promise<Reply> {
    const q = consistency === undefined ? '' : `?consistency=${encodeURIComponent(consistency)}`;
    return this.req(id, 'POST', `/v1/groups/${this.group}/queries/${name}${q}`, { ...o, body: args });
  }

  /** A command that must succeed (200). */
  async ok(id: number, name: string, args: unknown, o: Omit<RequestOptions, 'body'> = {}): Promise<{ result: any; index: number; reply: Reply }> {
    const r = await this.command(id, name, args, o);
    if (r.status !== 200) throw new Error(`${name} ${JSON.stringify(args)} on node ${id} answered ${r.status}: ${r.text}`);
    return { result: r.body.result, index: r.body.index, reply: r };
  }

  async status(id: number): Promise<any> {
    const r = await this.req(id, 'GET', '/v1/status', { timeoutMs: 3000 });
    if (r.status !== 200) throw new Error(`status of ${id} answered ${r.status}: ${r.text}`);
    return r.body;
  }

  async kvStatus(id: number): Promise<any> {
    return this.groupStatus(id, this.group);
  }

  async groupStatus(id: number, group: string): Promise<any> {
    const st = await this.status(id);
    return st.groups.find((g: any) => g.group === group);
  }

  /** A gauge or counter from /metrics (the first sample whose name and labels start with `prefix`). */
  async metric(id: number, prefix: string): Promise<number | undefined> {
    const r = await this.req(id, 'GET', '/metrics', { timeoutMs: 3000 });
    const line = r.text.split('\n').find((l) => l.startsWith(`${prefix} `) || l.startsWith(`${prefix}{`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** The node that calls itself the leader of kv, among the running ones (undefined if none). */
  async leader(among: number[] = this.running()): Promise<number | undefined> {
    for (const id of among) {
      try {
        const g = await this.kvStatus(id);
        if (g?.role === 'leader') return id;
      } catch {
        // down or starting
      }
    }
    return undefined;
  }

  /** Waits until one running node leads and every running node in `among` agrees on it. */
  async waitLeader(among: number[] = this.running(), timeoutMs = 15_000): Promise<number> {
    return eventually(
      async () => {
        const l = await this.leader(among);
        if (l === undefined) return undefined;
        for (const id of among) {
          const g = await this.kvStatus(id);
          if (g?.leader !== l) return undefined;
        }
        return l;
      },
      timeoutMs,
      `a leader of ${this.group} among ${among.join(',')}`,
    );
  }

  async followers(among: number[] = this.running()): Promise<number[]> {
    const l = await this.waitLeader(among);
    return among.filter((id) => id !== l);
  }

  /** Waits until node `id` has applied at least `index`. */
  async waitApplied(id: number, index: number, timeoutMs = 10_000): Promise<void> {
    await eventually(async () => ((await this.kvStatus(id))?.applied >= index ? true : undefined), timeoutMs, `node ${id} to apply ${index}`);
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs.values()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Opens a WebSocket watch; see {@link openWatch}. */
  watch(id: number, query: string, o: { token?: string | null; group?: string } = {}): Watch {
    const token = o.token === undefined ? this.token : o.token;
    return openWatch(this.portOf(id), `/v1/groups/${o.group ?? 'kv'}/watch${query}`, token ?? undefined);
  }
}

export interface WatchEntry {
  index: number;
  term: number;
  command: string;
  args: any;
  result: any;
}

/** A WebSocket watch that buffers every message and remembers how it ended. */
export interface Watch {
  ws: WebSocket;
  entries: WatchEntry[];
  /** Resolves when the socket is open (rejects with the refused upgrade's status). */
  opened: Promise<void>;
  /** Resolves with the close code and reason (or the refused upgrade's status as `status`). */
  closed: Promise<{ code: number; reason: string; status?: number; body?: string }>;
  /** Waits until an entry with index >= `index` arrived. */
  until(index: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function openWatch(port: number, path: string, token?: string): Watch {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  const entries: WatchEntry[] = [];
  const waiters = new Set<() => void>();
  let resolveOpen!: () => void;
  let rejectOpen!: (e: Error) => void;
  const opened = new Promise<void>((res, rej) => {
    resolveOpen = res;
    rejectOpen = rej;
  });
  opened.catch(() => {});
  let resolveClosed!: (v: { code: number; reason: string; status?: number; body?: string }) => void;
  const closed = new Promise<{ code: number; reason: string; status?: number; body?: string }>((r) => {
    resolveClosed = r;
  });
  let isClosed = false;
  ws.on('open', () => resolveOpen());
  ws.on('message', (data) => {
    entries.push(JSON.parse(data.toString()) as WatchEntry);
    for (const w of [...waiters]) w();
  });
  ws.on('unexpected-response', (_req, res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      isClosed = true;
      rejectOpen(new Error(`upgrade refused with ${res.statusCode}: ${body}`));
      resolveClosed({ code: 0, reason: '', status: res.statusCode, body });
      for (const w of [...waiters]) w();
      ws.terminate();
    });
  });
  ws.on('error', (e) => {
    rejectOpen(e);
  });
  ws.on('close', (code, reason) => {
    isClosed = true;
    rejectOpen(new Error(`closed before opening: ${code} ${reason.toString()}`));
    resolveClosed({ code, reason: reason.toString() });
    for (const w of [...waiters]) w();
  });
  const until = (index: number, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (entries.length > 0 && entries[entries.length - 1]!.index >= index) {
          done();
          resolve();
        } else if (isClosed) {
          done();
          reject(new Error(`watch closed before index ${index} (last ${entries.at(-1)?.index ?? 'none'})`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`watch did not reach index ${index} within ${timeoutMs} ms (last ${entries.at(-1)?.index ?? 'none'})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    ws,
    entries,
    opened,
    closed,
    until,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.terminate();
      await closed;
    },
  };
}

/**
 * Reads an NDJSON watch with a plain GET until an entry with index >= `untilIndex` arrived, then
 * drops the connection. Answers the status, content type and the parsed lines.
 */
export function readNdjson(
  port: number,
  path: string,
  untilIndex: number,
  token?: string,
  timeoutMs = 10_000,
): Promise<{ status: number; contentType: string; lines: any[]; text: string }> {
  const headers: Record<string, string> = {};
  if (token) headers['authorization'] = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      let buf = '';
      let text = '';
      const lines: any[] = [];
      const finish = () => {
        clearTimeout(timer);
        res.destroy();
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), lines, text });
      };
      res.on('data', (c: Buffer) => {
        const s = c.toString('utf8');
        text += s;
        buf += s;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) lines.push(JSON.parse(line));
        }
        if (res.statusCode === 200 && lines.length > 0 && lines[lines.length - 1].index >= untilIndex) finish();
      });
      res.on('end', finish);
      res.on('error', () => finish());
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`NDJSON watch ${path} did not reach ${untilIndex} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

/** Runs the kv bin with the given args and waits for it to exit (killing it after `timeoutMs`). */
export function runBin(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KV_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, stdout });
    });
  });
}
