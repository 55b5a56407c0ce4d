import { createHash, createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as the Cloud API signs. */
export const hubSignature = (appSecret: string, rawBody: string): string =>
  `sha256=${createHmac("sha256", appSecret).update(rawBody, "utf8").digest("hex")}`;

/**
 * The Standard Webhooks secret: the app secret itself when it is already a
 * `whsec_…` value, otherwise `whsec_` + base64(SHA-256("veil-business standard-webhooks:" + secret)).
 */
export function standardWebhooksSecret(appSecret: string): string {
  if (appSecret.startsWith("whsec_")) return appSecret;
  const key = createHash("sha256")
    .update(`veil-business standard-webhooks:${appSecret}`, "utf8")
    .digest("base64");
  return `whsec_${key}`;
}

/** Both signatures for one delivery attempt (the timestamp is the attempt's). */
export class WebhookSigner {
  private readonly standard: Webhook;

  constructor(private readonly appSecret: string) {
    this.standard = new Webhook(standardWebhooksSecret(appSecret));
  }

  headers(webhookId: string, rawBody: string, at: Date): Record<string, string> {
    return {
      "content-type": "application/json",
      "x-hub-signature-256": hubSignature(this.appSecret, rawBody),
      "webhook-id": webhookId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": this.standard.sign(webhookId, at, rawBody),
    };
  }
}
