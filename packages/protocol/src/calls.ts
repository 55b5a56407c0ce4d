import { type Static, Type } from "@sinclair/typebox";

/** A STUN or TURN server for WebRTC, as `RTCIceServer` takes it. */
export const IceServer = Type.Object(
  {
    urls: Type.Array(Type.String({ pattern: "^(stun|turn|turns):" }), { minItems: 1 }),
    /** TURN only: a time-limited name and password (the TURN REST API's shared-secret scheme). */
    username: Type.Optional(Type.String()),
    credential: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type IceServer = Static<typeof IceServer>;

export const IceServerList = Type.Object({
  iceServers: Type.Array(IceServer),
  /** When TURN credentials stop working (ISO time); null without TURN. */
  expiresAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});
export type IceServerList = Static<typeof IceServerList>;
