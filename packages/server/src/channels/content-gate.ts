import type { CreatePostRequest, GuidelineCategory, HeldItem } from "@veil/protocol";
import type { Tx } from "../store/database.js";

/** Something a channel is about to publish or store, as the checks see it. */
export type Submission =
  | { kind: "post"; channelId: string; request: CreatePostRequest }
  | { kind: "edit"; channelId: string; seq: number; text: string }
  /** A new name or description (at creation `channelId` is null: the channel does not exist yet). */
  | {
      kind: "profile";
      channelId: string | null;
      name: string | undefined;
      description: string | undefined;
    }
  | { kind: "photo"; channelId: string; blobId: string; contentType: string }
  /** An upload for later posts: only the list of known-bad images applies. */
  | { kind: "media"; channelId: string; blobId: string };

/** What the checks allow: publish now, or hold for a moderator (a refusal is thrown). */
export type Verdict =
  | { action: "publish" }
  | {
      action: "hold";
      category: GuidelineCategory | null;
      /** 0 to 1: how likely a breach, for the queue's order. */
      risk: number;
      reasons: string[];
    };

/**
 * The port through which channels submit every change to the content checks
 * before publishing. The moderation domain implements it (and depends on
 * channels to publish what it releases); the composition root wires it in, so
 * channels never import moderation and the dependency runs one way.
 */
export interface ContentGate {
  /**
   * Checks a submission: throws `content_rejected` (with the guideline's
   * category) for what breaks the guidelines outright, answers `hold` for
   * what a moderator must see first, `publish` otherwise. Stores nothing.
   */
  screen(submission: Submission): Promise<Verdict>;
  /** A post with this client id still held for review, if any (a resend answers it again). */
  heldPost(channelId: string, clientId: string): Promise<HeldItem | null>;
  /** Stores a held submission and opens its case in the queue, in the caller's transaction. */
  hold(
    tx: Tx,
    submission: Exclude<Submission, { kind: "media" }> & { channelId: string },
    verdict: Extract<Verdict, { action: "hold" }>,
  ): Promise<HeldItem>;
}

/** Whether a route's result is a change held for review (answered 202) rather than published. */
export function isHeld(value: object): value is HeldItem {
  return (value as { state?: unknown }).state === "held";
}
