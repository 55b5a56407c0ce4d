import type { Insights } from "./api.js";

const percent = (value: number) => `${Math.round(value * 100)}%`;
const signed = (value: number) =>
  `${value > 0 ? "+" : value < 0 ? "−" : ""}${Math.abs(value).toFixed(2)}`;

/**
 * What the gateway's local analysis found in one incoming message: intent and
 * its confidence, sentiment, entities and warning signs. A hint for the agent,
 * never shown to the customer.
 */
export function InsightsPanel({ insights }: { insights: Insights }) {
  const { intent, sentiment, entities, suspicious } = insights;
  return (
    <aside className="insights" aria-label="Insights">
      <dl>
        <div>
          <dt>Intent</dt>
          <dd className="insight-intent">
            {intent && intent.intent !== "none"
              ? `${intent.intent} · ${percent(intent.confidence)}`
              : "none recognised"}
          </dd>
        </div>
        {sentiment ? (
          <div>
            <dt>Sentiment</dt>
            <dd className={`insight-sentiment sentiment-${sentiment.label}`}>
              {sentiment.label} ({signed(sentiment.score)})
            </dd>
          </div>
        ) : null}
        {entities.length > 0 ? (
          <div>
            <dt>Entities</dt>
            <dd>
              <ul className="entity-list">
                {entities.map((entity) => (
                  <li key={`${entity.type}-${entity.start}-${entity.text}`} className="entity">
                    <span className="entity-type">{entity.type}</span> {entity.value ?? entity.text}
                  </li>
                ))}
              </ul>
            </dd>
          </div>
        ) : null}
        {suspicious?.suspicious ? (
          <div className="insight-warning" role="note">
            <dt>
              <span aria-hidden="true">⚠ </span>Suspicious
            </dt>
            <dd>
              {[
                ...suspicious.scam.map((name) => `scam pattern: ${name}`),
                ...(suspicious.burst ? ["many messages in a burst"] : []),
                `spam score ${percent(suspicious.spamScore)}`,
              ].join(" · ")}
            </dd>
          </div>
        ) : null}
      </dl>
    </aside>
  );
}
