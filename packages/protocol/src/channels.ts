import { type Static, Type } from "@sinclair/typebox";
import { GroupDescription, GroupName } from "./messaging.js";

const EntityId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const Timestamp = Type.String({ format: "date-time" });

/** A channel's public handle: 3 to 32 of a-z, 0-9, '.' and '_', starting with a letter. */
export const ChannelHandle = Type.String({ minLength: 1, maxLength: 64 });
/** A category of the directory, e.g. "news", "sports" (lowercase words). */
export const ChannelCategory = Type.String({ pattern: "^[a-z][a-z-]{1,30}$" });
/** ISO 3166-1 alpha-2, upper case. */
export const CountryCode = Type.String({ pattern: "^[A-Z]{2}$" });

export const ReactionPolicy = Type.Union([
  Type.Literal("any"),
  Type.Literal("default"),
  Type.Literal("none"),
]);
export type ReactionPolicy = Static<typeof ReactionPolicy>;

/** The emoji a channel set to `default` accepts. */
export const defaultChannelReactions = ["👍", "❤️", "😂", "😮", "😢", "🙏"] as const;

export const CreateChannelRequest = Type.Object(
  {
    name: GroupName,
    handle: ChannelHandle,
    description: Type.Optional(GroupDescription),
    category: Type.Optional(ChannelCategory),
    country: Type.Optional(CountryCode),
  },
  { additionalProperties: false },
);
export type CreateChannelRequest = Static<typeof CreateChannelRequest>;

export const UpdateChannelRequest = Type.Object(
  {
    name: Type.Optional(GroupName),
    description: Type.Optional(GroupDescription),
    category: Type.Optional(Type.Union([ChannelCategory, Type.Null()])),
    country: Type.Optional(Type.Union([CountryCode, Type.Null()])),
    reactionPolicy: Type.Optional(ReactionPolicy),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChannelRequest = Static<typeof UpdateChannelRequest>;

/**
 * A channel as anyone sees it: the channel's own name, never its admins
 * (R9). `role` is the caller's (admins only see it set).
 */
export const ChannelView = Type.Object({
  id: Type.String(),
  handle: Type.String(),
  name: Type.String(),
  description: Type.String(),
  category: Type.Union([Type.String(), Type.Null()]),
  country: Type.Union([Type.String(), Type.Null()]),
  verified: Type.Boolean(),
  followerCount: Type.Integer(),
  reactionPolicy: ReactionPolicy,
  /** The caller's place: `owner`, `admin`, or null. */
  role: Type.Union([Type.Literal("owner"), Type.Literal("admin"), Type.Null()]),
  following: Type.Boolean(),
  muted: Type.Boolean(),
  /** The invite link's code (share `veil-channel:<code>`). */
  inviteCode: Type.String(),
  lastSeq: Type.Integer(),
  createdAt: Timestamp,
  /** Whether the channel has a photo (GET /v1/channels/{id}/photo). */
  hasPhoto: Type.Boolean(),
  /** Changes whenever the photo does (a hash of its bytes): cache the photo by it. Null: none. */
  photoVersion: Type.Union([Type.String(), Type.Null()]),
  /**
   * `suspended`: a platform admin suspended the channel. Only its admins and
   * followers still see it; it takes no new posts.
   */
  status: Type.Union([Type.Literal("active"), Type.Literal("suspended")]),
  /** Why the channel is suspended, to show as a notice; null while active. */
  suspensionReason: Type.Union([Type.String(), Type.Null()]),
  /** The owner invited the caller to administer it, and the invitation is open (accept it). */
  adminInvitation: Type.Boolean(),
});
export type ChannelView = Static<typeof ChannelView>;

export const ChannelIdParams = Type.Object({ channelId: EntityId });
export const ChannelUserParams = Type.Object({ channelId: EntityId, userId: EntityId });
export const ChannelPostParams = Type.Object({
  channelId: EntityId,
  seq: Type.String({ pattern: "^\\d{1,15}$" }),
});
/** A handle as a post's link names it (`veil://channel/<handle>/<seq>`). */
export const ChannelHandleParams = Type.Object({ handle: ChannelHandle });
export const ChannelInviteParams = Type.Object({
  code: Type.String({ minLength: 16, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" }),
});

export const FollowRequest = Type.Object(
  { muted: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/** A co-admin as the other admins see them (R10): id, name, phone, photo if allowed. */
export const ChannelAdmin = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  phone: Type.Optional(Type.String()),
  photo: Type.Optional(Type.String()),
  role: Type.Union([Type.Literal("owner"), Type.Literal("admin")]),
});
export const ChannelAdminList = Type.Object({
  admins: Type.Array(ChannelAdmin),
  /**
   * Invitations not yet accepted (they expire after 7 days), listed to the
   * owner only, who sent them: the invitee's id and name as the owner sees
   * them. Other admins get an empty list and the number in `invitedCount`.
   */
  invited: Type.Array(
    Type.Object({
      userId: Type.String(),
      name: Type.Optional(Type.String()),
      expiresAt: Timestamp,
    }),
  ),
  /** How many invitations are pending, shown to every admin. */
  invitedCount: Type.Integer(),
});

export const InviteAdminRequest = Type.Object(
  { userId: EntityId },
  { additionalProperties: false },
);
export const TransferChannelRequest = Type.Object(
  { userId: EntityId },
  { additionalProperties: false },
);

/** A platform admin suspends a channel, saying why (shown to its admins and followers). */
export const SuspendChannelRequest = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      pattern: "^\\s*[^\\s\\u0000][^\\u0000]*$",
    }),
  },
  { additionalProperties: false },
);
export type SuspendChannelRequest = Static<typeof SuspendChannelRequest>;

