import { type Static, Type } from "@sinclair/typebox";
import { OwnProfile, PrivacyAudience } from "./profiles.js";

/** No NUL characters: PostgreSQL cannot store them in text, and no name or status needs one. */
const noNul = "^[^\\u0000]*$";
/** Display names: 1 to 64 characters, not only white space, no NUL (a linear pattern). */
export const DisplayName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^\\s*[^\\s\\u0000][^\\u0000]*$",
});
export const About = Type.String({ maxLength: 139, pattern: noNul });
/** Usernames are checked precisely by the server (error `username_invalid`). */
export const Username = Type.String({ minLength: 1, maxLength: 64 });
/** A phone number as typed; the server normalises it to E.164. */
export const PhoneInput = Type.String({ minLength: 3, maxLength: 32 });
/** base64url (no padding) of bytes. */
export const Base64Url = (maxLength: number) =>
  Type.String({ pattern: "^[A-Za-z0-9_-]*$", maxLength });
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });

export const ChallengeResponse = Type.Object({
  challengeId: Type.String(),
  challenge: Type.String({ description: "32 random bytes, base64url" }),
  expiresAt: Type.String({ format: "date-time" }),
});
export type ChallengeResponse = Static<typeof ChallengeResponse>;

/** A device's proof that it holds the private key of `publicKey`. */
export const DeviceProof = Type.Object(
  {
    publicKey: Base64Url(64),
    challengeId: Id,
    signature: Base64Url(128),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: noNul })),
  },
  { additionalProperties: false },
);
export type DeviceProof = Static<typeof DeviceProof>;

export const PhoneProof = Type.Object(
  { verificationId: Id, code: Type.String({ minLength: 4, maxLength: 12 }) },
  { additionalProperties: false },
);
export type PhoneProof = Static<typeof PhoneProof>;

export const RegisterRequest = Type.Object(
  {
    name: DisplayName,
    username: Type.Optional(Username),
    phone: Type.Optional(PhoneProof),
    device: DeviceProof,
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

export const Device = Type.Object({
  id: Type.String(),
  name: Type.String(),
  publicKey: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
  current: Type.Boolean(),
});
export type Device = Static<typeof Device>;

export const SessionGrant = Type.Object({
  id: Type.String(),
  token: Type.String({ description: "bearer token: send as `Authorization: Bearer <token>`" }),
});
export type SessionGrant = Static<typeof SessionGrant>;

export const Session = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
  lastUsedAt: Type.String({ format: "date-time" }),
  current: Type.Boolean(),
});
export type Session = Static<typeof Session>;

export const SignInRequest = Type.Object(
  { deviceId: Id, challengeId: Id, signature: Base64Url(128) },
  { additionalProperties: false },
);
export type SignInRequest = Static<typeof SignInRequest>;

export const PhoneVerificationRequest = Type.Object(
  { phone: PhoneInput },
  { additionalProperties: false },
);
export const PhoneVerificationResponse = Type.Object({
  verificationId: Type.String(),
  expiresAt: Type.String({ format: "date-time" }),
});

export const UpdateProfileRequest = Type.Object(
  {
    name: Type.Optional(DisplayName),
    username: Type.Optional(Type.Union([Username, Type.Null()])),
    about: Type.Optional(About),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateProfileRequest = Static<typeof UpdateProfileRequest>;

export const UpdatePrivacyRequest = Type.Object(
  {
    phone: Type.Optional(PrivacyAudience),
    photo: Type.Optional(PrivacyAudience),
    about: Type.Optional(PrivacyAudience),
    presence: Type.Optional(PrivacyAudience),
    discoverableByPhone: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdatePrivacyRequest = Static<typeof UpdatePrivacyRequest>;

export const PhoneLookupRequest = Type.Object(
  { phone: PhoneInput },
  { additionalProperties: false },
);

export const AddContactRequest = Type.Union([
  Type.Object({ userId: Id }, { additionalProperties: false }),
  Type.Object({ phone: PhoneInput }, { additionalProperties: false }),
]);
export type AddContactRequest = Static<typeof AddContactRequest>;

export const UserIdParams = Type.Object({ userId: Id });
export const DeviceIdParams = Type.Object({ deviceId: Id });
export const SessionIdParams = Type.Object({ sessionId: Id });

/** The bytes a device signs to prove possession: a fixed prefix, then the challenge. */
export const challengeSigningPrefix = "veil/auth/v1\n";

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export const RegisterResponse = Type.Object({
  user: OwnProfile,
  deviceId: Type.String(),
  session: SessionGrant,
});
