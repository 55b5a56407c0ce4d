import { Type } from "@sinclair/typebox";
import { caller, requireAuth } from "../auth/require-auth.js";
import { VeilError } from "../errors.js";
import { type App, errorResponses } from "../http/route-kit.js";
import type { Db } from "../store/database.js";
import type { Attachments } from "./attachments.js";

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });

/** Encrypted attachments: upload into a group, download as a member. */
export function mediaRoutes(
  app: App,
  deps: { attachments: Attachments; db: Db; now: () => number; blobLimitBytes: number },
): void {
  const auth = requireAuth(deps.db, deps.now);
  const tags = ["attachments"];
  app.register(async (plain) => {
    const scope = plain as unknown as App;
    scope.addContentTypeParser(
      "application/octet-stream",
      { parseAs: "buffer", bodyLimit: deps.blobLimitBytes },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      "/v1/groups/:groupId/blobs",
      {
        preValidation: auth,
        bodyLimit: deps.blobLimitBytes,
        schema: {
          tags,
          summary:
            "Upload an encrypted attachment (application/octet-stream) for this group's members",
          params: Type.Object({ groupId: Id }),
          consumes: ["application/octet-stream"],
          response: {
            201: Type.Object({ id: Type.String(), size: Type.Integer() }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body) || request.body.length === 0)
          throw new VeilError("unsupported_media_type");
        const stored = await deps.attachments.upload(
          caller(request),
          request.params.groupId,
          request.body,
        );
        return reply.status(201).send(stored);
      },
    );
  });

  app.get(
    "/v1/blobs/:blobId",
    {
      preValidation: auth,
      schema: {
        tags,
        summary: "Download an attachment shared in one of your groups",
        params: Type.Object({ blobId: Id }),
      },
    },
    async (request, reply) => {
      const blob = await deps.attachments.download(caller(request), request.params.blobId);
      return reply
        .header("content-type", "application/octet-stream")
        .header("content-length", String(blob.size))
        .header("cache-control", "private, max-age=31536000, immutable")
        .send(blob.stream);
    },
  );
}
