import { Type } from "@sinclair/typebox";
import {
  ApproveDeviceLinkRequest,
  ApprovedDevice,
  ChallengeResponse,
  Device,
  DeviceIdParams,
  DeviceLinkCodeParams,
  DeviceLinkLookup,
  DeviceLinkRequest,
  DeviceLinkResponse,
  DeviceLinkStatus,
  DeviceProof,
  PendingDeviceLink,
  Session,
  SessionGrant,
  SessionIdParams,
  SignInRequest,
} from "@veil/protocol";
import type { Bus } from "../bus/bus.js";
import { VeilError } from "../errors.js";
import { type App, errorResponses } from "../http/route-kit.js";
import type { Database } from "../store/database.js";
import {
  approveDeviceLink,
  type DeviceLifecycle,
  deviceLinkStatus,
  pendingDeviceLink,
  startDeviceLink,
} from "./device-links.js";
import { issueChallenge, verifyDeviceProof } from "./device-proof.js";
import { caller, requireAuth } from "./require-auth.js";
import {
  createSession,
  devicePublicKey,
  insertDevice,
  listDevices,
  listSessions,
  removeDevice,
  revokeSession,
} from "./sessions.js";

export interface AuthRouteDeps {
  database: Database;
  bus: Bus;
  lifecycle: DeviceLifecycle;
  now: () => number;
}

/** Challenges, sign-in, sessions and devices. */
export function authRoutes(app: App, { database, bus, lifecycle, now }: AuthRouteDeps): void {
  const db = database.db;
  const auth = requireAuth(db, now);
  const tags = ["devices and sessions"];

  app.post(
    "/v1/auth/challenges",
    {
      schema: {
        tags,
        summary: "Get a one-time challenge for a device to sign",
        response: { 201: ChallengeResponse, ...errorResponses },
      },
    },
    async (_request, reply) => {
      const c = await issueChallenge(db, now());
      return reply.status(201).send({ ...c, expiresAt: new Date(c.expiresAt).toISOString() });
    },
  );

  app.post(
    "/v1/sessions",
    {
      schema: {
        tags,
        summary: "Sign a device in: the device signs a challenge with its key",
        body: SignInRequest,
        response: {
          201: Type.Object({
            userId: Type.String(),
            deviceId: Type.String(),
            session: SessionGrant,
          }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { deviceId, challengeId, signature } = request.body;
      const device = await devicePublicKey(db, deviceId);
      // An unknown device answers like a bad signature: no oracle for device ids.
      if (!device) throw new VeilError("signature_invalid");
      await verifyDeviceProof(db, { publicKey: device.public_key, challengeId, signature }, now());
      const session = await createSession(db, device.user_id, deviceId, now());
      return reply.status(201).send({ userId: device.user_id, deviceId, session });
    },
  );

  app.get(
    "/v1/sessions",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "List the account's sessions",
        response: { 200: Type.Array(Session), ...errorResponses },
      },
    },
    async (request) => listSessions(db, caller(request)),
  );

  app.delete(
    "/v1/sessions/:sessionId",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Revoke a session (sign out)",
        params: SessionIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await revokeSession(db, caller(request).userId, request.params.sessionId);
      await bus.publish({ type: "sessions.revoked", sessionIds: [request.params.sessionId] });
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/v1/devices",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "List the account's devices",
        response: { 200: Type.Array(Device), ...errorResponses },
      },
    },
    async (request) => listDevices(db, caller(request)),
  );

  app.post(
    "/v1/devices",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Add a device to the account: the new device signs a challenge",
        body: DeviceProof,
        response: { 201: Type.Object({ deviceId: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = caller(request);
      await verifyDeviceProof(db, request.body, now());
      const deviceId = await database.transaction(async (tx) => {
        const taken = await tx.db
          .selectFrom("devices")
          .select("id")
          .where("public_key", "=", request.body.publicKey)
          .executeTakeFirst();
        if (taken) throw new VeilError("device_key_taken");
        const id = await insertDevice(tx.db, userId, request.body, now());
        await lifecycle.added(tx, userId, id);
        return id;
      });
      return reply.status(201).send({ deviceId });
    },
  );

  app.delete(
    "/v1/devices/:deviceId",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Remove a device and end its sessions",
        params: DeviceIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const revoked = await database.transaction(async (tx) => {
        const { userId } = caller(request);
        const device = await tx.db
          .selectFrom("devices")
          .select("id")
          .where("id", "=", request.params.deviceId)
          .where("user_id", "=", userId)
          .executeTakeFirst();
        if (device) await lifecycle.removed(tx, device.id);
        return removeDevice(tx.db, userId, request.params.deviceId);
      });
      await bus.publish({ type: "sessions.revoked", sessionIds: revoked });
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/v1/device-links",
    {
      schema: {
        tags,
        summary: "Start linking a new device: it proves its key and gets a code to show",
        body: DeviceLinkRequest,
        response: { 201: DeviceLinkResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const link = await startDeviceLink(db, request.body, now());
      return reply.status(201).send({ ...link, expiresAt: new Date(link.expiresAt).toISOString() });
    },
  );

  app.post(
    "/v1/device-links/approve",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Approve a new device from an existing one: enter its code, sign its key",
        body: ApproveDeviceLinkRequest,
        response: { 201: ApprovedDevice, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await approveDeviceLink(database, caller(request), request.body, now(), lifecycle)),
  );

  app.get(
    "/v1/device-links/:code",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "On an existing device: the name and key of the device waiting under this code",
        params: DeviceLinkCodeParams,
        response: { 200: PendingDeviceLink, ...errorResponses },
      },
    },
    (request) => pendingDeviceLink(db, request.params.code, now()),
  );

  app.post(
    "/v1/device-links/status",
    {
      schema: {
        tags,
        summary:
          "On the new device: has the link been approved? Then sign in with POST /v1/sessions",
        body: DeviceLinkLookup,
        response: { 200: DeviceLinkStatus, ...errorResponses },
      },
    },
    (request) => deviceLinkStatus(db, request.body.linkId, request.body.secret, now()),
  );
}
