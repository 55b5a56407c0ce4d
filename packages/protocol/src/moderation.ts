import { type Static, type TSchema, Type } from "@sinclair/typebox";

// Content guidelines enforcement: automated checks before publishing, user
// reports, human review, strikes, suspension and appeals (docs/moderation.md).

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const Timestamp = Type.String({ format: "date-time" });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** The guideline a decision names, and the checks find: what a channel may not carry. */
export const GuidelineCategory = Type.Union([
  Type.Literal("illegal"),
  Type.Literal("violence"),
  Type.Literal("hate"),
  Type.Literal("sexual"),
  Type.Literal("fraud"),
  Type.Literal("spam"),
]);
export type GuidelineCategory = Static<typeof GuidelineCategory>;
export const guidelineCategories = [
  "illegal",
  "violence",
  "hate",
  "sexual",
  "fraud",
  "spam",
] as const satisfies readonly GuidelineCategory[];

/** Why someone reports: a guideline, or `other` (say what in the note). */
export const ReportReason = Type.Union([GuidelineCategory, Type.Literal("other")]);
export type ReportReason = Static<typeof ReportReason>;

const ReportNote = Type.String({ maxLength: 500 });

/**
 * A message a reporter's client decrypted and chose to attach (up to 5): the
 * server never gets a chat's messages otherwise.
 */
export const ReportedMessage = Type.Object(
  {
    messageId: Id,
    /** The sender's user id, as the reporter's client authenticated it. */
    senderUserId: Id,
    /** When it was sent (the sender's clock), milliseconds. */
    sentAt: Type.Integer({ minimum: 0 }),
    text: Type.String({ maxLength: 4096 }),
  },
  { additionalProperties: false },
);
export type ReportedMessage = Static<typeof ReportedMessage>;

/** `POST /v1/reports`: a channel, one of its posts, or a person met in a chat. */
export const ReportRequest = Type.Union([
  Type.Object(
    {
      subject: Type.Literal("channel"),
      channelId: Id,
      reason: ReportReason,
      note: Type.Optional(ReportNote),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      subject: Type.Literal("post"),
      channelId: Id,
      seq: Type.Integer({ minimum: 1 }),
      reason: ReportReason,
      note: Type.Optional(ReportNote),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      subject: Type.Literal("user"),
      userId: Id,
      /** The chat or group where the reporter met them; both must be in it. */
      groupId: Id,
      reason: ReportReason,
      note: Type.Optional(ReportNote),
      messages: Type.Optional(Type.Array(ReportedMessage, { maxItems: 5 })),
    },
    { additionalProperties: false },
  ),
]);
export type ReportRequest = Static<typeof ReportRequest>;

export const ReportReceipt = Type.Object({ reportId: Type.String() });
export type ReportReceipt = Static<typeof ReportReceipt>;

/**
 * A change held for review: not shown to followers until a moderator
 * releases it. `kind`: a new post, an edit of post `seq`, a new name or
 * description (`profile`), a new photo.
 */
export const HeldItem = Type.Object({
  state: Type.Literal("held"),
  id: Type.String(),
  channelId: Type.String(),
  kind: Type.Union([
    Type.Literal("post"),
    Type.Literal("edit"),
    Type.Literal("profile"),
    Type.Literal("photo"),
  ]),
  /** The post an edit changes; null otherwise. */
  seq: Nullable(Type.Integer()),
  /** A post's or an edit's text; the new name and description of a profile change. */
  text: Nullable(Type.String()),
  name: Nullable(Type.String()),
  description: Nullable(Type.String()),
  /**
   * A held post's media (ids of media uploaded to the channel), or a held
   * photo's id (its SHA-256, the `photoVersion` it would get); empty otherwise.
   */
  media: Type.Array(Type.String()),
  /** A held post's poll and link preview, as submitted; null otherwise. */
  poll: Nullable(Type.Object({ question: Type.String(), options: Type.Array(Type.String()) })),
  preview: Nullable(
    Type.Object({ url: Type.String(), title: Type.String(), description: Type.String() }),
  ),
  /** The guideline the automated check suspects, and its reasons in words. */
  category: Nullable(GuidelineCategory),
  reasons: Type.Array(Type.String()),
  createdAt: Timestamp,
});
export type HeldItem = Static<typeof HeldItem>;

