import {
  AppealDecisionRequest,
  AppealList,
  AppealParams,
  AppealReceipt,
  AppealRequest,
  AppealResponse,
  AppealsQuery,
  AuditPage,
  AuditQuery,
  CaseDetail,
  CaseMediaParams,
  CaseParams,
  CaseResponse,
  ChannelIdParams,
  ChannelModeration,
  DecisionRequest,
  ModerationQueue,
  NoteRequest,
  QueueQuery,
  ReportReceipt,
  ReportRequest,
} from "@veil/protocol";
import { caller, requireAuth } from "../auth/require-auth.js";
import { type App, errorResponses } from "../http/route-kit.js";
import type { Db } from "../store/database.js";
import { type ModerationAction, requireAbility } from "./abilities.js";
import type { Appeals } from "./appeals.js";
import { listAudit } from "./audit.js";
import type { ChannelModerationView } from "./channel-moderation.js";
import type { Reports } from "./reports.js";
import type { ModerationReview } from "./review.js";

export interface ModerationRouteDeps {
  reports: Reports;
  review: ModerationReview;
  appeals: Appeals;
  channelView: ChannelModerationView;
  db: Db;
  now: () => number;
}

const pageSize = (limit: string | undefined, fallback = 50) =>
  Math.min(Math.max(Number(limit ?? fallback), 1), 100);

/**
 * Moderation over HTTP: reports (anyone signed in), a channel's own
 * moderation (its owner and admins), appeals (the channel's owner), and the
 * moderators' routes under /v1/moderation, each gated by its ability before
 * anything else is read (`not_moderator`).
 */
export function moderationRoutes(
  app: App,
  { reports, review, appeals, channelView, db, now }: ModerationRouteDeps,
): void {
  const auth = requireAuth(db, now);
  const tags = ["moderation"];
  const ok = <T>(schema: T) => ({ 200: schema, ...errorResponses });
  /** Signed in, then allowed: the ability check runs before params and body are validated. */
  const moderator = (action: ModerationAction, target: "Case" | "Appeal" | "AuditLog") => [
    auth,
    requireAbility(db, action, target),
  ];

  app.post(
    "/v1/reports",
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Report a channel, a post, or a person met in a chat (with up to 5 messages your client attaches)",
        body: ReportRequest,
        response: { 202: ReportReceipt, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await reports.report(caller(request), request.body)),
  );

  app.get(
    "/v1/channels/:channelId/moderation",
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "What is held for review, the decisions and their appeals, strikes and suspension (the channel's owner and admins)",
        params: ChannelIdParams,
        response: ok(ChannelModeration),
      },
    },
    (request) => channelView.of(caller(request), request.params.channelId),
  );

  app.post(
    "/v1/moderation/appeals",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Appeal a violation about your channel (its owner; once per decision)",
        body: AppealRequest,
        response: { 201: AppealReceipt, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await appeals.open(caller(request), request.body)),
  );

  // --- the moderators' routes ---

  app.get(
    "/v1/moderation/queue",
    {
      preValidation: moderator("read", "Case"),
      schema: {
        tags,
        summary:
          "The review queue: open cases, highest risk then oldest first (status=closed: decided ones)",
        querystring: QueueQuery,
        response: ok(ModerationQueue),
      },
    },
    async (request) => ({
      cases: await review.queue(request.query.status ?? "open", pageSize(request.query.limit)),
    }),
  );

  app.get(
    "/v1/moderation/cases/:caseId",
    {
      preValidation: moderator("read", "Case"),
      schema: {
        tags,
        summary: "A case: its reports (never who reported), notes, earlier decisions, strikes",
        params: CaseParams,
        response: ok(CaseDetail),
      },
    },
    (request) => review.detail(request.params.caseId),
  );

  app.get(
    "/v1/moderation/cases/:caseId/media/:mediaId",
    {
      preValidation: moderator("read", "Case"),
      schema: {
        tags,
        summary:
          "A file the case shows (a held post's media or held photo, a reported post's media)",
        params: CaseMediaParams,
      },
    },
    async (request, reply) => {
      const file = await review.caseFile(request.params.caseId, request.params.mediaId);
      return reply
        .header("content-type", file.contentType)
        .header("content-length", String(file.size))
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "private, no-store")
        .send(file.stream);
    },
  );

  app.post(
    "/v1/moderation/cases/:caseId/claim",
    {
      preValidation: moderator("claim", "Case"),
      schema: {
        tags,
        summary: "Claim a case (one moderator at a time; a claim lapses after 15 minutes)",
        params: CaseParams,
        response: ok(CaseResponse),
      },
    },
    async (request) => ({ case: await review.claim(caller(request), request.params.caseId) }),
  );

  app.post(
    "/v1/moderation/cases/:caseId/notes",
    {
      preValidation: moderator("note", "Case"),
      schema: {
        tags,
        summary: "Add a note for the other moderators",
        params: CaseParams,
        body: NoteRequest,
        response: ok(CaseResponse),
      },
    },
    async (request) => ({
      case: await review.note(caller(request), request.params.caseId, request.body.text),
    }),
  );

  app.post(
    "/v1/moderation/cases/:caseId/decision",
    {
      preValidation: moderator("decide", "Case"),
      schema: {
        tags,
        summary:
          "Decide an open case: a violation removes or takes down the content and strikes the channel; none releases what was held",
        params: CaseParams,
        body: DecisionRequest,
        response: ok(CaseResponse),
      },
    },
    async (request) => ({
      case: await review.decide(caller(request), request.params.caseId, request.body),
    }),
  );

  app.get(
    "/v1/moderation/appeals",
    {
      preValidation: moderator("read", "Appeal"),
      schema: {
        tags,
        summary: "Appeals: open ones oldest first (status=decided: decided ones)",
        querystring: AppealsQuery,
        response: ok(AppealList),
      },
    },
    async (request) => ({
      appeals: await appeals.list(request.query.status ?? "open", pageSize(request.query.limit)),
    }),
  );

  app.post(
    "/v1/moderation/appeals/:appealId/decision",
    {
      preValidation: moderator("decide", "Appeal"),
      schema: {
        tags,
        summary:
          "Uphold the decision, or reinstate (the strike is lifted; a suspension it caused may end)",
        params: AppealParams,
        body: AppealDecisionRequest,
        response: ok(AppealResponse),
      },
    },
    async (request) => ({
      appeal: await appeals.decide(caller(request), request.params.appealId, request.body),
    }),
  );

  app.get(
    "/v1/moderation/audit",
    {
      preValidation: moderator("read", "AuditLog"),
      schema: {
        tags,
        summary: "The audit log, newest first, paged by `before`",
        querystring: AuditQuery,
        response: ok(AuditPage),
      },
    },
    (request) => listAudit(db, request.query.before, pageSize(request.query.limit)),
  );
}
