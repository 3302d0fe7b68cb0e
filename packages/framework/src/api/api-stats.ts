// Request counters of the HTTP API for /metrics, rendered after the node's own metrics.

/** Request counters for /metrics, rendered after the node's own metrics. */
export class ApiStats {
  readonly requests = new Map<string, number>();
  forwarded = 0;

  count(route: string, status: number): void {
    const k = `${route}\u0000${status}`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  render(watchers: number): string {
    const lines = [
      '# HELP raftkit_api_requests_total HTTP API requests answered, by route and status',
      '# TYPE raftkit_api_requests_total counter',
    ];
    for (const [k, n] of this.requests) {
      const [route, status] = k.split('\u0000');
      lines.push(`raftkit_api_requests_total{route="${route}",status="${status}"} ${n}`);
    }
    lines.push(
      '# HELP raftkit_api_forwarded_total Requests forwarded to the leader',
      '# TYPE raftkit_api_forwarded_total counter',
      `raftkit_api_forwarded_total ${this.forwarded}`,
      '# HELP raftkit_api_watchers Open watch streams (WebSocket and NDJSON)',
      '# TYPE raftkit_api_watchers gauge',
      `raftkit_api_watchers ${watchers}`,
    );
    return `${lines.join('\n')}\n`;
  }
}

