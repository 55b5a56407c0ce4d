import { Type } from "@sinclair/typebox";
import {
  AddContactRequest,
  OwnProfile,
  PhoneLookupRequest,
  PhoneProof,
  PhoneVerificationRequest,
  PhoneVerificationResponse,
  RegisterRequest,
  RegisterResponse,
  UpdatePrivacyRequest,
  UpdateProfileRequest,
  UserIdParams,
  VisibleProfile,
} from "@veil/protocol";
import { caller, requireAuth } from "../auth/require-auth.js";
import { VeilError } from "../errors.js";
import { type App, clientAddress, errorResponses } from "../http/route-kit.js";
import { imageTypes } from "../media/image-type.js";
import type { ProfileReader } from "../privacy/profiles.js";
import type { Db } from "../store/database.js";
import type { Accounts } from "./accounts.js";

export interface AccountRouteDeps {
  accounts: Accounts;
  profiles: ProfileReader;
  db: Db;
  photoLimitBytes: number;
  now: () => number;
}

/** Registration, the own profile and settings, other users, contacts and blocks. */
export function accountRoutes(app: App, deps: AccountRouteDeps): void {
  const { accounts, profiles } = deps;
  const auth = requireAuth(deps.db, deps.now);
  const me = ["me"];
  const people = ["people"];
  const ok = (schema: object) => ({ 200: schema, ...errorResponses });
  const none = { 204: Type.Null(), ...errorResponses };

  app.post(
    "/v1/phone-verifications",
    {
      schema: {
        tags: ["accounts"],
        summary: "Send a verification code to a phone number",
        body: PhoneVerificationRequest,
        response: { 201: PhoneVerificationResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const v = await accounts.startPhoneVerification(request.body.phone, clientAddress(request));
      return reply
        .status(201)
        .send({ verificationId: v.verificationId, expiresAt: new Date(v.expiresAt).toISOString() });
    },
  );

  app.post(
    "/v1/accounts",
    {
      schema: {
        tags: ["accounts"],
        summary:
          "Register: a name, optionally a verified number and a username, and the first device",
        body: RegisterRequest,
        response: { 201: RegisterResponse, ...errorResponses },
      },
    },
    async (request, reply) => reply.status(201).send(await accounts.register(request.body)),
  );

  app.get(
    "/v1/me",
    {
      preValidation: auth,
      schema: {
        tags: me,
        summary: "Your own profile and privacy settings",
        response: ok(OwnProfile),
      },
    },
    (request) => accounts.me(caller(request).userId),
  );

  app.patch(
    "/v1/me",
    {
      preValidation: auth,
      schema: {
        tags: me,
        summary: "Change name, username or about",
        body: UpdateProfileRequest,
        response: ok(OwnProfile),
      },
    },
    (request) => accounts.updateProfile(caller(request).userId, request.body),
  );

  app.patch(
    "/v1/me/privacy",
    {
      preValidation: auth,
      schema: {
        tags: me,
        summary: "Change privacy settings",
        body: UpdatePrivacyRequest,
        response: ok(OwnProfile),
      },
    },
    (request) => accounts.updatePrivacy(caller(request).userId, request.body),
  );

  app.put(
    "/v1/me/phone",
    {
      preValidation: auth,
      schema: {
        tags: me,
        summary: "Set or change your number with a verification code",
        body: PhoneProof,
        response: ok(OwnProfile),
      },
    },
    (request) => accounts.setPhone(caller(request).userId, request.body),
  );

  app.delete(
    "/v1/me/phone",
    {
      preValidation: auth,
      schema: { tags: me, summary: "Remove your number", response: ok(OwnProfile) },
    },
    (request) => accounts.removePhone(caller(request).userId),
  );

  app.register(async (photoScope) => {
    photoScope.addContentTypeParser(
      imageTypes,
      { parseAs: "buffer", bodyLimit: deps.photoLimitBytes },
      (_request, body, done) => done(null, body),
    );
    photoScope.put(
      "/v1/me/photo",
      {
        preValidation: auth,
        bodyLimit: deps.photoLimitBytes,
        schema: {
          tags: me,
          summary: "Set your photo: the image bytes as the body (PNG, JPEG or WebP)",
          consumes: imageTypes,
          response: ok(OwnProfile),
        },
      },
      (request) => {
        // Only the image parsers above yield bytes: a JSON or text body, or none, is no image.
        if (!Buffer.isBuffer(request.body)) throw new VeilError("unsupported_media_type");
        return accounts.setPhoto(caller(request).userId, request.body);
      },
    );
  });

  app.delete(
    "/v1/me/photo",
    {
      preValidation: auth,
      schema: { tags: me, summary: "Remove your photo", response: ok(OwnProfile) },
    },
    (request) => accounts.removePhoto(caller(request).userId),
  );

  app.delete(
    "/v1/me",
    {
      preValidation: auth,
      schema: { tags: me, summary: "Delete your account and its personal data", response: none },
    },
    async (request, reply) => {
      await accounts.deleteAccount(caller(request).userId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/v1/users/:userId",
    {
      preValidation: auth,
      schema: {
        tags: people,
        summary: "Another user's profile, as the privacy model lets you see it",
        params: UserIdParams,
        response: ok(VisibleProfile),
      },
    },
    (request) => profiles.one(caller(request).userId, request.params.userId),
  );

  app.get(
    "/v1/users/:userId/photo",
    {
      preValidation: auth,
      schema: {
        tags: people,
        summary: "Another user's photo, if their setting lets you see it",
        params: UserIdParams,
      },
    },
    async (request, reply) => {
      const photo = await accounts.photo(caller(request).userId, request.params.userId);
      return reply
        .header("content-type", photo.contentType)
        .header("cache-control", "private, max-age=60")
        .send(photo.bytes);
    },
  );

  app.post(
    "/v1/lookup/phone",
    {
      preValidation: auth,
      schema: {
        tags: people,
        summary: "Find a user by exact phone number (if discoverable; rate limited)",
        body: PhoneLookupRequest,
        response: ok(VisibleProfile),
      },
    },
    (request) =>
      accounts.lookupByPhone(caller(request), request.body.phone, clientAddress(request)),
  );

  app.get(
    "/v1/contacts",
    {
      preValidation: auth,
      schema: { tags: people, summary: "Your contacts", response: ok(Type.Array(VisibleProfile)) },
    },
    (request) => accounts.contacts(caller(request).userId),
  );

  app.post(
    "/v1/contacts",
    {
      preValidation: auth,
      schema: {
        tags: people,
        summary: "Add a contact by user id or phone number",
        body: AddContactRequest,
        response: { 201: VisibleProfile, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await accounts.addContact(caller(request), request.body, clientAddress(request))),
  );

  app.delete(
    "/v1/contacts/:userId",
    {
      preValidation: auth,
      schema: { tags: people, summary: "Remove a contact", params: UserIdParams, response: none },
    },
    async (request, reply) => {
      await accounts.removeContact(caller(request).userId, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/v1/blocks",
    {
      preValidation: auth,
      schema: {
        tags: people,
        summary: "Users you blocked",
        response: ok(Type.Array(VisibleProfile)),
      },
    },
    (request) => accounts.blocks(caller(request).userId),
  );

  app.put(
    "/v1/blocks/:userId",
    {
      preValidation: auth,
      schema: { tags: people, summary: "Block a user", params: UserIdParams, response: none },
    },
    async (request, reply) => {
      await accounts.block(caller(request).userId, request.params.userId);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    "/v1/blocks/:userId",
    {
      preValidation: auth,
      schema: { tags: people, summary: "Unblock a user", params: UserIdParams, response: none },
    },
    async (request, reply) => {
      await accounts.unblock(caller(request).userId, request.params.userId);
      return reply.status(204).send(null);
    },
  );
}
