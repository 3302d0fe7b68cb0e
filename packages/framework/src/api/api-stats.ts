// The HTTP API's own metrics on a prom-client registry, served by /metrics after the node's.
// A request only bumps a number in a map (it runs on every request); the registry reads the map
// when /metrics is scraped.
import { Counter, Gauge, Registry } from 'prom-client';

export class ApiStats {
  readonly registry = new Registry();
  private readonly byRouteStatus = new Map<string, { route: string; status: string; n: number }>();
  private forwards = 0;

  constructor(watchers: () => number) {
    const counts = this.byRouteStatus;
    const forwarded = () => this.forwards;
    new Counter({
      name: 'raftkit_api_requests_total',
      help: 'HTTP API requests answered, by route and status',
      labelNames: ['route', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of counts.values()) this.inc({ route: c.route, status: c.status }, c.n);
      },
    });
    new Counter({
      name: 'raftkit_api_forwarded_total',
      help: 'Requests forwarded to the leader',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(forwarded());
      },
    });
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
    const key = `${route} ${status}`;
    const c = this.byRouteStatus.get(key);
    if (c) c.n++;
    else this.byRouteStatus.set(key, { route, status: String(status), n: 1 });
  }

  forwarded(): void {
    this.forwards++;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
