import { connect, Events, JSONCodec, type NatsConnection, type Subscription } from "nats";
import type { Bus, BusEvent, BusHandler } from "./bus.js";

const codec = JSONCodec<BusEvent>();

/**
 * The bus over NATS core subjects `<prefix>.<event type>`. The prefix keeps
 * several deployments (or test suites) on one NATS server apart.
 */
export class NatsBus implements Bus {
  private readonly handlers = new Set<BusHandler>();
  private readonly reconnectHandlers = new Set<() => void>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly subscription: Subscription,
  ) {
    void this.pump();
    void this.watch();
  }

  static async connect(url: string, prefix: string): Promise<NatsBus> {
    const nc = await connect({ servers: url, name: "veil-server", maxReconnectAttempts: -1 });
    const subscription = nc.subscribe(`${prefix}.>`);
    const bus = new NatsBus(nc, prefix, subscription);
    await nc.flush();
    return bus;
  }

  private async pump(): Promise<void> {
    for await (const message of this.subscription) {
      let event: BusEvent;
      try {
        event = codec.decode(message.data);
      } catch {
        continue;
      }
      for (const handler of this.handlers) handler(event);
    }
  }

  /** NATS core is at-most-once: after a reconnect, what was published meanwhile may be gone. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== Events.Reconnect) continue;
      for (const handler of this.reconnectHandlers) handler();
    }
  }

  async publish(event: BusEvent): Promise<void> {
    this.nc.publish(`${this.prefix}.${event.type}`, codec.encode(event));
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  healthy(): boolean {
    return !this.nc.isClosed();
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.reconnectHandlers.clear();
    await this.nc.drain();
  }
}
