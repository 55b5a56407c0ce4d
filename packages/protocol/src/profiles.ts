import { type Static, Type } from "@sinclair/typebox";
import { BusinessCard, BusinessProfile } from "./business.js";

/** Who a privacy setting lets see a field (PRIVACY-MODEL.md, "Profile fields"). */
export const PrivacyAudience = Type.Union(
  [Type.Literal("everyone"), Type.Literal("contacts"), Type.Literal("nobody")],
  {},
);
export type PrivacyAudience = Static<typeof PrivacyAudience>;

export const PrivacySettings = Type.Object(
  {
    phone: PrivacyAudience,
    photo: PrivacyAudience,
    about: PrivacyAudience,
    presence: PrivacyAudience,
    discoverableByPhone: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type PrivacySettings = Static<typeof PrivacySettings>;

export const defaultPrivacySettings: PrivacySettings = {
  phone: "everyone",
  photo: "everyone",
  about: "everyone",
  presence: "contacts",
  discoverableByPhone: true,
};

export const Presence = Type.Object(
  {
    online: Type.Boolean(),
    lastSeenAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type Presence = Static<typeof Presence>;

/** A user id: opaque and random, never derived from the phone number. */
export const UserId = Type.String({ pattern: "^u_[A-Za-z0-9_-]{22}$" });

/**
 * Another user's profile as one viewer may see it. Every field but `id` is
 * present only when the privacy model grants it to this viewer.
 */
export const VisibleProfile = Type.Object(
  {
    id: Type.String(),
    name: Type.Optional(Type.String()),
    phone: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    photo: Type.Optional(
      Type.String({ description: "photo id; fetch it at /v1/users/{id}/photo" }),
    ),
    about: Type.Optional(Type.String()),
    presence: Type.Optional(Presence),
    /**
     * Present when the subject is a business account and the rules show it at
     * all: its public card, with `name` then the business's name. The other
     * fields follow R1-R13 as for any account.
     */
    business: Type.Optional(BusinessCard),
  },
  { additionalProperties: false },
);
export type VisibleProfile = Static<typeof VisibleProfile>;

/** The signed-in user's own profile: everything, plus the privacy settings. */
export const OwnProfile = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    phone: Type.Union([Type.String(), Type.Null()]),
    username: Type.Union([Type.String(), Type.Null()]),
    photo: Type.Union([Type.String(), Type.Null()]),
    about: Type.String(),
    privacy: PrivacySettings,
    createdAt: Type.String({ format: "date-time" }),
    /** A platform role the operator granted (`veil admin grant`): it opens the moderation tools. */
    platformRole: Type.Union([Type.Literal("admin"), Type.Literal("moderator"), Type.Null()]),
    /** Present when the account is a business (`PUT /v1/me/business`): its business profile. */
    business: Type.Optional(BusinessProfile),
  },
  { additionalProperties: false },
);
export type OwnProfile = Static<typeof OwnProfile>;