/** A decision about a channel as its owner and admins see it, with its appeal. */
export const ChannelDecision = Type.Object({
  id: Type.String(),
  subject: Type.Union([Type.Literal("channel"), Type.Literal("post"), Type.Literal("held")]),
  seq: Nullable(Type.Integer()),
  outcome: Type.Union([Type.Literal("violation"), Type.Literal("none")]),
  category: Nullable(GuidelineCategory),
  decidedAt: Timestamp,
  /** A violation is a strike, kept even if the post is deleted; a reinstated appeal lifts it. */
  strike: Type.Boolean(),
  appeal: Nullable(
    Type.Object({
      status: Type.Union([
        Type.Literal("open"),
        Type.Literal("upheld"),
        Type.Literal("reinstated"),
      ]),
      createdAt: Timestamp,
      decidedAt: Nullable(Timestamp),
    }),
  ),
  /** The owner may appeal a violation once. */
  canAppeal: Type.Boolean(),
});
export type ChannelDecision = Static<typeof ChannelDecision>;

/** `GET /v1/channels/{id}/moderation` (its owner and admins): what is held, decided, and why suspended. */
export const ChannelModeration = Type.Object({
  held: Type.Array(HeldItem),
  decisions: Type.Array(ChannelDecision),
  strikes: Type.Object({
    /** Strikes in the window that count. */
    active: Type.Integer(),
    /** This many within the window suspend the channel. */
    threshold: Type.Integer(),
    windowDays: Type.Integer(),
  }),
  suspension: Nullable(Type.Object({ reason: Type.String(), at: Timestamp })),
});
export type ChannelModeration = Static<typeof ChannelModeration>;

/** `POST /v1/moderation/appeals`: the channel's owner appeals a violation, once. */
export const AppealRequest = Type.Object(
  { decisionId: Id, text: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
export type AppealRequest = Static<typeof AppealRequest>;

/** `POST /v1/moderation/appeals` answers 201 with the appeal's id. */
export const AppealReceipt = Type.Object({ appealId: Type.String() });
export type AppealReceipt = Static<typeof AppealReceipt>;

// --- the review queue (platform moderators and admins) ---------------------------

export const CaseSubject = Type.Union([
  Type.Literal("channel"),
  Type.Literal("post"),
  Type.Literal("held"),
  Type.Literal("user"),
]);
export type CaseSubject = Static<typeof CaseSubject>;

export const CaseParams = Type.Object({ caseId: Id });
/** A file a case shows (`GET /v1/moderation/cases/{caseId}/media/{mediaId}`). */
export const CaseMediaParams = Type.Object({ caseId: Id, mediaId: Id });
export const AppealParams = Type.Object({ appealId: Id });

/** One report as a moderator reads it: who reported is not shown, only how many and why. */
export const CaseReport = Type.Object({
  reason: ReportReason,
  note: Nullable(Type.String()),
  /** What the reporter chose to attach from a chat; empty otherwise. */
  messages: Type.Array(ReportedMessage),
  createdAt: Timestamp,
});

/** An entry of the queue: held content or reports about one subject. */
export const ModerationCase = Type.Object({
  id: Type.String(),
  subject: CaseSubject,
  status: Type.Union([Type.Literal("open"), Type.Literal("closed")]),
  channelId: Nullable(Type.String()),
  /** The channel's handle and name, for the moderator's eyes. */
  channelHandle: Nullable(Type.String()),
  channelName: Nullable(Type.String()),
  seq: Nullable(Type.Integer()),
  /** A reported person's user id (their name comes through the profile rules). */
  userId: Nullable(Type.String()),
  held: Nullable(HeldItem),
  /** The post's text as published, for a reported post. */
  text: Nullable(Type.String()),
  /** 0 to 1: the automated check's score, raised by reports. */
  risk: Type.Number({ minimum: 0, maximum: 1 }),
  category: Nullable(GuidelineCategory),
  reasons: Type.Array(Type.String()),
  reportCount: Type.Integer(),
  openedAt: Timestamp,
  /** The moderator working on it (a user id), and since when. */
  claimedBy: Nullable(Type.String()),
  claimedAt: Nullable(Timestamp),
  outcome: Nullable(Type.Union([Type.Literal("violation"), Type.Literal("none")])),
  outcomeCategory: Nullable(GuidelineCategory),
  decidedAt: Nullable(Timestamp),
});
export type ModerationCase = Static<typeof ModerationCase>;

/** A case with everything a moderator needs to decide: reports, notes, the channel's history. */
export const CaseDetail = Type.Object({
  case: ModerationCase,
  reports: Type.Array(CaseReport),
  notes: Type.Array(Type.Object({ by: Type.String(), text: Type.String(), createdAt: Timestamp })),
  /** Earlier decisions about the same channel (or person), newest first. */
  history: Type.Array(ModerationCase),
  strikes: Type.Integer(),
});
export type CaseDetail = Static<typeof CaseDetail>;

/** Query strings arrive as text: `limit` is digits (1 to 100; 50 when absent). */
export const QueueQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal("open"), Type.Literal("closed")])),
    limit: Type.Optional(Type.String({ pattern: "^\\d{1,3}$" })),
  },
  { additionalProperties: false },
);

