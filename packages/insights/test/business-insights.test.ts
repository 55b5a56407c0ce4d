import { readFileSync } from "node:fs";
import {
  analyzeBusinessMessage,
  classificationFigures,
  extractEntities,
  InsightsError,
  type IntentExample,
  IntentModel,
  isBurst,
  maxAnalysedLength,
  sentiment,
  suspiciousSignals,
} from "@veil/insights";
import { describe, expect, it } from "vitest";

const trainingExamples: IntentExample[] = readFileSync(
  new URL("../data/business/intents-train.jsonl", import.meta.url),
  "utf8",
)
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as IntentExample);

/** Saturday 5 December 2026, 10:00 UTC. */
const now = Date.parse("2026-12-05T10:00:00Z");

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof InsightsError ? error.code : "not an InsightsError";
  }
  return undefined;
}

describe("IntentModel", () => {
  const model = IntentModel.train(trainingExamples);

  it("knows its intents, sorted, and a default threshold", () => {
    expect(model.intents).toEqual([
      "account_access",
      "cancel_order",
      "change_delivery",
      "order_status",
      "payment_issue",
      "product_question",
      "return_refund",
      "talk_to_human",
    ]);
    expect(model.threshold).toBeGreaterThan(0);
    expect(model.threshold).toBeLessThan(1);
  });

  it.each([
    ["Where's my package?", "order_status"],
    ["Cancel my purchase please", "cancel_order"],
    ["I forgot my password and can't log in", "account_access"],
    ["I want to speak to a person", "talk_to_human"],
    ["Still no refund for my return", "return_refund"],
    ["You charged my card two times", "payment_issue"],
  ])("reads %j as %s", (text, intent) => {
    const prediction = model.predict(text);
    expect(prediction.intent).toBe(intent);
    expect(prediction.confidence).toBeGreaterThanOrEqual(model.threshold);
    expect(prediction.confidence).toBeLessThanOrEqual(1);
  });

  it.each(["Write me a poem about the sea", "lol", "", "   ", "My cat is sleeping on my keyboard"])(
    "answers none for the off-topic %j",
    (text) => {
      expect(model.predict(text).intent).toBe("none");
    },
  );

  it("answers none below a custom threshold", () => {
    const strict = IntentModel.train(trainingExamples, { threshold: 1 });
    expect(strict.threshold).toBe(1);
    expect(strict.predict("Where is my order?").intent).toBe("none");
  });

  it("refuses examples that cannot train a model", () => {
    const three = (intent: string, words: string[]) =>
      words.map((word) => ({ intent, text: `${word} ${intent} question today` }));
    const refund = three("refund", ["money", "broken", "return"]);
    const order = three("order", ["parcel", "delivery", "tracking"]);
    expect(codeOf(() => IntentModel.train(refund))).toBe("intent_examples_invalid");
    expect(codeOf(() => IntentModel.train([...refund, ...order.slice(0, 2)]))).toBe(
      "intent_examples_invalid",
    );
    expect(codeOf(() => IntentModel.train([...refund, ...three("none", ["a", "b", "c"])]))).toBe(
      "intent_examples_invalid",
    );
    expect(codeOf(() => IntentModel.train([...refund, ...order, { intent: "x", text: " " }]))).toBe(
      "intent_examples_invalid",
    );
    expect(codeOf(() => IntentModel.train([...refund, ...order], { threshold: 1.5 }))).toBe(
      "intent_examples_invalid",
    );
    expect(codeOf(() => IntentModel.train([...refund, ...order]))).toBeUndefined();
  });

  it("names the failed rule, not the texts", () => {
    const examples = [
      { intent: "a", text: "secret customer text one" },
      { intent: "a", text: "secret customer text two" },
      { intent: "b", text: "secret customer text three" },
    ];
    expect(() => IntentModel.train(examples)).toThrow(/at least 3/);
    expect(() => IntentModel.train(examples)).not.toThrow(/secret/);
  });
});

describe("sentiment", () => {
  it.each([
    ["Thanks, great service!", "positive"],
    ["not bad", "positive"],
    ["Not bad at all", "positive"],
    ["Not good enough", "negative"],
    ["It works now, thanks", "positive"],
    ["I'm not happy with the quality", "negative"],
    ["The app never works", "negative"],
    ["It doesn't work at all", "negative"],
    ["The item arrived broken", "negative"],
    ["Where is my order?", "neutral"],
    ["My order number is 4411-C", "neutral"],
  ])("labels %j %s", (text, label) => {
    const result = sentiment(text);
    expect(result.label).toBe(label);
    expect(Math.abs(result.score)).toBeLessThanOrEqual(1);
  });

  it("turns a positive word negative under a negation", () => {
    expect(sentiment("happy").score).toBeGreaterThan(0);
    expect(sentiment("not happy").score).toBeLessThan(0);
    expect(sentiment("works").score).toBeGreaterThan(0);
    expect(sentiment("never works").score).toBeLessThan(0);
  });
});

