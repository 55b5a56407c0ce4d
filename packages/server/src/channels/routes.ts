import { Type } from "@sinclair/typebox";
import {
  ChannelAdminList,
  ChannelDirectory,
  ChannelHandleParams,
  ChannelIdParams,
  ChannelInviteParams,
  ChannelMedia,
  ChannelMediaParams,
  ChannelPost,
  ChannelPostPage,
  ChannelPostParams,
  ChannelUserParams,
  ChannelView,
  CreateChannelRequest,
  CreatePostRequest,
  DirectoryQuery,
  EditPostRequest,
  FollowerHandleParams,
  FollowerInteractionList,
  FollowerVoteList,
  FollowRequest,
  HeldItem,
  InviteAdminRequest,
  ReactRequest,
  SuspendChannelRequest,
  TransferChannelRequest,
  UpdateChannelRequest,
  VoteRequest,
} from "@veil/protocol";
import { caller, requireAuth } from "../auth/require-auth.js";
import { VeilError } from "../errors.js";
import { type App, errorResponses } from "../http/route-kit.js";
import { imageTypes } from "../media/image-type.js";
import type { Db } from "../store/database.js";
import type { Channels } from "./channels.js";
import { isHeld } from "./content-gate.js";
import type { ChannelMediaFiles } from "./media.js";
import type { ChannelPosts } from "./posts.js";

export interface ChannelRouteDeps {
  channels: Channels;
  posts: ChannelPosts;
  media: ChannelMediaFiles;
  db: Db;
  now: () => number;
  /** The largest channel photo (`VEIL_PHOTO_LIMIT_BYTES`, as for profile and community photos). */
  photoLimitBytes: number;
}

/**
 * Channels over HTTP: the channel, its photo, admins, following, posts,
 * media, reactions, polls, the directory, and platform admins' badge and
 * suspension.
 */
