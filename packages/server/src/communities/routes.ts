import { Type } from "@sinclair/typebox";
import {
  CommunityGroupParams,
  CommunityIdParams,
  CommunityInviteParams,
  CommunityList,
  CommunityMemberList,
  CommunityUserParams,
  CommunityView,
  CreateCommunityRequest,
  CreateInviteRequest,
  Directory,
  GroupDescription,
  GroupName,
  GroupSummary,
  Invite,
  InviteCodeParams,
  InviteList,
  InvitePreview,
  JoinRequestList,
  JoinResult,
  LinkGroupRequest,
  LinkResult,
  SuggestionList,
  TransferOwnershipRequest,
  UpdateCommunityRequest,
} from "@veil/protocol";
import { caller, requireAuth } from "../auth/require-auth.js";
import { VeilError } from "../errors.js";
import { type App, errorResponses } from "../http/route-kit.js";
import { imageTypes } from "../media/image-type.js";
import type { Db } from "../store/database.js";
import type { Communities } from "./communities.js";
import type { CommunityGroups } from "./community-groups.js";
import type { CommunityInvites } from "./invites.js";

export interface CommunityRouteDeps {
  communities: Communities;
  invites: CommunityInvites;
  groups: CommunityGroups;
  db: Db;
  photoLimitBytes: number;
  now: () => number;
}

