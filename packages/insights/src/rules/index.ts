import { fraudDampeners, fraudRules } from "./fraud.js";
import { hateDampeners, hateRules } from "./hate.js";
import { illegalDampeners, illegalRules } from "./illegal.js";
import type { Dampener, Rule } from "./rule.js";
import { sexualDampeners, sexualRules } from "./sexual.js";
import { spamRules } from "./spam.js";
import { violenceDampeners, violenceRules } from "./violence.js";

/** Every built-in rule, by category. */
export const defaultRules: readonly Rule[] = [
  ...illegalRules,
  ...violenceRules,
  ...hateRules,
  ...sexualRules,
  ...fraudRules,
  ...spamRules,
];

/** Every built-in dampener. */
export const defaultDampeners: readonly Dampener[] = [
  ...illegalDampeners,
  ...violenceDampeners,
  ...hateDampeners,
  ...sexualDampeners,
  ...fraudDampeners,
];
