import { type Static, Type } from "@sinclair/typebox";
import { GuidelineCategory } from "./moderation.js";
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
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    /** `content_rejected` only: the guideline the content breaks (`fraud`, `spam`, …). */
    category: Type.Optional(GuidelineCategory),
  }),
});

export const RegisterResponse = Type.Object({
  user: OwnProfile,
  deviceId: Type.String(),
  session: SessionGrant,
});

/** A new device asks to be linked to an account: it proves its key, and gets a code to show. */
export const DeviceLinkRequest = DeviceProof;

export const DeviceLinkResponse = Type.Object({
  linkId: Type.String(),
  /** Kept by the new device: it proves the link is its own when it polls. */
  secret: Type.String(),
  /** Shown on the new device, typed (or scanned, as `veil-link:<code>`) on an existing one. */
  code: Type.String(),
  expiresAt: Type.String({ format: "date-time" }),
});
export type DeviceLinkResponse = Static<typeof DeviceLinkResponse>;

/** An existing device approves: it signs the new device's public key. */
export const ApproveDeviceLinkRequest = Type.Object(
  {
    code: Type.String({ minLength: 8, maxLength: 16, pattern: "^[0-9-]+$" }),
    /** Ed25519 signature by the approving device over `linkSigningPrefix` + the new raw public key. */
    signature: Base64Url(128),
  },
  { additionalProperties: false },
);
export type ApproveDeviceLinkRequest = Static<typeof ApproveDeviceLinkRequest>;

export const ApprovedDevice = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  publicKey: Type.String(),
});

/** What an approving device shows before it signs: the new device's name and key. */
export const PendingDeviceLink = Type.Object({ name: Type.String(), publicKey: Type.String() });

export const DeviceLinkCodeParams = Type.Object({
  code: Type.String({ minLength: 8, maxLength: 16, pattern: "^[0-9-]+$" }),
});

export const DeviceLinkStatus = Type.Object({
  status: Type.Union([Type.Literal("pending"), Type.Literal("approved")]),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  userId: Type.Union([Type.String(), Type.Null()]),
});
export type DeviceLinkStatus = Static<typeof DeviceLinkStatus>;

export const DeviceLinkLookup = Type.Object(
  { linkId: Id, secret: Base64Url(64) },
  { additionalProperties: false },
);

/** What an approving device signs: this prefix, then the new device's raw public key. */
export const linkSigningPrefix = "veil/link/v1\n";