/** Communities over HTTP: the community, roles, members, invite links, requests, groups. */
export function communityRoutes(
  app: App,
  { communities, invites, groups, db, photoLimitBytes, now }: CommunityRouteDeps,
): void {
  const auth = requireAuth(db, now);
  const tags = ["communities"];
  const ok = <T>(schema: T) => ({ 200: schema, ...errorResponses });
  const none = { 204: Type.Null(), ...errorResponses };
  const base = "/v1/communities/:communityId";

  app.post(
    "/v1/communities",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Create a community (you are its owner) with its announcement group",
        body: CreateCommunityRequest,
        response: { 201: CommunityView, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await communities.create(caller(request), request.body)),
  );

  app.get(
    "/v1/communities",
    {
      preValidation: auth,
      schema: { tags, summary: "The communities you belong to", response: ok(CommunityList) },
    },
    async (request) => ({ communities: await communities.list(caller(request)) }),
  );

  app.get(
    base,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "A community you belong to (its members are not listed)",
        params: CommunityIdParams,
        response: ok(CommunityView),
      },
    },
    (request) => communities.view(caller(request), request.params.communityId),
  );

  app.patch(
    base,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Change the name, description or settings (admins)",
        params: CommunityIdParams,
        body: UpdateCommunityRequest,
        response: ok(CommunityView),
      },
    },
    (request) => communities.update(caller(request), request.params.communityId, request.body),
  );

  app.delete(
    base,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Deactivate the community (owner): its groups carry on alone",
        params: CommunityIdParams,
        response: none,
      },
    },
    async (request, reply) => {
      await communities.deactivate(caller(request), request.params.communityId);
      return reply.status(204).send(null);
    },
  );

  app.register(async (photoScope) => {
    photoScope.addContentTypeParser(
      imageTypes,
      { parseAs: "buffer", bodyLimit: photoLimitBytes },
      (_request, body, done) => done(null, body),
    );
    photoScope.put(
      `${base}/photo`,
      {
        preValidation: auth,
        bodyLimit: photoLimitBytes,
        schema: {
          tags,
          summary: "Set the community photo (admins): PNG, JPEG or WebP bytes as the body",
          params: CommunityIdParams,
          consumes: imageTypes,
          response: ok(CommunityView),
        },
      },
      (request) => {
        if (!Buffer.isBuffer(request.body)) throw new VeilError("unsupported_media_type");
        const { communityId } = request.params as { communityId: string };
        return communities.setPhoto(caller(request), communityId, request.body);
      },
    );
  });

  app.get(
    `${base}/photo`,
    {
      preValidation: auth,
      schema: { tags, summary: "The community photo (members)", params: CommunityIdParams },
    },
    async (request, reply) => {
      const photo = await communities.photo(caller(request), request.params.communityId);
      return reply.type(photo.contentType).send(Buffer.from(photo.bytes));
    },
  );

  app.delete(
    `${base}/photo`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Remove the community photo (admins)",
        params: CommunityIdParams,
        response: ok(CommunityView),
      },
    },
    (request) => communities.removePhoto(caller(request), request.params.communityId),
  );

  app.post(
    `${base}/owner`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Hand the community to another member (owner); you stay an admin",
        params: CommunityIdParams,
        body: TransferOwnershipRequest,
        response: ok(CommunityView),
      },
    },
    (request) =>
      communities.transferOwnership(
        caller(request),
        request.params.communityId,
        request.body.userId,
      ),
  );

  const adminRoute = (summary: string) => ({
    preValidation: auth,
    schema: { tags, summary, params: CommunityUserParams, response: ok(CommunityView) },
  });
  app.put(`${base}/admins/:userId`, adminRoute("Make a member an admin (owner)"), (request) =>
    communities.setAdmin(caller(request), request.params.communityId, request.params.userId, true),
  );
  app.delete(`${base}/admins/:userId`, adminRoute("Dismiss an admin (owner)"), (request) =>
    communities.setAdmin(caller(request), request.params.communityId, request.params.userId, false),
  );

  app.get(
    `${base}/members`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Every member, as R6 shows them to an admin (admins)",
        params: CommunityIdParams,
        response: ok(CommunityMemberList),
      },
    },
    async (request) => ({
      members: await communities.memberList(caller(request), request.params.communityId),
    }),
  );

  app.delete(
    `${base}/members/:userId`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Leave (your own id) or remove a member (admins): out of the community and all its groups",
        params: CommunityUserParams,
        response: none,
      },
    },
    async (request, reply) => {
      const me = caller(request);
      const { communityId, userId } = request.params;
      if (userId === me.userId) await communities.leave(me, communityId);
      else await communities.removeMember(me, communityId, userId);
      return reply.status(204).send(null);
    },
  );

  // --- invite links ---

  app.post(
    `${base}/invites`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Create an invite link (admins); it expires (default 7 days)",
        params: CommunityIdParams,
        body: CreateInviteRequest,
        response: { 201: Invite, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await invites.createInvite(
            caller(request),
            request.params.communityId,
            request.body.expiresInSeconds,
          ),
        ),
  );

  app.get(
    `${base}/invites`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Live invite links (admins)",
        params: CommunityIdParams,
        response: ok(InviteList),
      },
    },
    async (request) => ({
      invites: await invites.invites(caller(request), request.params.communityId),
    }),
  );

  app.delete(
    `${base}/invites/:code`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Revoke an invite link (admins)",
        params: CommunityInviteParams,
        response: none,
      },
    },
    async (request, reply) => {
      await invites.revokeInvite(caller(request), request.params.communityId, request.params.code);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/v1/invites/:code",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "What an invite link leads to (no member is named)",
        params: InviteCodeParams,
        response: ok(InvitePreview),
      },
    },
    (request) => invites.preview(request.params.code),
  );

  app.post(
    "/v1/invites/:code/join",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Join by invite link, or ask to when the community approves new members",
        params: InviteCodeParams,
        response: ok(JoinResult),
      },
    },
    (request) => invites.join(caller(request), request.params.code),
  );

  // --- requests to join ---

  app.get(
    `${base}/requests`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "People waiting to join (admins)",
        params: CommunityIdParams,
        response: ok(JoinRequestList),
      },
    },
    async (request) => ({
      requests: await invites.requests(caller(request), request.params.communityId),
    }),
  );

  const answerRoute = (summary: string) => ({
    preValidation: auth,
    schema: { tags, summary, params: CommunityUserParams, response: none },
  });
  app.post(
    `${base}/requests/:userId/approve`,
    answerRoute("Let someone in (admins)"),
    async (request, reply) => {
      const { communityId, userId } = request.params;
      await invites.answerRequest(caller(request), communityId, userId, true);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    `${base}/requests/:userId`,
    answerRoute("Turn a request down (admins)"),
    async (request, reply) => {
      const { communityId, userId } = request.params;
      await invites.answerRequest(caller(request), communityId, userId, false);
      return reply.status(204).send(null);
    },
  );

  // --- groups ---

  app.get(
    `${base}/groups`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "The group directory: name, description and size of each group (members)",
        params: CommunityIdParams,
        response: ok(Directory),
      },
    },
    async (request) => ({
      groups: await groups.directory(caller(request), request.params.communityId),
    }),
  );

  app.post(
    `${base}/groups`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Create a new group in the community (whoever may add groups)",
        params: CommunityIdParams,
        body: Type.Object(
          { name: GroupName, description: Type.Optional(GroupDescription) },
          { additionalProperties: false },
        ),
        response: { 201: GroupSummary, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await groups.createGroup(caller(request), request.params.communityId, request.body)),
  );

  app.post(
    `${base}/links`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Link a group you administer; suggested to the admins when only admins add groups",
        params: CommunityIdParams,
        body: LinkGroupRequest,
        response: ok(LinkResult),
      },
    },
    async (request) => ({
      status: await groups.linkGroup(
        caller(request),
        request.params.communityId,
        request.body.groupId,
      ),
    }),
  );

  app.delete(
    `${base}/groups/:groupId`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Unlink a group (community admins, or the group's admins); it carries on alone",
        params: CommunityGroupParams,
        response: none,
      },
    },
    async (request, reply) => {
      await groups.unlinkGroup(caller(request), request.params.communityId, request.params.groupId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    `${base}/suggestions`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Groups members suggested (admins)",
        params: CommunityIdParams,
        response: ok(SuggestionList),
      },
    },
    async (request) => ({
      suggestions: await groups.suggestions(caller(request), request.params.communityId),
    }),
  );

  const suggestionRoute = (summary: string) => ({
    preValidation: auth,
    schema: { tags, summary, params: CommunityGroupParams, response: none },
  });
  app.post(
    `${base}/suggestions/:groupId/approve`,
    suggestionRoute("Link a suggested group (admins)"),
    async (request, reply) => {
      const { communityId, groupId } = request.params;
      await groups.answerSuggestion(caller(request), communityId, groupId, true);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    `${base}/suggestions/:groupId`,
    suggestionRoute("Turn a suggestion down (admins)"),
    async (request, reply) => {
      const { communityId, groupId } = request.params;
      await groups.answerSuggestion(caller(request), communityId, groupId, false);
      return reply.status(204).send(null);
    },
  );
}
