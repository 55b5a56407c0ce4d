import type { Bus, BusEvent, BusHandler } from "./bus.js";

/** The in-process bus of the embedded mode. Handlers run asynchronously, as with a broker. */
export class MemoryBus implements Bus {
  private readonly handlers = new Set<BusHandler>();

  async publish(event: BusEvent): Promise<void> {
    for (const handler of this.handlers) queueMicrotask(() => handler(event));
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onReconnect(): () => void {
    return () => {};
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