/** The most media one post references. */
export const maxPostMedia = 10;
/** Channel media is public (not end-to-end encrypted); the server sniffs the type from the bytes. */
export const channelMediaTypes = [
  "image/jpeg",
  "image/png",
  "image/webp",
  "video/mp4",
  "audio/mpeg",
  "application/pdf",
] as const;

const MediaId = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });
const PlainText = (minLength: number, maxLength: number) =>
  Type.String({ minLength, maxLength, pattern: "^[^\\u0000]*$" });

/** Media uploaded to a channel, as a post references it (download: GET .../media/{id}). */
export const ChannelMedia = Type.Object({
  id: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
});
export type ChannelMedia = Static<typeof ChannelMedia>;
export const ChannelMediaParams = Type.Object({ channelId: EntityId, mediaId: MediaId });
/** A follower by their handle in one channel (`f_…`): what admins see instead of an id. */
export const FollowerHandleParams = Type.Object({
  channelId: EntityId,
  handle: Type.String({ pattern: "^f_[A-Za-z0-9_-]{1,32}$" }),
});

/**
 * A link preview, made by the admin's client and stored with the post: the
 * server never fetches the URL. `image` is a media id uploaded to the channel.
 */
export const LinkPreview = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2048, pattern: "^[Hh][Tt][Tt][Pp][Ss]?://\\S+$" }),
    title: PlainText(0, 300),
    description: PlainText(0, 1000),
    image: Type.Optional(MediaId),
  },
  { additionalProperties: false },
);
export type LinkPreview = Static<typeof LinkPreview>;

/** A poll as an admin creates it. */
export const CreatePoll = Type.Object(
  {
    question: PlainText(1, 300),
    options: Type.Array(PlainText(1, 100), { minItems: 2, maxItems: 12 }),
    /** Several options per follower (default: one). */
    multiple: Type.Optional(Type.Boolean()),
    /** When voting stops; open until the post goes when absent. */
    closesAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type CreatePoll = Static<typeof CreatePoll>;

export const CreatePostRequest = Type.Object(
  {
    /** The client's id for this post: a resend with the same id is stored once. */
    id: Type.String({ minLength: 8, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" }),
    /** The text, or the caption of media; a post has text, media or a poll. */
    text: Type.Optional(PlainText(1, 4096)),
    /** Ids of media uploaded to this channel, shown in this order. */
    media: Type.Optional(Type.Array(MediaId, { minItems: 1, maxItems: maxPostMedia })),
    preview: Type.Optional(LinkPreview),
    poll: Type.Optional(CreatePoll),
  },
  { additionalProperties: false },
);
export type CreatePostRequest = Static<typeof CreatePostRequest>;

export const EditPostRequest = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 4096, pattern: "^[^\\u0000]*$" }) },
  { additionalProperties: false },
);

