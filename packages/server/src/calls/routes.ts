import { IceServerList } from "@veil/protocol";
import { requireAuth } from "../auth/require-auth.js";
import type { IceConfig } from "../config.js";
import { type App, errorResponses } from "../http/route-kit.js";
import type { Db } from "../store/database.js";
import { iceServers } from "./ice-servers.js";

/** What calls need from the server besides the chat: where to find STUN and TURN. */
export function callRoutes(app: App, deps: { ice: IceConfig; db: Db; now: () => number }): void {
  app.get(
    "/v1/calls/ice-servers",
    {
      preValidation: requireAuth(deps.db, deps.now),
      schema: {
        tags: ["calls"],
        summary: "STUN and TURN servers for a call, with time-limited TURN credentials",
        response: { 200: IceServerList, ...errorResponses },
      },
    },
    async (_request, reply) => {
      reply.header("cache-control", "no-store");
      return iceServers(deps.ice, deps.now());
    },
  );
}
