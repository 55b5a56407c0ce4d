import { type Analyzer, createAnalyzer } from "@veil/insights";
import { type GuidelineCategory, guidelineCategories } from "@veil/protocol";
import { VeilError } from "../errors.js";

/** The thresholds and lists the checks run with (from `VEIL_MODERATION_*`, or a test's own). */
export interface ScreeningOptions {
  /** A guideline finding scoring at least this is held for review. */
  holdAt: number;
  /** At least this, refused. */
  rejectAt: number;
  /** SHA-256 digests, in hex, of images known to be illegal. */
  imageBlocklist?: readonly string[];
  /** Names and words never to flag as profanity or slurs (the analyzer's allow-list, extended). */
  allowList?: readonly string[];
}

/** What the text checks say about a piece of content. */
export interface TextFinding {
  action: "publish" | "hold" | "reject";
  /** The guideline most likely broken, and its score (0 when nothing was found). */
  category: GuidelineCategory | null;
  score: number;
  reasons: string[];
}

/** Each guideline in words, for the people who read a refusal or a suspension notice. */
export const guidelineWords: Record<GuidelineCategory, string> = {
  illegal: "illegal goods or services",
  violence: "violence, threats or self-harm",
  hate: "hate against a group of people",
  sexual: "sexual content",
  fraud: "fraud or a scam",
  spam: "spam",
};

/** Scores that are equal up to rounding count as reaching a threshold (0.85 is 0.85). */
const epsilon = 1e-9;

const isGuideline = (category: string): category is GuidelineCategory =>
  (guidelineCategories as readonly string[]).includes(category);

/** The refusal a client gets: the guideline in words in the message, and as `category`. */
export function rejection(category: GuidelineCategory, image = false): VeilError {
  const message = image
    ? "Not published: this image is on the list of known illegal images, which the content guidelines do not allow."
    : `Not published: this reads as ${guidelineWords[category]}, which the content guidelines do not allow.`;
  return new VeilError("content_rejected", message, { category });
}

/**
 * The automated checks before publishing: text through @veil/insights
 * (rules, profanity, links and the spam model, all in-process and offline),
 * images against a list of digests of known-bad images. No image classifier
 * runs: none is available offline, so a new image is judged by people (a
 * channel with an active strike has its new photo held). Built once, in the
 * composition root; the analyzer's spam model trains on the first check.
 */
export class Screening {
  private readonly analyzer: Analyzer;
  /** The blocklist as blob ids (base64url SHA-256), the form channel media and photos are stored under. */
  private readonly blocked: ReadonlySet<string>;

  constructor(readonly options: ScreeningOptions) {
    const floor = Math.min(options.holdAt, options.rejectAt);
    // Findings are reported from the hold threshold, whatever the analyzer's own defaults.
    const thresholds = Object.fromEntries(guidelineCategories.map((c) => [c, floor]));
    this.analyzer = createAnalyzer({
      thresholds,
      ...(options.allowList ? { allowList: options.allowList } : {}),
    });
    this.blocked = new Set(
      (options.imageBlocklist ?? []).map((hex) => Buffer.from(hex, "hex").toString("base64url")),
    );
  }

  /**
   * Checks the texts of one piece of content together (a post's text, poll
   * and link preview; a channel's name and description). Profanity alone is
   * never a breach: only guideline categories count.
   */
  text(parts: ReadonlyArray<string | undefined | null>): TextFinding {
    const text = parts.filter((p): p is string => typeof p === "string" && p.trim() !== "");
    if (text.length === 0) return { action: "publish", category: null, score: 0, reasons: [] };
    const analysis = this.analyzer.analyze(text.join("\n"));
    const top = analysis.findings.find((f) => isGuideline(f.category));
    if (!top || !isGuideline(top.category)) {
      return { action: "publish", category: null, score: 0, reasons: [] };
    }
    const action =
      top.score >= this.options.rejectAt - epsilon
        ? "reject"
        : top.score >= this.options.holdAt - epsilon
          ? "hold"
          : "publish";
    return { action, category: top.category, score: top.score, reasons: top.reasons };
  }

  /** Whether a stored file (by its blob id, the base64url SHA-256 of its bytes) is a known-bad image. */
  imageBlocked(blobId: string): boolean {
    return this.blocked.has(blobId);
  }
}
