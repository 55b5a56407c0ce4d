export { type Analyzer, type AnalyzerOptions, analyzeText, createAnalyzer } from "./analyzer.js";
export {
  analyzeBusinessMessage,
  type BusinessMessageContext,
  type MessageInsights,
  maxAnalysedLength,
} from "./business/analyze.js";
export { type Entity, type EntityType, extractEntities } from "./business/entities.js";
export {
  type ClassificationFigures,
  classificationFigures,
  evaluateEntities,
  evaluateIntents,
  evaluateSentiment,
  type LabelFigures,
  type LabelledEntities,
  type LabelledSentiment,
} from "./business/evaluation.js";
export {
  defaultIntentThreshold,
  type IntentExample,
  IntentModel,
  type IntentPrediction,
  noIntent,
} from "./business/intent-model.js";
export { type Sentiment, type SentimentLabel, sentiment } from "./business/sentiment.js";
export {
  type BurstLimit,
  defaultBurstLimit,
  isBurst,
  type SuspiciousSignals,
  suspiciousSignals,
} from "./business/suspicious.js";
export {
  type Analysis,
  type Category,
  categories,
  defaultThresholds,
  type Finding,
  guidelineCategories,
  isCategory,
  type Thresholds,
} from "./categories.js";
export { InsightsError, type InsightsErrorCode, insightsErrorCodes } from "./errors.js";
export {
  type CategoryFigures,
  evaluateMessages,
  figuresEnd,
  figuresStart,
  type LabelledMessage,
  type MessageMismatch,
  type MessageSet,
  type MessageSetFigures,
  parseLabelledMessages,
  renderFigures,
  replaceFigures,
} from "./evaluation.js";
export { linkSignals } from "./links/check.js";
export { defaultAllowList } from "./profanity/allow-list.js";
export { ProfanityChecker } from "./profanity/matcher.js";
export { defaultDampeners, defaultRules } from "./rules/index.js";
export { type Dampener, near, type Rule, re, rule } from "./rules/rule.js";
export type { Signal } from "./scoring.js";
export {
  type LabelledTokens,
  loadSpamDataset,
  parseSpamDataset,
  type SpamLabel,
  spamDatasetPath,
} from "./spam/dataset.js";
export { hasSpamHallmark } from "./spam/hallmarks.js";
export {
  evaluateSpamHoldout,
  type HoldoutOptions,
  type SpamHoldoutFigures,
} from "./spam/holdout.js";
export {
  defaultSpamModel,
  type NaiveBayesOptions,
  NaiveBayesSpamModel,
  type SpamClassifier,
  type SpamVerdict,
} from "./spam/naive-bayes.js";
export {
  type DatasetSplit,
  defaultSplitSeed,
  type SplitOptions,
  stratifiedSplit,
} from "./spam/split.js";
export { spamTokens, stemLikeDataset } from "./spam/tokenize.js";
export { normalizeText } from "./text/normalize.js";
