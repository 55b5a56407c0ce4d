export { Accounts } from "./accounts/accounts.js";
export type { PhoneVerifier } from "./accounts/phone-verifier.js";
export { type Config, ConfigError, loadConfig } from "./config.js";
export { type AppContext, closeContext, createContext } from "./context.js";
export {
  allowed,
  noRelations,
  phoneLookupProfile,
  type Relations,
  type Subject,
  visibleProfile,
} from "./privacy/policy.js";
export { buildServer, type VeilServer } from "./server.js";
