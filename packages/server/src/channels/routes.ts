import { Type } from "@sinclair/typebox";
import {
  ChannelAdminList,
  ChannelDirectory,
  ChannelIdParams,
  ChannelInviteParams,
  ChannelPost,
  ChannelPostPage,
  ChannelPostParams,
  ChannelUserParams,
  ChannelView,
  CreateChannelRequest,
  CreatePostRequest,
  DirectoryQuery,
  EditPostRequest,
  FollowerInteractionList,
  FollowRequest,
  InviteAdminRequest,
  ReactRequest,
  TransferChannelRequest,
  UpdateChannelRequest,
} from "@veil/protocol";
import { caller, requireAuth } from "../auth/require-auth.js";
import { type App, errorResponses } from "../http/route-kit.js";
import type { Db } from "../store/database.js";
import type { Channels } from "./channels.js";
import type { ChannelPosts } from "./posts.js";

export interface ChannelRouteDeps {
  channels: Channels;
  posts: ChannelPosts;
  db: Db;
  now: () => number;
}

/** Channels over HTTP: the channel, admins, following, posts, reactions, the directory. */
export function channelRoutes(app: App, { channels, posts, db, now }: ChannelRouteDeps): void {
  const auth = requireAuth(db, now);
  const tags = ["channels"];
  const ok = <T>(schema: T) => ({ 200: schema, ...errorResponses });
  const none = { 204: Type.Null(), ...errorResponses };
  const base = "/v1/channels/:channelId";
  const seqOf = (params: { seq: string }) => Number(params.seq);

  app.post(
    "/v1/channels",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Create a channel (you are its owner)",
        body: CreateChannelRequest,
        response: { 201: ChannelView, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await channels.create(caller(request), request.body)),
  );

  app.get(
    "/v1/channels",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "The directory: search by name or handle, filter, sort",
        querystring: DirectoryQuery,
        response: ok(ChannelDirectory),
      },
    },
    async (request) => ({
      channels: await channels.directory(caller(request), {
        ...request.query,
        limit: request.query.limit === undefined ? undefined : Number(request.query.limit),
      }),
    }),
  );

  app.get(
    "/v1/me/channels",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Channels you follow or administer",
        response: ok(ChannelDirectory),
      },
    },
    async (request) => ({ channels: await channels.mine(caller(request)) }),
  );

  app.get(
    "/v1/channel-invites/:code",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "The channel an invite link opens",
        params: ChannelInviteParams,
        response: ok(ChannelView),
      },
    },
    (request) => channels.byInvite(caller(request), request.params.code),
  );

  app.get(
    base,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "A channel, as the channel (never its admins or followers)",
        params: ChannelIdParams,
        response: ok(ChannelView),
      },
    },
    (request) => channels.view(caller(request), request.params.channelId),
  );

  app.patch(
    base,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Change the name, description, category, country or reaction setting (admins)",
        params: ChannelIdParams,
        body: UpdateChannelRequest,
        response: ok(ChannelView),
      },
    },
    (request) => channels.update(caller(request), request.params.channelId, request.body),
  );

  app.delete(
    base,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Delete the channel (owner)",
        params: ChannelIdParams,
        response: none,
      },
    },
    async (request, reply) => {
      await channels.remove(caller(request), request.params.channelId);
      return reply.status(204).send(null);
    },
  );

  const verifiedRoute = (summary: string) => ({
    preValidation: auth,
    schema: { tags, summary, params: ChannelIdParams, response: none },
  });
  app.put(
    `${base}/verified`,
    verifiedRoute("Set the verified badge (platform admins)"),
    async (request, reply) => {
      await channels.setVerified(caller(request), request.params.channelId, true);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    `${base}/verified`,
    verifiedRoute("Clear the verified badge (platform admins)"),
    async (request, reply) => {
      await channels.setVerified(caller(request), request.params.channelId, false);
      return reply.status(204).send(null);
    },
  );

  app.put(
    `${base}/follow`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Follow (or change mute); your follow is never shown to anyone",
        params: ChannelIdParams,
        body: FollowRequest,
        response: ok(ChannelView),
      },
    },
    (request) =>
      channels.follow(caller(request), request.params.channelId, request.body.muted ?? false),
  );

  app.delete(
    `${base}/follow`,
    {
      preValidation: auth,
      schema: { tags, summary: "Unfollow", params: ChannelIdParams, response: none },
    },
    async (request, reply) => {
      await channels.unfollow(caller(request), request.params.channelId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    `${base}/admins`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "The admins as co-admins see them, and pending invitations (admins)",
        params: ChannelIdParams,
        response: ok(ChannelAdminList),
      },
    },
    (request) => channels.admins(caller(request), request.params.channelId),
  );

  app.post(
    `${base}/admins`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Invite someone to administer (owner; expires after 7 days; 16 admins at most)",
        params: ChannelIdParams,
        body: InviteAdminRequest,
        response: none,
      },
    },
    async (request, reply) => {
      await channels.inviteAdmin(caller(request), request.params.channelId, request.body.userId);
      return reply.status(204).send(null);
    },
  );

  app.put(
    `${base}/admins/me`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Accept an invitation to administer",
        params: ChannelIdParams,
        response: ok(ChannelView),
      },
    },
    (request) => channels.acceptAdmin(caller(request), request.params.channelId),
  );

  app.delete(
    `${base}/admins/:userId`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Remove an admin or withdraw an invitation (owner); your own id: step down",
        params: ChannelUserParams,
        response: none,
      },
    },
    async (request, reply) => {
      const me = caller(request);
      const { channelId, userId } = request.params;
      await channels.removeAdmin(me, channelId, userId === "me" ? me.userId : userId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    `${base}/owner`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Hand the channel to another admin (owner)",
        params: ChannelIdParams,
        body: TransferChannelRequest,
        response: ok(ChannelView),
      },
    },
    (request) => channels.transfer(caller(request), request.params.channelId, request.body.userId),
  );

  // --- posts ---

  app.post(
    `${base}/posts`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Post, as the channel (admins)",
        params: ChannelIdParams,
        body: CreatePostRequest,
        response: { 201: ChannelPost, 200: ChannelPost, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { duplicate, ...post } = await posts.post(
        caller(request),
        request.params.channelId,
        request.body,
      );
      return reply.status(duplicate ? 200 : 201).send(post);
    },
  );

  app.get(
    `${base}/posts`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Posts after a sequence number, within the retention period (anyone: a preview)",
        params: ChannelIdParams,
        querystring: Type.Object(
          {
            after: Type.Optional(Type.String({ pattern: "^\\d{1,15}$" })),
            limit: Type.Optional(Type.String({ pattern: "^\\d{1,3}$" })),
          },
          { additionalProperties: false },
        ),
        response: ok(ChannelPostPage),
      },
    },
    (request) =>
      posts.list(
        caller(request),
        request.params.channelId,
        Number(request.query.after ?? 0),
        Number(request.query.limit ?? 50),
      ),
  );

  app.patch(
    `${base}/posts/:seq`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Edit a post (admins, for 30 days)",
        params: ChannelPostParams,
        body: EditPostRequest,
        response: ok(ChannelPost),
      },
    },
    (request) =>
      posts.edit(
        caller(request),
        request.params.channelId,
        seqOf(request.params),
        request.body.text,
      ),
  );

  app.delete(
    `${base}/posts/:seq`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Delete a post (admins, for 30 days)",
        params: ChannelPostParams,
        response: none,
      },
    },
    async (request, reply) => {
      await posts.remove(caller(request), request.params.channelId, seqOf(request.params));
      return reply.status(204).send(null);
    },
  );

  app.put(
    `${base}/posts/:seq/reaction`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "React (followers; one emoji per post, changeable)",
        params: ChannelPostParams,
        body: ReactRequest,
        response: ok(ChannelPost),
      },
    },
    (request) =>
      posts.react(
        caller(request),
        request.params.channelId,
        seqOf(request.params),
        request.body.emoji,
      ),
  );

  app.delete(
    `${base}/posts/:seq/reaction`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Take your reaction back",
        params: ChannelPostParams,
        response: ok(ChannelPost),
      },
    },
    (request) =>
      posts.react(caller(request), request.params.channelId, seqOf(request.params), null),
  );

  app.get(
    `${base}/posts/:seq/reactions`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Who reacted, for admins: a per-channel handle, the name, the photo if allowed; never a number or id",
        params: ChannelPostParams,
        response: ok(FollowerInteractionList),
      },
    },
    async (request) => ({
      reactions: await posts.interactions(
        caller(request),
        request.params.channelId,
        seqOf(request.params),
      ),
    }),
  );
}
