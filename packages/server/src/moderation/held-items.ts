import type { CreatePostRequest, GuidelineCategory, HeldItem } from "@veil/protocol";
import type { Selectable } from "kysely";
import type { ModerationHoldsTable } from "../store/schema/moderation-holds.js";

export type HoldRow = Selectable<ModerationHoldsTable>;

/** What a hold stores to publish later, by kind. */
export type HoldPayload =
  | { kind: "post"; request: CreatePostRequest }
  | { kind: "edit"; text: string }
  | { kind: "profile"; name?: string; description?: string }
  | { kind: "photo"; blobId: string; contentType: string };

export function holdPayload(row: Pick<HoldRow, "kind" | "payload">): HoldPayload {
  return { kind: row.kind, ...JSON.parse(row.payload) } as HoldPayload;
}

/** A held change as its channel's admins and the moderators see it. */
export function heldItem(row: HoldRow): HeldItem {
  const payload = holdPayload(row);
  const post = payload.kind === "post" ? payload.request : null;
  return {
    state: "held",
    id: row.id,
    channelId: row.channel_id,
    kind: row.kind,
    seq: row.seq === null ? null : Number(row.seq),
    text: post ? (post.text ?? null) : payload.kind === "edit" ? payload.text : null,
    name: payload.kind === "profile" ? (payload.name ?? null) : null,
    description: payload.kind === "profile" ? (payload.description ?? null) : null,
    media: post
      ? [...(post.media ?? []), ...(post.preview?.image ? [post.preview.image] : [])]
      : payload.kind === "photo"
        ? [payload.blobId]
        : [],
    poll: post?.poll ? { question: post.poll.question, options: post.poll.options } : null,
    preview: post?.preview
      ? {
          url: post.preview.url,
          title: post.preview.title,
          description: post.preview.description,
        }
      : null,
    category: row.category as GuidelineCategory | null,
    reasons: JSON.parse(row.reasons) as string[],
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}
