// The API's own counters, in the Prometheus text exposition format. Every label takes values from a
// fixed set (registered route patterns, known methods, limit names), never raw client input, so a
// client cannot grow the series without bound.

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export class ApiMetrics {
  private readonly requests = new Map<string, number>();
  private readonly limitRejections = new Map<string, number>();
  websocketsOpen = 0;
  websocketSubscriptions = 0;
  waitsInFlight = 0;

  /** `route` is the registered pattern (e.g. /v1/transactions/:txid) or "unmatched". */
  request(route: string, method: string, status: number): void {
    const m = METHODS.has(method) ? method : "other";
    const key = `method="${m}",route="${escapeLabel(route)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** `limit` is the name of the ApiLimits field that refused something. */
  rejected(limit: string): void {
    this.limitRejections.set(limit, (this.limitRejections.get(limit) ?? 0) + 1);
  }

  rejectedCount(limit: string): number {
    return this.limitRejections.get(limit) ?? 0;
  }

  render(): string {
    const lines = [
      "# HELP conclave_api_requests_total HTTP requests answered, by route pattern, method and status.",
      "# TYPE conclave_api_requests_total counter",
      ...[...this.requests].map(([labels, n]) => `conclave_api_requests_total{${labels}} ${n}`),
      "# HELP conclave_api_limit_rejections_total Requests, connections and messages refused by a limit.",
      "# TYPE conclave_api_limit_rejections_total counter",
      ...[...this.limitRejections].map(
        ([limit, n]) => `conclave_api_limit_rejections_total{limit="${escapeLabel(limit)}"} ${n}`,
      ),
      "# HELP conclave_api_websockets_open Open WebSocket connections.",
      "# TYPE conclave_api_websockets_open gauge",
      `conclave_api_websockets_open ${this.websocketsOpen}`,
      "# HELP conclave_api_websocket_subscriptions Transaction subscriptions over all WebSockets.",
      "# TYPE conclave_api_websocket_subscriptions gauge",
      `conclave_api_websocket_subscriptions ${this.websocketSubscriptions}`,
      "# HELP conclave_api_waits_in_flight Long-polls (?wait=) waiting for a final status.",
      "# TYPE conclave_api_waits_in_flight gauge",
      `conclave_api_waits_in_flight ${this.waitsInFlight}`,
    ];
    return lines.join("\n") + "\n";
  }
}