describe("extractEntities", () => {
  it("finds emails, links, amounts and dates with offsets and normalised values", () => {
    const text =
      "I paid €30 and USD 1,200 on 3 March 2026; write to Ana.Lopez@Example.com or see www.acme.com/returns";
    const entities = extractEntities(text, now);
    for (const entity of entities) expect(text.slice(entity.start, entity.end)).toBe(entity.text);
    expect(entities.map(({ type, text: span, value }) => ({ type, span, value }))).toEqual([
      { type: "amount", span: "€30", value: "EUR 30.00" },
      { type: "amount", span: "USD 1,200", value: "USD 1200.00" },
      { type: "date", span: "3 March 2026", value: "2026-03-03" },
      { type: "email", span: "Ana.Lopez@Example.com", value: "ana.lopez@example.com" },
      { type: "url", span: "www.acme.com/returns", value: "http://www.acme.com/returns" },
    ]);
  });

  it("reads decimal commas and currency names", () => {
    expect(extractEntities("Refund 19,90 € or 45 euros", now).map((e) => e.value)).toEqual([
      "EUR 19.90",
      "EUR 45.00",
    ]);
  });

  it("resolves relative dates against now", () => {
    expect(extractEntities("Can you deliver tomorrow?", now)).toEqual([
      { type: "date", text: "tomorrow", start: 16, end: 24, value: "2026-12-06" },
    ]);
    expect(extractEntities("Call me tomorrow at 3pm", now)[0]?.value).toBe("2026-12-06T15:00");
  });

  it("finds nothing in plain numbers, versions or 'now'", () => {
    expect(extractEntities("Order 48213, app version 3.2.1, I need it now", now)).toEqual([]);
  });

  it("does not report an amount inside a link", () => {
    const entities = extractEntities("See https://shop.example/p?price=$30", now);
    expect(entities.map((e) => e.type)).toEqual(["url"]);
  });
});

describe("suspicious signals", () => {
  it("names the scam patterns and flags a scam", () => {
    const signals = suspiciousSignals(
      "Pay the customs fee in iTunes gift cards and send me the codes on the back",
      [],
      now,
    );
    expect(signals.scam).toContain("fraud.gift-card-payment");
    expect(signals.suspicious).toBe(true);
  });

  it("gives an ordinary request no signal", () => {
    const signals = suspiciousSignals("Hi, where is my order? It was due on Friday.", [], now);
    expect(signals).toEqual({
      spamScore: signals.spamScore,
      scam: [],
      burst: false,
      suspicious: false,
    });
    expect(signals.spamScore).toBeLessThan(0.5);
  });

  it("scores SMS spam", () => {
    const signals = suspiciousSignals(
      "WINNER!! You have won a £1000 cash prize. Text CLAIM to 80086 now to collect. T&C apply",
      [],
      now,
    );
    expect(signals.spamScore).toBeGreaterThanOrEqual(0.5);
    expect(signals.suspicious).toBe(true);
  });

  it("sees a burst when more than the limit fall in the window, this one included", () => {
    const earlier = (count: number) =>
      Array.from({ length: count }, (_, i) => now - 1_000 * (i + 1));
    const limit = { windowMs: 60_000, maxMessages: 5 };
    expect(isBurst(earlier(4), now, limit)).toBe(false);
    expect(isBurst(earlier(5), now, limit)).toBe(true);
    expect(isBurst([now - 120_000, now - 90_000, ...earlier(3)], now, limit)).toBe(false);
    expect(suspiciousSignals("ok", earlier(5), now).burst).toBe(true);
    expect(suspiciousSignals("ok", earlier(5), now).suspicious).toBe(true);
  });
});

describe("analyzeBusinessMessage", () => {
  const model = IntentModel.train(trainingExamples);

  it("puts the four parts together, synchronously", () => {
    const insights = analyzeBusinessMessage("My parcel never arrived, I want a refund of €30", {
      intents: model,
      recentFromSender: [],
      now,
    });
    expect(insights).not.toBeInstanceOf(Promise);
    expect(insights.intent?.intent).toBe("return_refund");
    expect(insights.sentiment.label).toBe("negative");
    expect(insights.entities.map((e) => e.value)).toEqual(["EUR 30.00"]);
    expect(insights.suspicious.suspicious).toBe(false);
  });

  it("analyses only the first maxAnalysedLength characters", () => {
    const padding = "x ".repeat(maxAnalysedLength);
    const insights = analyzeBusinessMessage(`I paid €30. ${padding}and also $99`, {
      intents: null,
      recentFromSender: [],
      now,
    });
    expect(insights.entities.map((e) => e.value)).toEqual(["EUR 30.00"]);
  });

  it("skips endless words without losing the rest", () => {
    const insights = analyzeBusinessMessage(`${"a".repeat(50_000)} The app never works`, {
      intents: null,
      recentFromSender: [],
      now,
    });
    expect(insights.sentiment.label).toBe("neutral"); // the words are past the cap
    const short = analyzeBusinessMessage(`${"a".repeat(500)} The app never works`, {
      intents: null,
      recentFromSender: [],
      now,
    });
    expect(short.sentiment.label).toBe("negative");
  });

  it("has no intent without a model, and honours a custom burst limit", () => {
    const insights = analyzeBusinessMessage("hello", {
      intents: null,
      recentFromSender: [now - 1_000, now - 2_000],
      now,
      burst: { windowMs: 10_000, maxMessages: 2 },
    });
    expect(insights.intent).toBeNull();
    expect(insights.suspicious.burst).toBe(true);
  });
});

describe("classificationFigures", () => {
  it("computes precision, recall, F1 and accuracy", () => {
    const figures = classificationFigures([
      { expected: "a", got: "a" },
      { expected: "a", got: "b" },
      { expected: "b", got: "b" },
      { expected: "b", got: "b" },
    ]);
    expect(figures.accuracy).toBe(0.75);
    expect(figures.labels).toEqual([
      { label: "a", precision: 1, recall: 0.5, f1: 2 / 3, support: 2 },
      { label: "b", precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
    ]);
  });
});
