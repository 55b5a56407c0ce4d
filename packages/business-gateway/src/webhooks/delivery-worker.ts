import type { Logger } from "pino";
import type { Database } from "../store/database.js";
import { backoffDelay, parseRetryAfter, type RetryPolicy } from "./retry-policy.js";
import type { WebhookSigner } from "./signing.js";
import { checkWebhookUrl } from "./ssrf-guard.js";

interface Due {
  id: string;
  next_attempt_at: number;
  endpoint_id: string;
  payload: string;
  attempts: number;
  window_start: number;
  url: string;
}

type Outcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; retryAfterMs: number | null };

/**
 * Delivers the outbox: due rows of active endpoints, POSTed with both
 * signatures; retried on failure (Retry-After wins over the backoff), `dead`
 * after the retry window; a 410 disables the endpoint.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private again = false;

  constructor(
    private readonly database: Database,
    private readonly signer: WebhookSigner,
    private readonly policy: RetryPolicy,
    private readonly options: { pollMs: number; allowPrivate: boolean; logger: Logger },
  ) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Runs a pass now (after a new event or a replay). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass()
      .catch((error) => this.options.logger.error({ err: error }, "webhook pass failed"))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.timer = setTimeout(() => this.wake(), this.options.pollMs);
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async pass(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const due = await this.database.db
        .selectFrom("webhook_outbox as o")
        .innerJoin("webhook_endpoints as e", "e.id", "o.endpoint_id")
        .select([
          "o.id",
          "o.next_attempt_at",
          "o.endpoint_id",
          "o.payload",
          "o.attempts",
          "o.window_start",
          "e.url",
        ])
        .where("o.state", "=", "pending")
        .where("e.state", "=", "active")
        .where("o.next_attempt_at", "<=", now)
        .orderBy("o.next_attempt_at")
        .orderBy("o.created_at")
        .limit(20)
        .execute();
      if (due.length === 0 || this.stopped) return;
      await Promise.all(due.map((row) => this.deliver(row)));
    }
  }

  /**
   * Takes a row by moving its next attempt past the attempt's timeout, only
   * if no one else moved it: two gateways on one PostgreSQL never send the
   * same attempt, and a crash mid-attempt leaves it to be retried later.
   */
  private async claim(row: Due): Promise<boolean> {
    const result = await this.database.db
      .updateTable("webhook_outbox")
      .set({ next_attempt_at: Date.now() + this.policy.timeoutMs * 2 })
      .where("id", "=", row.id)
      .where("state", "=", "pending")
      .where("next_attempt_at", "=", row.next_attempt_at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private async deliver(row: Due): Promise<void> {
    if (!(await this.claim(row))) return;
    const outcome = await this.attempt(row);
    const now = Date.now();
    const attempts = row.attempts + 1;
    const log = this.options.logger.child({ webhookId: row.id, endpointId: row.endpoint_id });
    if (outcome.ok) {
      await this.database.db
        .updateTable("webhook_outbox")
        .set({
          state: "delivered",
          attempts,
          last_status: outcome.status,
          last_error: null,
          delivered_at: now,
        })
        .where("id", "=", row.id)
        .execute();
      log.debug({ status: outcome.status, attempts }, "webhook delivered");
      return;
    }
    if (outcome.status === 410) {
      await this.database.transaction(async (tx) => {
        await tx.db
          .updateTable("webhook_endpoints")
          .set({
            state: "disabled",
            disabled_reason: "the endpoint answered 410 Gone",
            updated_at: now,
          })
          .where("id", "=", row.endpoint_id)
          .execute();
        await tx.db
          .updateTable("webhook_outbox")
          .set({ state: "dead", last_error: "endpoint disabled (410 Gone)" })
          .where("endpoint_id", "=", row.endpoint_id)
          .where("state", "=", "pending")
          .execute();
        await tx.db
          .updateTable("webhook_outbox")
          .set({ attempts, last_status: 410 })
          .where("id", "=", row.id)
          .execute();
      });
      log.warn("webhook endpoint answered 410: disabled");
      return;
    }
    const delay = outcome.retryAfterMs ?? backoffDelay(this.policy, attempts);
    const next = now + delay;
    const dead = next > row.window_start + this.policy.windowMs;
    await this.database.db
      .updateTable("webhook_outbox")
      .set({
        state: dead ? "dead" : "pending",
        attempts,
        next_attempt_at: next,
        last_status: outcome.status,
        last_error: outcome.error,
      })
      .where("id", "=", row.id)
      .execute();
    log.debug({ status: outcome.status, attempts, delay, dead }, "webhook attempt failed");
  }

  private async attempt(row: Due): Promise<Outcome> {
    try {
      await checkWebhookUrl(row.url, this.options.allowPrivate);
    } catch (error) {
      return { ok: false, status: null, error: (error as Error).message, retryAfterMs: null };
    }
    try {
      const response = await fetch(row.url, {
        method: "POST",
        headers: this.signer.headers(row.id, row.payload, new Date()),
        body: row.payload,
        redirect: "manual",
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 200 && response.status < 300)
        return { ok: true, status: response.status };
      return {
        ok: false,
        status: response.status,
        error: `HTTP ${response.status}`,
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), Date.now()),
      };
    } catch (error) {
      const name = (error as Error).name;
      return {
        ok: false,
        status: null,
        error: name === "TimeoutError" ? "timed out" : "connection failed",
        retryAfterMs: null,
      };
    }
  }
}