/** `GET /v1/moderation/queue`: highest risk first, then oldest first. */
export const ModerationQueue = Type.Object({ cases: Type.Array(ModerationCase) });
export type ModerationQueue = Static<typeof ModerationQueue>;

/** What claim, note and decision answer: the case as it now stands. */
export const CaseResponse = Type.Object({ case: ModerationCase });
export type CaseResponse = Static<typeof CaseResponse>;

/**
 * `POST /v1/moderation/cases/{id}/decision`. A violation names its
 * category: held content is removed, a post taken down, and the channel
 * gets a strike; `none` releases what was held.
 */
export const DecisionRequest = Type.Union([
  Type.Object(
    {
      outcome: Type.Literal("violation"),
      category: GuidelineCategory,
      note: Type.Optional(ReportNote),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { outcome: Type.Literal("none"), note: Type.Optional(ReportNote) },
    { additionalProperties: false },
  ),
]);
export type DecisionRequest = Static<typeof DecisionRequest>;

export const NoteRequest = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);

/** An appeal in the moderators' list. */
export const AppealView = Type.Object({
  id: Type.String(),
  decision: ModerationCase,
  text: Type.String(),
  status: Type.Union([Type.Literal("open"), Type.Literal("upheld"), Type.Literal("reinstated")]),
  createdAt: Timestamp,
  decidedAt: Nullable(Timestamp),
});
export type AppealView = Static<typeof AppealView>;

/** `GET /v1/moderation/appeals?status=open|decided`: open ones oldest first (the default), decided ones newest first. */
export const AppealsQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal("open"), Type.Literal("decided")])),
    limit: Type.Optional(Type.String({ pattern: "^\\d{1,3}$" })),
  },
  { additionalProperties: false },
);
export const AppealList = Type.Object({ appeals: Type.Array(AppealView) });
export type AppealList = Static<typeof AppealList>;
export const AppealResponse = Type.Object({ appeal: AppealView });
export type AppealResponse = Static<typeof AppealResponse>;

/** `POST /v1/moderation/appeals/{id}/decision`: keep the decision, or reinstate (lift the strike). */
export const AppealDecisionRequest = Type.Object(
  {
    outcome: Type.Union([Type.Literal("upheld"), Type.Literal("reinstated")]),
    note: Type.Optional(ReportNote),
  },
  { additionalProperties: false },
);
export type AppealDecisionRequest = Static<typeof AppealDecisionRequest>;

/**
 * One line of the audit log: every claim, note, decision, release, removal,
 * strike, suspension, reinstatement, flag and appeal decision. `actorUserId`
 * is the moderator, the channel's owner (an appeal), or null (the system: a
 * suspension that strikes caused). `detail` holds ids and categories, never content.
 */
export const AuditEntry = Type.Object({
  id: Type.String(),
  at: Timestamp,
  actorUserId: Nullable(Type.String()),
  action: Type.String(),
  caseId: Nullable(Type.String()),
  detail: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditEntry = Static<typeof AuditEntry>;

/** `GET /v1/moderation/audit?before=<id>&limit=`: newest first; `before` is the last id of the previous page. */
export const AuditQuery = Type.Object(
  {
    before: Type.Optional(Id),
    limit: Type.Optional(Type.String({ pattern: "^\\d{1,3}$" })),
  },
  { additionalProperties: false },
);
/** A page of the audit log; `next` is the `before` of the following page, null at the end. */
export const AuditPage = Type.Object({
  entries: Type.Array(AuditEntry),
  next: Nullable(Type.String()),
});
export type AuditPage = Static<typeof AuditPage>;
