export { type ApiKeyInfo, type Scope, scopes } from "./api-keys.js";
export { type CloudErrorBody, cloudErrors } from "./cloud-errors.js";
export { ConfigError, type GatewayConfig, loadConfig } from "./config.js";
export { createGateway, type Gateway, type GatewayOverrides } from "./gateway.js";
export { derivePhoneNumberId, veilIdOf, wamidOf } from "./ids.js";
export { defaultRetryPolicy, type RetryPolicy } from "./webhooks/retry-policy.js";
export { hubSignature, standardWebhooksSecret } from "./webhooks/signing.js";
export { isBlockedAddress } from "./webhooks/ssrf-guard.js";
