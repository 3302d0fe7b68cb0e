// The HTTP API's own metrics on a prom-client registry, served by /metrics after the node's.
import { Counter, Gauge, Registry } from 'prom-client';

export class ApiStats {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'raftkit_api_requests_total',
    help: 'HTTP API requests answered, by route and status',
    labelNames: ['route', 'status'],
    registers: [this.registry],
  });
  private readonly forwards = new Counter({ name: 'raftkit_api_forwarded_total', help: 'Requests forwarded to the leader', registers: [this.registry] });

  constructor(watchers: () => number) {
    new Gauge({
      name: 'raftkit_api_watchers',
      help: 'Open watch streams (WebSocket and NDJSON)',
      registers: [this.registry],
      collect() {
        this.set(watchers());
      },
    });
  }

  count(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  forwarded(): void {
    this.forwards.inc();
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
