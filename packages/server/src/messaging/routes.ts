import { Type } from "@sinclair/typebox";
import {
  Appended,
  ClaimKeyPackagesRequest,
  ClaimKeyPackagesResponse,
  CommitRequest,
  CreateGroupRequest,
  CursorRequest,
  GroupIdParams,
  GroupInfoRequest,
  GroupSettingsRequest,
  GroupSummary,
  GroupUserParams,
  JoinRequestList,
  KeyPackageStock,
  LogPage,
  LogQuery,
  MailboxAckRequest,
  MailboxPage,
  SendMessageRequest,
  SignalRequest,
  UploadKeyPackagesRequest,
} from "@veil/protocol";
import { caller, requireAuth } from "../auth/require-auth.js";
import { type App, errorResponses } from "../http/route-kit.js";
import type { Db } from "../store/database.js";
import type { Delivery } from "./delivery.js";
import type { GroupAdmin } from "./group-admin.js";
import type { KeyPackages } from "./key-packages.js";
import type { Mailbox } from "./mailbox.js";

export interface MessagingRouteDeps {
  delivery: Delivery;
  groupAdmin: GroupAdmin;
  keyPackages: KeyPackages;
  mailbox: Mailbox;
  db: Db;
  now: () => number;
}

/** The MLS delivery service over HTTP: key packages, groups, logs, mailboxes. */
export function messagingRoutes(
  app: App,
  { delivery, groupAdmin, keyPackages, mailbox, db, now }: MessagingRouteDeps,
): void {
  const auth = requireAuth(db, now);
  const keys = ["key packages"];
  const groups = ["groups and messages"];
  const ok = <T>(schema: T) => ({ 200: schema, ...errorResponses });
  const none = { 204: Type.Null(), ...errorResponses };

  app.post(
    "/v1/key-packages",
    {
      preValidation: auth,
      schema: {
        tags: keys,
        summary:
          "Upload this device's MLS key packages (one-time, and optionally a last-resort one)",
        body: UploadKeyPackagesRequest,
        response: ok(KeyPackageStock),
      },
    },
    (request) => keyPackages.upload(caller(request), request.body),
  );

  app.get(
    "/v1/key-packages",
    {
      preValidation: auth,
      schema: {
        tags: keys,
        summary: "This device's key package stock",
        response: ok(KeyPackageStock),
      },
    },
    (request) => keyPackages.stock(caller(request).deviceId),
  );

  app.post(
    "/v1/key-packages/claim",
    {
      preValidation: auth,
      schema: {
        tags: keys,
        summary: "Claim one key package for every device of each user (to add them to a group)",
        body: ClaimKeyPackagesRequest,
        response: ok(ClaimKeyPackagesResponse),
      },
    },
    (request) => keyPackages.claim(caller(request), request.body.userIds, request.body.deviceIds),
  );

  app.post(
    "/v1/groups",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Create a group, or the direct chat with a user (returned if it exists)",
        body: CreateGroupRequest,
        response: { 201: GroupSummary, 200: GroupSummary, ...errorResponses },
      },
    },
    async (request, reply) => {
      const group = await delivery.createGroup(caller(request), request.body);
      return reply.status(group.existing ? 200 : 201).send(group);
    },
  );

  app.get(
    "/v1/groups",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "The groups this device belongs to",
        response: ok(Type.Array(GroupSummary)),
      },
    },
    (request) => delivery.groups(caller(request)),
  );

  app.get(
    "/v1/groups/:groupId",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "A group this device belongs to",
        params: GroupIdParams,
        response: ok(GroupSummary),
      },
    },
    (request) => delivery.group(caller(request), request.params.groupId),
  );

  app.put(
    "/v1/groups/:groupId/admins/:userId",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Make a member an admin (admins only)",
        params: GroupUserParams,
        response: ok(GroupSummary),
      },
    },
    (request) =>
      groupAdmin.setAdmin(caller(request), request.params.groupId, request.params.userId, true),
  );

  app.delete(
    "/v1/groups/:groupId/admins/:userId",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Take admin rights back (admins only; never the last admin)",
        params: GroupUserParams,
        response: ok(GroupSummary),
      },
    },
    (request) =>
      groupAdmin.setAdmin(caller(request), request.params.groupId, request.params.userId, false),
  );

  app.patch(
    "/v1/groups/:groupId/settings",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary:
          "Change who may send, who may edit the name and description, and whether joining needs approval (admins only)",
        params: GroupIdParams,
        body: GroupSettingsRequest,
        response: ok(GroupSummary),
      },
    },
    (request) => groupAdmin.updateSettings(caller(request), request.params.groupId, request.body),
  );

  app.patch(
    "/v1/groups/:groupId/info",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Change the name or description (members, or admins when the group is set so)",
        params: GroupIdParams,
        body: GroupInfoRequest,
        response: ok(GroupSummary),
      },
    },
    (request) => groupAdmin.updateInfo(caller(request), request.params.groupId, request.body),
  );

  app.delete(
    "/v1/groups/:groupId/members/me",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Leave a group: your devices go at once; the others commit the removal",
        params: GroupIdParams,
        response: none,
      },
    },
    async (request, reply) => {
      await groupAdmin.leave(caller(request), request.params.groupId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/v1/groups/:groupId/requests",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Ask to join a group of your community (from its directory)",
        params: GroupIdParams,
        response: { 202: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await groupAdmin.requestToJoin(caller(request), request.params.groupId);
      return reply.status(202).send(null);
    },
  );

  app.get(
    "/v1/groups/:groupId/requests",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary:
          "Requests to join (admins; every member when the group does not require approval); add a requester by a commit",
        params: GroupIdParams,
        response: ok(JoinRequestList),
      },
    },
    async (request) => ({
      requests: await groupAdmin.requests(caller(request), request.params.groupId),
    }),
  );

  app.delete(
    "/v1/groups/:groupId/requests/:userId",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Turn a request down, or withdraw your own",
        params: GroupUserParams,
        response: none,
      },
    },
    async (request, reply) => {
      await groupAdmin.dismissRequest(
        caller(request),
        request.params.groupId,
        request.params.userId,
      );
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/v1/groups/:groupId/commits",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Append an MLS commit built on the current epoch (adds, removes, updates)",
        params: GroupIdParams,
        body: CommitRequest,
        response: { 201: Appended, ...errorResponses },
      },
      bodyLimit: 10 * 1024 * 1024,
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await delivery.commit(caller(request), request.params.groupId, request.body)),
  );

  app.post(
    "/v1/groups/:groupId/messages",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Append an MLS application message; acknowledged once durable",
        params: GroupIdParams,
        body: SendMessageRequest,
        response: { 201: Appended, 200: Appended, ...errorResponses },
      },
      bodyLimit: 512 * 1024,
    },
    async (request, reply) => {
      const appended = await delivery.send(caller(request), request.params.groupId, request.body);
      return reply.status(appended.duplicate ? 200 : 201).send(appended);
    },
  );

  app.post(
    "/v1/groups/:groupId/signals",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Push an ephemeral MLS message (typing) to connected members; not stored",
        params: GroupIdParams,
        body: SignalRequest,
        response: { 202: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await delivery.signal(caller(request), request.params.groupId, request.body.message);
      return reply.status(202).send(null);
    },
  );

  app.get(
    "/v1/groups/:groupId/log",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Read the group's log after a sequence number",
        params: GroupIdParams,
        querystring: LogQuery,
        response: ok(LogPage),
      },
    },
    (request) =>
      delivery.log(
        caller(request),
        request.params.groupId,
        Number(request.query.after ?? 0),
        Number(request.query.limit ?? 100),
      ),
  );

  app.put(
    "/v1/groups/:groupId/cursor",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Record how far this device has read",
        params: GroupIdParams,
        body: CursorRequest,
        response: none,
      },
    },
    async (request, reply) => {
      await delivery.setCursor(caller(request), request.params.groupId, request.body.seq);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/v1/mailbox",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "This device's mailbox (welcomes, key package alerts)",
        querystring: Type.Object(
          { after: Type.Optional(Type.String({ pattern: "^\\d{1,15}$" })) },
          { additionalProperties: false },
        ),
        response: ok(MailboxPage),
      },
    },
    async (request) => ({
      items: await mailbox.list(caller(request), Number(request.query.after ?? 0)),
    }),
  );

  app.post(
    "/v1/mailbox/ack",
    {
      preValidation: auth,
      schema: {
        tags: groups,
        summary: "Delete mailbox items up to a sequence number",
        body: MailboxAckRequest,
        response: none,
      },
    },
    async (request, reply) => {
      await mailbox.ack(caller(request), request.body.upTo);
      return reply.status(204).send(null);
    },
  );
}
