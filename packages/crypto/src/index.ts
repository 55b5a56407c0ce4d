export { credentialIdPattern, isCredentialId } from "./credentials.js";
export { MlsError, type MlsErrorCode, mlsErrorCodes } from "./errors.js";
export { fastProviderUsesNodeCrypto } from "./fast-provider.js";
export {
  generateKeyPackage,
  type KeyPackageBundle,
  type KeyPackageOptions,
  keyPackageLifetimeSeconds,
  lastResortExtensionType,
} from "./key-package.js";
export {
  type CommitResult,
  createGroup,
  type Group,
  joinGroup,
  type Member,
  type ProcessResult,
  restoreGroup,
} from "./mls.js";
export {
  compareSafetyNumberQr,
  type SafetyNumberComparison,
  type SafetyNumberInput,
  safetyNumber,
  safetyNumberQr,
} from "./safety-number.js";
export {
  createSenderKey,
  decryptWithSenderKey,
  distributionOf,
  encryptWithSenderKey,
  maxSenderKeyJump,
  maxSkippedSenderKeys,
  type OwnSenderKey,
  type ReceivedSenderKey,
  readDistribution,
  restoreSenderKey,
  type SenderKeyState,
  senderKeyRotation,
  serializeSenderKey,
  shouldRotateSenderKey,
} from "./sender-keys.js";
export {
  defaultSuiteName,
  loadSuite,
  type MlsSuite,
  type ProviderName,
  type SuiteName,
  type SuiteOptions,
  suiteNames,
} from "./suites.js";
export { type ContentType, inspectMessage, type MessageInfo, type Wireformat } from "./wire.js";
