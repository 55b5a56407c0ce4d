import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The server's metrics: counts and timings by route and status, never by user or content. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: "veil_http_requests_total",
    help: "HTTP requests by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: "veil_http_request_duration_seconds",
    help: "HTTP request latency by method and route",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly wsConnections = new Gauge({
    name: "veil_ws_connections",
    help: "Authenticated WebSocket connections on this node",
    registers: [this.registry],
  });
  readonly wsFramesSent = new Counter({
    name: "veil_ws_frames_sent_total",
    help: "Frames sent to WebSocket clients, by type",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });
  readonly wsDisconnects = new Counter({
    name: "veil_ws_disconnects_total",
    help: "WebSocket connections closed by the server, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  constructor(options: { defaults?: boolean } = {}) {
    if (options.defaults ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: "veil_" });
  }
}
