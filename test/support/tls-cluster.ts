// Demo-app processes (raftkit-sql, raftkit-meta) on 127.0.0.1 with TLS on the API (--tls-cert,
// --tls-key, --tls-ca from the project's scripts/make-test-ca.sh) and a cluster token: the nodes'
// own calls to each other (forwarding, /nodes) must go over https and trust the CA. Every child
// is killed by PID and the temp dirs removed in stopAll().
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePorts } from './ports.js';
import { spawnNode, type Proc } from './proc.js';

const CA_SCRIPT = new URL('../../../scripts/make-test-ca.sh', import.meta.url).pathname;
export const TLS_TOKEN = 'tls-demo-secret';

export interface HttpsReply {
  status: number;
  text: string;
  body: any;
}

export class TlsCluster {
  readonly root = mkdtempSync(join(tmpdir(), 'raftkit-tls-demo-'));
  readonly ca: Buffer;
  readonly procs = new Map<number, Proc>();
  readonly ports = new Map<number, number>();

  constructor(
    private readonly bin: string,
    private readonly group: string,
    readonly ids: number[] = [1, 2, 3],
  ) {
    execFileSync('sh', [CA_SCRIPT, join(this.root, 'ca'), 'demo', ...ids.map(String)], { stdio: 'ignore' });
    this.ca = readFileSync(this.caPath('ca.pem'));
  }

  caPath(name: string): string {
    return join(this.root, 'ca', name);
  }

  /** Starts every node; `extra(id)` adds flags per node. Resolves with the leader's id. */
  async startAll(extra: (id: number) => string[] = () => []): Promise<number> {
    const ports = await freePorts(this.ids.length);
    this.ids.forEach((id, i) => this.ports.set(id, ports[i]!));
    const peers = this.ids.map((id) => `${id}=127.0.0.1:${this.ports.get(id)}`).join(',');
    for (const id of this.ids) {
      const dataDir = join(this.root, `n${id}`);
      const args = [this.bin, '--id', String(id), '--listen', `127.0.0.1:${this.ports.get(id)}`, '--peers', peers, '--data-dir', dataDir];
      args.push('--log-level', 'warn', '--heartbeat-ms', '50', '--election-ms', '300', '--token', TLS_TOKEN);
      args.push('--tls-cert', this.caPath('api.pem'), '--tls-key', this.caPath('api-key.pem'), '--tls-ca', this.caPath('ca.pem'), ...extra(id));
      this.procs.set(id, spawnNode(id, this.ports.get(id)!, dataDir, args));
    }
    return this.waitLeader();
  }

  /** One request over https, trusting the test CA, with the cluster token. */
  call(id: number, method: string, path: string, body?: unknown): Promise<HttpsReply> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: this.ports.get(id),
          method,
          path,
          agent: false,
          ca: this.ca,
          timeout: 10_000,
          headers: { authorization: `Bearer ${TLS_TOKEN}`, ...(data ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, text, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from node ${id} within 10 s`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  waitLeader(timeoutMs = 20_000): Promise<number> {
    return eventually(
      async () => {
        const views = await Promise.all(
          this.ids.map(async (id) => {
            const r = await this.call(id, 'GET', '/v1/status').catch(() => undefined);
            return r?.status === 200 ? (r.body.groups as { group: string; leader?: number }[]).find((g) => g.group === this.group)?.leader : undefined;
          }),
        );
        const l = views[0];
        return l && views.every((v) => v === l) ? l : undefined;
      },
      timeoutMs,
      `a leader of ${this.group} over https`,
    );
  }

  stderrOf(id: number): string {
    return this.procs.get(id)?.stderr ?? '';
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs.values()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
