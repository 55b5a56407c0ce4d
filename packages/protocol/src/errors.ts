/**
 * The registry of stable error codes. Every failure the server reports, over
 * HTTP (`{ "error": { "code", "message" } }`) or WebSocket (`{ "type": "error", "code" }`),
 * carries one of these codes. Clients switch on the code, never on the message.
 * docs/errors.md is kept in step with this table by a test.
 */
export const errorRegistry = {
  validation_failed: { status: 400, message: "The request does not match the schema." },
  malformed_request: { status: 400, message: "The request is not well-formed HTTP." },
  headers_too_large: { status: 431, message: "The request headers are too large." },
  body_too_large: { status: 413, message: "The request body is too large." },
  unsupported_media_type: { status: 415, message: "The content type is not supported here." },
  route_not_found: { status: 404, message: "No such route." },
  unauthenticated: { status: 401, message: "A valid session token is required." },
  rate_limited: { status: 429, message: "Too many requests; retry later." },
  internal_error: { status: 500, message: "Something went wrong on the server." },
  not_ready: { status: 503, message: "The server is not ready." },
  storage_unavailable: {
    status: 503,
    message: "The server cannot reach its database right now; retry shortly.",
  },
  phone_invalid: { status: 400, message: "The phone number is not a valid number." },
  phone_taken: { status: 409, message: "The phone number belongs to another account." },
  phone_verification_failed: {
    status: 400,
    message: "The verification code is wrong, expired or used.",
  },
  username_invalid: {
    status: 400,
    message: "Usernames are 3 to 32 characters: a-z, 0-9, '.' and '_', starting with a letter.",
  },
  username_taken: { status: 409, message: "The username is taken." },
  public_key_invalid: { status: 400, message: "The public key is not a 32-byte Ed25519 key." },
  device_key_taken: { status: 409, message: "This device key is already registered." },
  challenge_invalid: { status: 401, message: "The challenge is unknown, used or expired." },
  signature_invalid: { status: 401, message: "The signature does not verify." },
  user_not_found: { status: 404, message: "No such user." },
  device_not_found: { status: 404, message: "No such device." },
  session_not_found: { status: 404, message: "No such session." },
  last_device: {
    status: 409,
    message: "This is the account's only device; delete the account instead.",
  },
  contact_self: { status: 400, message: "You cannot add yourself as a contact." },
  block_self: { status: 400, message: "You cannot block yourself." },
  photo_invalid: { status: 400, message: "The photo must be a PNG, JPEG or WebP image." },
  photo_not_found: { status: 404, message: "No such photo." },
  group_not_found: { status: 404, message: "No such group." },
  stale_epoch: {
    status: 409,
    message: "The group has moved to a newer epoch; process its log and try again.",
  },
  mls_malformed: { status: 400, message: "The MLS message is malformed or of the wrong kind." },
  mls_wrong_group: { status: 400, message: "The MLS message belongs to another group or epoch." },
  key_package_invalid: {
    status: 400,
    message: "The key package is malformed or not for this device.",
  },
  key_packages_unavailable: {
    status: 409,
    message: "The user has no key packages left; try again later.",
  },
  direct_chat_self: { status: 400, message: "A direct chat needs another user." },
  device_not_member: {
    status: 400,
    message: "A device named in the commit is not a member, or already is one.",
  },
  link_not_found: { status: 404, message: "No such device link, or it expired." },
  not_group_admin: { status: 403, message: "Only the group's admins may do this." },
  last_admin: { status: 409, message: "A group needs at least one admin; promote another first." },
  wrong_group_kind: {
    status: 400,
    message:
      "This does not apply to this kind of group (a 1:1 chat, key channel or announcement group).",
  },
  sender_key_malformed: {
    status: 400,
    message: "The announcement is not a well-formed sender-key message for this group.",
  },
  group_member_limit: { status: 409, message: "The group has as many members as it may." },
  request_not_found: { status: 404, message: "No such request to join, or it was answered." },
  community_not_found: { status: 404, message: "No such community." },
  not_community_admin: { status: 403, message: "Only the community's admins may do this." },
  not_community_owner: { status: 403, message: "Only the community's owner may do this." },
  owner_cannot_leave: {
    status: 409,
    message: "The owner cannot leave; transfer ownership or deactivate the community.",
  },
  invite_invalid: { status: 404, message: "The invite link is unknown, revoked or expired." },
  community_group_limit: { status: 409, message: "The community has as many groups as it may." },
  community_member_limit: { status: 409, message: "The community has as many members as it may." },
  group_in_community: { status: 409, message: "The group already belongs to a community." },
  approval_required: {
    status: 403,
    message: "This community approves new members: only an admin lets this person in.",
  },
  channel_not_found: { status: 404, message: "No such channel." },
  handle_invalid: {
    status: 400,
    message: "Handles are 3 to 32 characters: a-z, 0-9, '.' and '_', starting with a letter.",
  },
  handle_taken: { status: 409, message: "The handle is taken." },
  not_channel_admin: { status: 403, message: "Only the channel's admins may do this." },
  not_channel_owner: { status: 403, message: "Only the channel's owner may do this." },
  channel_admin_limit: { status: 409, message: "A channel has at most 16 admins." },
  channel_invite_invalid: {
    status: 404,
    message: "No such invitation to administer the channel, or it expired.",
  },
  post_not_found: { status: 404, message: "No such post." },
  edit_window_closed: { status: 409, message: "Posts can be edited or deleted for 30 days." },
  reaction_not_allowed: {
    status: 400,
    message: "The channel does not allow this reaction.",
  },
  not_following: { status: 403, message: "Follow the channel to react or vote." },
  post_empty: { status: 400, message: "A post needs text, media or a poll." },
  media_type_not_allowed: {
    status: 415,
    message: "Channel media must be a JPEG, PNG or WebP image, MP4 video, MP3 audio or a PDF.",
  },
  media_too_large: { status: 413, message: "The file is larger than the channel media limit." },
  media_not_found: { status: 404, message: "No such media in this channel." },
  link_preview_invalid: { status: 400, message: "The link preview needs an http or https URL." },
  poll_invalid: {
    status: 400,
    message: "A poll needs 2 to 12 distinct options and a close time in the future.",
  },
  poll_not_found: { status: 404, message: "This post has no poll." },
  poll_closed: { status: 409, message: "The poll is closed." },
  vote_invalid: {
    status: 400,
    message: "Vote for the poll's options: one, or several in a multiple-choice poll.",
  },
  not_platform_admin: { status: 403, message: "Only a platform admin may do this." },
  channel_suspended: { status: 403, message: "The channel is suspended." },
  content_rejected: {
    status: 422,
    message: "This breaks the content guidelines and was not published.",
  },
  not_moderator: { status: 403, message: "Only a platform moderator or admin may do this." },
  case_not_found: { status: 404, message: "No such moderation case." },
  case_claimed: { status: 409, message: "Another moderator is working on this case." },
  case_closed: { status: 409, message: "This case is already decided." },
  appeal_not_allowed: { status: 409, message: "Only a violation can be appealed." },
  appeal_exists: { status: 409, message: "This decision has already been appealed." },
  appeal_not_found: { status: 404, message: "No such appeal." },
  appeal_closed: { status: 409, message: "This appeal is already decided." },
  business_not_found: { status: 404, message: "No such business." },
  blob_not_found: { status: 404, message: "No such attachment." },
  frame_invalid: { status: 400, message: "The WebSocket frame does not match the schema." },
  auth_timeout: { status: 401, message: "No hello frame with a valid token arrived in time." },
  slow_consumer: {
    status: 503,
    message: "The connection fell too far behind; reconnect and catch up.",
  },
  shutting_down: { status: 503, message: "The server is shutting down; reconnect." },
  session_revoked: { status: 401, message: "The session was revoked." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorRegistry;

export const errorCodes = Object.keys(errorRegistry) as ErrorCode[];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(errorRegistry, value);
}

/** The one error body of every failed HTTP response. */
export interface ErrorBody {
  /** `category`: with `content_rejected` only, the guideline broken (`fraud`, `spam`, …). */
  error: { code: ErrorCode; message: string; category?: string };
}

/**
 * WebSocket close codes (4000-4999 is the application range). The close
 * reason is the error code.
 */
export const closeCodes = {
  auth_timeout: 4001,
  unauthenticated: 4002,
  session_revoked: 4003,
  frame_invalid: 4004,
  slow_consumer: 4008,
  shutting_down: 4009,
} as const;
