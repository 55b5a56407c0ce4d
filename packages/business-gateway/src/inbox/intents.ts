import { InsightsError, type IntentExample, IntentModel } from "@veil/insights";
import { CloudError } from "../cloud-errors.js";
import type { Database, Db } from "../store/database.js";
import { type Actor, audit } from "./audit.js";

export interface IntentsInfo {
  intents: string[];
  threshold: number | null;
  examples: number;
}

/**
 * The business's intent model, trained from the examples it gives through
 * the API; kept in memory and rebuilt from the stored examples at start.
 */
export class IntentRegistry {
  private model: IntentModel | null = null;
  private examples = 0;

  constructor(private readonly database: Database) {}

  current(): IntentModel | null {
    return this.model;
  }

  info(): IntentsInfo {
    return {
      intents: this.model ? [...this.model.intents] : [],
      threshold: this.model ? this.model.threshold : null,
      examples: this.examples,
    };
  }

  /** Rebuilds the model from the stored examples (at start). */
  async load(): Promise<void> {
    const db = this.database.db;
    const rows = await db
      .selectFrom("inbox_intent_examples")
      .select(["intent", "text"])
      .orderBy("position")
      .execute();
    if (rows.length === 0) return;
    const threshold = await storedThreshold(db);
    this.model = IntentModel.train(rows, threshold === null ? {} : { threshold });
    this.examples = rows.length;
  }

  /** Trains first (bad examples change nothing), then replaces the stored examples. */
  async replace(
    actor: Actor,
    examples: IntentExample[],
    threshold: number | undefined,
  ): Promise<IntentsInfo> {
    let model: IntentModel;
    try {
      model = IntentModel.train(examples, threshold === undefined ? {} : { threshold });
    } catch (error) {
      if (error instanceof InsightsError)
        throw new CloudError("parameter_invalid", `examples: ${error.message}`);
      throw error;
    }
    await this.database.transaction(async (tx) => {
      await tx.db.deleteFrom("inbox_intent_examples").execute();
      let position = 0;
      for (const chunk of chunks(examples, 200))
        await tx.db
          .insertInto("inbox_intent_examples")
          .values(chunk.map((e) => ({ position: position++, intent: e.intent, text: e.text })))
          .execute();
      await tx.db.deleteFrom("inbox_settings").where("key", "=", "intentThreshold").execute();
      if (threshold !== undefined)
        await tx.db
          .insertInto("inbox_settings")
          .values({ key: "intentThreshold", value: String(threshold) })
          .execute();
      await audit(tx.db, actor, "intents.updated", null, {
        intents: [...model.intents],
        examples: examples.length,
        threshold: model.threshold,
      });
    });
    this.model = model;
    this.examples = examples.length;
    return this.info();
  }
}

async function storedThreshold(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom("inbox_settings")
    .select("value")
    .where("key", "=", "intentThreshold")
    .executeTakeFirst();
  return row ? Number(row.value) : null;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
