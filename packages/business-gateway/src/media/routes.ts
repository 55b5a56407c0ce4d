import multipart from "@fastify/multipart";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import { authorize, type Scope } from "../api-keys.js";
import { CloudError } from "../cloud-errors.js";
import type { Database } from "../store/database.js";
import { cleanFilename } from "./incoming.js";
import { type MediaStore, mediaIdPattern } from "./media-store.js";
import { checkMedia, largestAccepted, MediaRejected } from "./media-types.js";

export interface MediaRouteDeps {
  database: Database;
  media: MediaStore;
  phoneNumberId: string;
  adminKey: string;
}

const versionPattern = /^v\d+\.\d+$/;
const errorResponses = {
  400: Type.Ref("CloudError"),
  401: Type.Ref("CloudError"),
  403: Type.Ref("CloudError"),
};
const MediaIdParams = Type.Object({
  version: Type.String(),
  mediaId: Type.String({ pattern: mediaIdPattern }),
});

/** The Cloud API's answer for an id that names nothing here. */
const noSuchObject = (id: string, verb: "get" | "delete") =>
  new CloudError(
    "invalid_parameter",
    `Unsupported ${verb} request. Object with ID '${id.slice(0, 64)}' does not exist`,
    33,
  );

/** The multipart library's limit errors, in the API's words. */
function uploadError(error: unknown, maxBytes: number): CloudError | null {
  const code = (error as { code?: unknown }).code;
  if (code === "FST_REQ_FILE_TOO_LARGE")
    return new CloudError("parameter_invalid", `file is larger than ${maxBytes} bytes`);
  if (code === "FST_FILES_LIMIT")
    return new CloudError("parameter_invalid", "send exactly one file");
  if (code === "FST_PARTS_LIMIT" || code === "FST_FIELDS_LIMIT" || code === "FST_PROTO_VIOLATION")
    return new CloudError("parameter_invalid", "unexpected form fields");
  if (code === "FST_MP_PREMATURE_CLOSE")
    return new CloudError("invalid_parameter", "the upload was cut off");
  if (error instanceof Error && /multipart|boundary/i.test(error.message))
    return new CloudError("invalid_parameter", "the body is not valid multipart/form-data");
  return null;
}

/**
 * The Cloud API's media endpoints: upload (multipart), look up, delete, and
 * the download URL the look-up names (it needs the same bearer key).
 */
