import type { HeldItem, ModerationCase } from "@veil/sdk";
import { guidelineTitle } from "../ui/guidelines.js";

const heldKinds: Record<HeldItem["kind"], string> = {
  post: "Held post",
  edit: "Held edit",
  profile: "Held name or description",
  photo: "Held photo",
};

/** What a case is about, in a few words: "Held post", "Reported channel", "Reported person". */
export function caseSubject(c: ModerationCase): string {
  switch (c.subject) {
    case "held":
      return c.held ? heldKinds[c.held.kind] : "Held content";
    case "post":
      return c.seq !== null ? `Reported post #${c.seq}` : "Reported post";
    case "channel":
      return "Reported channel";
    case "user":
      return "Reported person";
  }
}

/** The channel a case concerns, "Neighbourhood news (@nbhd_news)", or null for a person. */
export function caseChannel(c: ModerationCase): string | null {
  if (!c.channelId) return null;
  const name = c.channelName ?? "A channel";
  return c.channelHandle ? `${name} (@${c.channelHandle})` : name;
}

/** The automated check's score as a share: "72% risk". */
export function riskText(risk: number): string {
  return `${Math.round(risk * 100)}% risk`;
}

export function riskLevel(risk: number): "high" | "medium" | "low" {
  return risk >= 0.75 ? "high" : risk >= 0.4 ? "medium" : "low";
}

/** "Violation: Fraud and scams", "No violation", or null while open. */
export function outcomeText(c: Pick<ModerationCase, "outcome" | "outcomeCategory">): string | null {
  if (c.outcome === "violation") return `Violation: ${guidelineTitle(c.outcomeCategory)}`;
  if (c.outcome === "none") return "No violation";
  return null;
}

/** The suspected guideline: the checks' category, or the reports' (the case keeps it). */
export function suspectedText(c: ModerationCase): string {
  return c.category ? guidelineTitle(c.category) : "None suspected";
}