export function channelRoutes(
  app: App,
  { channels, posts, media, db, now, photoLimitBytes }: ChannelRouteDeps,
): void {
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
        summary:
          "Create a channel (you are its owner); 202 with the held item when its name or description is held for review",
        body: CreateChannelRequest,
        response: { 201: ChannelView, 202: HeldItem, ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await channels.create(caller(request), request.body);
      return reply.status(isHeld(created) ? 202 : 201).send(created);
    },
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
    "/v1/me/channel-invitations",
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Channels whose owner invited you to administer them (accept with PUT …/admins/me)",
        response: ok(ChannelDirectory),
      },
    },
    async (request) => ({ channels: await channels.invitations(caller(request)) }),
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
    "/v1/channels/by-handle/:handle",
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "The channel a post's link names (veil://channel/<handle>/<seq>), as the channel; a suspended one to its admins only",
        params: ChannelHandleParams,
        response: ok(ChannelView),
      },
    },
    (request) => channels.byHandle(caller(request), request.params.handle),
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
        summary:
          "Change the name, description, category, country or reaction setting (admins); 202 with the held item when a new name or description is held for review",
        params: ChannelIdParams,
        body: UpdateChannelRequest,
        response: { 200: ChannelView, 202: HeldItem, ...errorResponses },
      },
    },
    async (request, reply) => {
      const changed = await channels.update(
        caller(request),
        request.params.channelId,
        request.body,
      );
      return reply.status(isHeld(changed) ? 202 : 200).send(changed);
    },
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
    `${base}/suspension`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Suspend the channel, saying why (platform admins): unlisted, no new posts, its invite link closed; its admins and followers see the reason",
        params: ChannelIdParams,
        body: SuspendChannelRequest,
        response: none,
      },
    },
    async (request, reply) => {
      await channels.suspend(caller(request), request.params.channelId, request.body.reason);
      return reply.status(204).send(null);
    },
  );
  app.delete(
    `${base}/suspension`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Lift the suspension (platform admins)",
        params: ChannelIdParams,
        response: none,
      },
    },
    async (request, reply) => {
      await channels.reinstate(caller(request), request.params.channelId);
      return reply.status(204).send(null);
    },
  );

  // --- the photo (public, as the channel is) ---

  app.register(async (photoScope) => {
    const scope = photoScope as unknown as App;
    scope.addContentTypeParser(
      imageTypes,
      { parseAs: "buffer", bodyLimit: photoLimitBytes },
      (_request, body, done) => done(null, body),
    );
    scope.put(
      `${base}/photo`,
      {
        preValidation: auth,
        bodyLimit: photoLimitBytes,
        schema: {
          tags,
          summary:
            "Set the channel photo (admins): PNG, JPEG or WebP bytes as the body; 202 with the held item when held for review",
          params: ChannelIdParams,
          consumes: imageTypes,
          response: { 200: ChannelView, 202: HeldItem, ...errorResponses },
        },
      },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body)) throw new VeilError("unsupported_media_type");
        const set = await media.setPhoto(caller(request), request.params.channelId, request.body);
        return reply.status(isHeld(set) ? 202 : 200).send(set);
      },
    );
  });

  app.get(
    `${base}/photo`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "The channel photo (anyone the channel is shown to); its ETag is the view's photoVersion",
        params: ChannelIdParams,
      },
    },
    async (request, reply) => {
      const photo = await media.photo(caller(request), request.params.channelId);
      const etag = `"${photo.version}"`;
      reply
        .header("etag", etag)
        .header("cache-control", "private, no-cache")
        .header("x-content-type-options", "nosniff");
      if (request.headers["if-none-match"] === etag) {
        photo.stream.destroy();
        return reply.status(304).send();
      }
      return reply
        .header("content-type", photo.contentType)
        .header("content-length", String(photo.size))
        .send(photo.stream);
    },
  );

  app.get(
    `${base}/followers/:handle/photo`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "A follower's photo, for admins, by the follower's handle in this channel, if the follower's setting allows it (R8)",
        params: FollowerHandleParams,
      },
    },
    async (request, reply) => {
      const { channelId, handle } = request.params;
      const photo = await posts.followerPhoto(caller(request), channelId, handle);
      return reply
        .header("content-type", photo.contentType)
        .header("cache-control", "private, max-age=60")
        .header("x-content-type-options", "nosniff")
        .send(photo.bytes);
    },
  );

  app.delete(
    `${base}/photo`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Remove the channel photo (admins)",
        params: ChannelIdParams,
        response: ok(ChannelView),
      },
    },
    (request) => media.removePhoto(caller(request), request.params.channelId),
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
        summary:
          "Post, as the channel (admins): 201 published, 200 a resend, 202 held for review (the held item)",
        params: ChannelIdParams,
        body: CreatePostRequest,
        response: { 201: ChannelPost, 200: ChannelPost, 202: HeldItem, ...errorResponses },
      },
    },
    async (request, reply) => {
      const result = await posts.post(caller(request), request.params.channelId, request.body);
      if (isHeld(result)) return reply.status(202).send(result);
      const { duplicate, ...post } = result;
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
        summary:
          "Edit a post (admins, for 30 days); 202 with the held item when the edit is held for review",
        params: ChannelPostParams,
        body: EditPostRequest,
        response: { 200: ChannelPost, 202: HeldItem, ...errorResponses },
      },
    },
    async (request, reply) => {
      const edited = await posts.edit(
        caller(request),
        request.params.channelId,
        seqOf(request.params),
        request.body.text,
      );
      return reply.status(isHeld(edited) ? 202 : 200).send(edited);
    },
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

  // --- polls ---

  app.put(
    `${base}/posts/:seq/vote`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Vote in the post's poll (followers; option indexes: one, or several if multiple; changeable while open)",
        params: ChannelPostParams,
        body: VoteRequest,
        response: ok(ChannelPost),
      },
    },
    (request) =>
      posts.vote(
        caller(request),
        request.params.channelId,
        seqOf(request.params),
        request.body.options,
      ),
  );

  app.delete(
    `${base}/posts/:seq/vote`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Withdraw your vote while the poll is open",
        params: ChannelPostParams,
        response: ok(ChannelPost),
      },
    },
    (request) => posts.vote(caller(request), request.params.channelId, seqOf(request.params), null),
  );

  app.post(
    `${base}/posts/:seq/poll/close`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Close the post's poll now (admins): later votes are poll_closed; followers get the closed poll and the final counts",
        params: ChannelPostParams,
        response: ok(ChannelPost),
      },
    },
    (request) => posts.closePoll(caller(request), request.params.channelId, seqOf(request.params)),
  );

  app.get(
    `${base}/posts/:seq/votes`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Who voted for what, for admins: a per-channel handle, the name, the photo if allowed; never a number or id",
        params: ChannelPostParams,
        response: ok(FollowerVoteList),
      },
    },
    async (request) => ({
      votes: await posts.voters(caller(request), request.params.channelId, seqOf(request.params)),
    }),
  );

  // --- media (public: channels are not end-to-end encrypted) ---

  app.register(async (plain) => {
    const scope = plain as unknown as App;
    // The bytes are the body whatever type the client declares: the server sniffs it.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: media.limitBytes },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      `${base}/media`,
      {
        // A declared length over the limit is refused before the body is read.
        onRequest: async (request) => {
          const length = Number(request.headers["content-length"] ?? 0);
          if (length > media.limitBytes) throw new VeilError("media_too_large");
        },
        preValidation: auth,
        bodyLimit: media.limitBytes,
        schema: {
          tags,
          summary:
            "Upload a file for posts (admins): the bytes as the body; JPEG, PNG, WebP, MP4, MP3 or PDF",
          params: ChannelIdParams,
          response: { 201: ChannelMedia, ...errorResponses },
        },
      },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
          throw new VeilError("media_type_not_allowed");
        }
        const stored = await media.upload(caller(request), request.params.channelId, request.body);
        return reply.status(201).send(stored);
      },
    );
  });

  app.get(
    `${base}/media/:mediaId`,
    {
      preValidation: auth,
      schema: {
        tags,
        summary:
          "Download a channel's file (anyone the channel is shown to), with its content type",
        params: ChannelMediaParams,
      },
    },
    async (request, reply) => {
      const file = await media.download(
        caller(request),
        request.params.channelId,
        request.params.mediaId,
      );
      return reply
        .header("content-type", file.contentType)
        .header("content-length", String(file.size))
        .header("x-content-type-options", "nosniff")
        .header("cache-control", "private, max-age=31536000, immutable")
        .send(file.stream);
    },
  );
}
