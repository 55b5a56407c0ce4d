import { type Static, Type } from "@sinclair/typebox";

/*
 * Business accounts (issue 9): an account that talks to its customers
 * through its own gateway. The account is related by the rules R1-R13 like
 * any account; where they show it, its card comes with it. Its agents are not
 * Veil users (they live in the gateway), so nothing can name them (R12).
 */

/** What a business is, for search and for customers. */
export const BusinessCategory = Type.Union([
  Type.Literal("retail"),
  Type.Literal("food"),
  Type.Literal("travel"),
  Type.Literal("finance"),
  Type.Literal("health"),
  Type.Literal("education"),
  Type.Literal("services"),
  Type.Literal("technology"),
  Type.Literal("entertainment"),
  Type.Literal("government"),
  Type.Literal("nonprofit"),
  Type.Literal("other"),
]);
export type BusinessCategory = Static<typeof BusinessCategory>;

const BusinessName = Type.String({ minLength: 1, maxLength: 64, pattern: "\\S" });
const BusinessDescription = Type.String({ maxLength: 512 });
const BusinessEmail = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: "^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$",
});
const BusinessWebsite = Type.String({ maxLength: 256, pattern: "^https?://[^\\s/]+\\.[^\\s]+$" });
const BusinessAddress = Type.String({ minLength: 1, maxLength: 256 });

/** How to reach the business outside Veil; every field is optional. */
export const BusinessContact = Type.Object(
  {
    email: Type.Optional(BusinessEmail),
    website: Type.Optional(BusinessWebsite),
    address: Type.Optional(BusinessAddress),
  },
  { additionalProperties: false },
);
export type BusinessContact = Static<typeof BusinessContact>;

/** `PUT /v1/me/business`: become a business, or change the business profile. */
export const UpdateBusinessRequest = Type.Object(
  {
    name: BusinessName,
    description: Type.Optional(BusinessDescription),
    category: BusinessCategory,
    contact: Type.Optional(BusinessContact),
  },
  { additionalProperties: false },
);
export type UpdateBusinessRequest = Static<typeof UpdateBusinessRequest>;

/**
 * The business profile as anyone sees it. `verified` is set by a platform
 * admin only: the name was checked against the business it claims to be.
 */
export const BusinessCard = Type.Object(
  {
    name: Type.String(),
    verified: Type.Boolean(),
    description: Type.String(),
    category: BusinessCategory,
    contact: BusinessContact,
  },
  { additionalProperties: false },
);
export type BusinessCard = Static<typeof BusinessCard>;

/** `GET /v1/businesses/{userId}` and search results: the card with the business's user id. */
export const BusinessProfile = Type.Object(
  {
    userId: Type.String(),
    ...BusinessCard.properties,
    photo: Type.Optional(
      Type.String({ description: "photo id; fetch it at /v1/users/{userId}/photo" }),
    ),
  },
  { additionalProperties: false },
);
export type BusinessProfile = Static<typeof BusinessProfile>;

export const BusinessParams = Type.Object({
  userId: Type.String({ pattern: "^u_[A-Za-z0-9_-]{22}$" }),
});

/** `GET /v1/businesses?q=`: businesses whose name contains `q` (case-insensitive). */
export const BusinessSearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 64, pattern: "\\S" }),
    limit: Type.Optional(Type.String({ pattern: "^\\d{1,2}$" })),
  },
  { additionalProperties: false },
);
export type BusinessSearchQuery = Static<typeof BusinessSearchQuery>;

export const BusinessSearchResult = Type.Object(
  { businesses: Type.Array(BusinessProfile) },
  { additionalProperties: false },
);
export type BusinessSearchResult = Static<typeof BusinessSearchResult>;