export const mediaRoutes: FastifyPluginAsync<MediaRouteDeps> = async (
  app: FastifyInstance,
  deps,
) => {
  const maxBytes = largestAccepted(deps.media.blobLimitBytes);
  await app.register(multipart, {
    limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 1024, parts: 10 },
  });

  const guard =
    (scope: Scope, checkPhoneNumber: boolean) =>
    async (request: FastifyRequest): Promise<void> => {
      const params = request.params as { version: string; phoneNumberId?: string };
      if (!versionPattern.test(params.version))
        throw new CloudError("unknown_path", `unsupported version ${params.version.slice(0, 32)}`);
      await authorize(deps.database.db, deps.adminKey, request.headers.authorization, scope);
      const query = request.query as { phone_number_id?: unknown } | undefined;
      const phoneNumberId = checkPhoneNumber ? params.phoneNumberId : query?.phone_number_id;
      if (phoneNumberId !== undefined && phoneNumberId !== deps.phoneNumberId)
        throw new CloudError(
          "invalid_parameter",
          `Unsupported post request. Object with ID '${String(phoneNumberId).slice(0, 64)}' does not exist`,
          33,
        );
    };

  app.post(
    "/:version/:phoneNumberId/media",
    {
      schema: {
        summary: "Upload a media file (multipart/form-data: messaging_product, type, file)",
        description:
          "`type` is the file's MIME type; the Cloud API's types and limits apply (JPEG and PNG images up to 5 MB, " +
          "WebP stickers up to 100 KB or 500 KB animated, AAC/AMR/MP3/M4A/Ogg-Opus audio and MP4/3GPP video up to 16 MB, " +
          "text, PDF and Office documents), every file capped at the Veil server's attachment limit.",
        consumes: ["multipart/form-data"],
        params: Type.Object({ version: Type.String(), phoneNumberId: Type.String() }),
        response: { 200: Type.Object({ id: Type.String() }), ...errorResponses },
      },
      preValidation: guard("messages:send", true),
    },
    async (request) => {
      if (!request.isMultipart())
        throw new CloudError(
          "invalid_parameter",
          "the body must be multipart/form-data with messaging_product, type and file",
        );
      const fields: Record<string, string> = {};
      let file: { bytes: Buffer; filename: string; mimetype: string } | null = null;
      try {
        for await (const part of request.parts()) {
          if (part.type === "file") {
            if (part.fieldname !== "file" || file !== null) {
              part.file.resume();
              throw new CloudError("parameter_invalid", "send exactly one file, as `file`");
            }
            file = {
              bytes: await part.toBuffer(),
              filename: part.filename,
              mimetype: part.mimetype,
            };
          } else fields[part.fieldname] = String(part.value);
        }
      } catch (error) {
        if (error instanceof CloudError) throw error;
        throw uploadError(error, maxBytes) ?? error;
      }
      if (fields.messaging_product === undefined)
        throw new CloudError("parameter_missing", "messaging_product is required");
      if (fields.messaging_product !== "whatsapp")
        throw new CloudError("parameter_invalid", "messaging_product must be whatsapp");
      if (file === null) throw new CloudError("parameter_missing", "file is required");
      const declared = fields.type ?? file.mimetype;
      let checked: Awaited<ReturnType<typeof checkMedia>>;
      try {
        checked = await checkMedia(file.bytes, declared, deps.media.blobLimitBytes);
      } catch (error) {
        if (error instanceof MediaRejected)
          throw new CloudError("parameter_invalid", error.message);
        throw error;
      }
      const media = await deps.media.put(file.bytes, {
        mimeType: checked.mime,
        filename: cleanFilename(file.filename),
        origin: "upload",
      });
      request.log.info(
        { mediaId: media.id, kind: checked.kind, size: media.fileSize },
        "media uploaded",
      );
      return { id: media.id };
    },
  );

  app.get(
    "/:version/:mediaId",
    {
      schema: {
        summary: "A media file's URL and facts (the URL needs the same bearer key)",
        params: MediaIdParams,
        querystring: Type.Object({ phone_number_id: Type.Optional(Type.String()) }),
        response: {
          200: Type.Object({
            messaging_product: Type.Literal("whatsapp"),
            url: Type.String(),
            mime_type: Type.String(),
            sha256: Type.String(),
            file_size: Type.Integer(),
            id: Type.String(),
          }),
          ...errorResponses,
        },
      },
      preValidation: guard("messages:read", false),
    },
    async (request) => {
      const { mediaId } = request.params as { mediaId: string };
      const media = await deps.media.get(mediaId);
      if (!media) throw noSuchObject(mediaId, "get");
      return {
        messaging_product: "whatsapp" as const,
        url: `${request.protocol}://${request.host}/media/${media.id}/download`,
        mime_type: media.mimeType,
        sha256: media.sha256,
        file_size: media.fileSize,
        id: media.id,
      };
    },
  );

  app.delete(
    "/:version/:mediaId",
    {
      schema: {
        summary: "Delete a media file",
        params: MediaIdParams,
        querystring: Type.Object({ phone_number_id: Type.Optional(Type.String()) }),
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errorResponses },
      },
      preValidation: guard("messages:send", false),
    },
    async (request) => {
      const { mediaId } = request.params as { mediaId: string };
      if (!(await deps.media.delete(mediaId))) throw noSuchObject(mediaId, "delete");
      request.log.info({ mediaId }, "media deleted");
      return { success: true };
    },
  );

  app.get(
    "/media/:mediaId/download",
    {
      schema: {
        summary: "A media file's bytes (the `url` of the media look-up)",
        params: Type.Object({ mediaId: Type.String({ pattern: mediaIdPattern }) }),
        produces: ["application/octet-stream"],
        response: { 200: Type.String({ format: "binary" }), ...errorResponses },
      },
      preValidation: async (request) => {
        await authorize(
          deps.database.db,
          deps.adminKey,
          request.headers.authorization,
          "messages:read",
        );
      },
    },
    async (request, reply) => {
      const { mediaId } = request.params as { mediaId: string };
      const media = await deps.media.get(mediaId);
      // Whole files (at most the Veil cap): a streamed reply can keep its
      // connection busy past the moment the server closes, delaying shutdown.
      const bytes = media ? await deps.media.read(media) : null;
      if (!media || !bytes) throw noSuchObject(mediaId, "get");
      const name = media.filename ?? media.id;
      return reply
        .header("content-type", media.mimeType)
        .header("content-length", String(bytes.length))
        .header(
          "content-disposition",
          `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(name)}`,
        )
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox")
        .header("cache-control", "private, no-store")
        .send(bytes);
    },
  );
};