/** A poll as everyone sees it: counts, and the caller's own vote; never who voted. */
export const ChannelPoll = Type.Object({
  question: Type.String(),
  options: Type.Array(Type.Object({ text: Type.String(), votes: Type.Integer() })),
  multiple: Type.Boolean(),
  /** Followers who voted (in a multiple-choice poll, votes may add up to more). */
  voters: Type.Integer(),
  closesAt: Type.Union([Timestamp, Type.Null()]),
  closed: Type.Boolean(),
  /** The caller's options, by index (empty: no vote). */
  myVote: Type.Array(Type.Integer()),
});
export type ChannelPoll = Static<typeof ChannelPoll>;

/** A post as everyone sees it: from the channel, with reaction counts. */
export const ChannelPost = Type.Object({
  channelId: Type.String(),
  seq: Type.Integer(),
  id: Type.String(),
  text: Type.String(),
  /**
   * Where the post lives, `veil://channel/<handle>/<seq>`: a forwarded copy
   * carries it, so the copy links back to its channel.
   */
  link: Type.String(),
  media: Type.Array(ChannelMedia),
  preview: Type.Union([LinkPreview, Type.Null()]),
  poll: Type.Union([ChannelPoll, Type.Null()]),
  /** Emoji to count; never who reacted (admins ask for that separately). */
  reactions: Type.Record(Type.String(), Type.Integer()),
  /** The caller's own reaction, if any. */
  myReaction: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  editedAt: Type.Union([Timestamp, Type.Null()]),
});
export type ChannelPost = Static<typeof ChannelPost>;
export const ChannelPostPage = Type.Object({
  posts: Type.Array(ChannelPost),
  lastSeq: Type.Integer(),
});

export const ReactRequest = Type.Object(
  { emoji: Type.String({ minLength: 1, maxLength: 16, pattern: "^[^\\u0000\\s]+$" }) },
  { additionalProperties: false },
);

/**
 * A follower next to their reaction, as a channel admin sees them (R8): a
 * per-channel pseudonymous handle, the name, and the photo only if allowed.
 * Never the phone, the username or the user id.
 */
export const FollowerInteraction = Type.Object({
  follower: Type.Object({
    handle: Type.String(),
    name: Type.String(),
    photo: Type.Optional(Type.String()),
  }),
  emoji: Type.String(),
  at: Timestamp,
});
export const FollowerInteractionList = Type.Object({ reactions: Type.Array(FollowerInteraction) });

export const VoteRequest = Type.Object(
  { options: Type.Array(Type.Integer({ minimum: 0, maximum: 11 }), { minItems: 1, maxItems: 12 }) },
  { additionalProperties: false },
);

/** A follower next to their vote, as a channel admin sees them (R8), as for reactions. */
export const FollowerVote = Type.Object({
  follower: Type.Object({
    handle: Type.String(),
    name: Type.String(),
    photo: Type.Optional(Type.String()),
  }),
  options: Type.Array(Type.Integer()),
  at: Timestamp,
});
export const FollowerVoteList = Type.Object({ votes: Type.Array(FollowerVote) });

/** Poll counts as pushed with `channel.counts`: votes by option, and voters. */
export const PollCounts = Type.Object({
  votes: Type.Array(Type.Integer()),
  voters: Type.Integer(),
});
export type PollCounts = Static<typeof PollCounts>;

export const DirectoryQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 64 })),
    category: Type.Optional(ChannelCategory),
    country: Type.Optional(CountryCode),
    sort: Type.Optional(
      Type.Union([Type.Literal("new"), Type.Literal("active"), Type.Literal("popular")]),
    ),
    limit: Type.Optional(Type.String({ pattern: "^\\d{1,3}$" })),
  },
  { additionalProperties: false },
);
export const ChannelDirectory = Type.Object({ channels: Type.Array(ChannelView) });
