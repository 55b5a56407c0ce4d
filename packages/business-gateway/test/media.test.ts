import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import nodePath from "node:path";
import { deflateSync } from "node:zlib";
import type { ChatMessage } from "@veil/sdk";
import { Migrator } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, freshSchema, postgresUrl } from "../../server/test/helpers/backends.js";
import { fetchMediaLink, MediaLinkError } from "../src/media/fetch-link.js";
import { MediaStore } from "../src/media/media-store.js";
import { checkMedia, MediaRejected } from "../src/media/media-types.js";
import { type Database, openPostgres, openSqlite } from "../src/store/database.js";
import { migrations } from "../src/store/migrations/index.js";
import {
  adminKey,
  backends,
  deliveredMessages,
  deliveredStatuses,
  eventually,
  type GatewayPlace,
  gatewayPlace,
  type Person,
  person,
  Receiver,
  type RunningGateway,
  runGateway,
  startTestServer,
  type TestServer,
} from "./helpers/harness.js";

// --- real files, small enough to build here ------------------------------------

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A valid PNG of `width` × 1 grey pixels. */
function png(width: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(1, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(0, 9); // greyscale
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width, 0x80)]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(row)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A one-page PDF (its text makes each one distinct). */
const pdf = (text: string): Buffer =>
  Buffer.from(
    `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
    "latin1",
  );

/** JPEG markers, then filler: enough for its type, and any size. */
const jpeg = (size: number): Buffer => {
  const bytes = Buffer.alloc(size, 0);
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]).copy(bytes);
  return bytes;
};

const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1");
const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Cloud API error, 4xx, with the expected code. */
function expectCloudError(res: { status: number; body: any }, code: number): void {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.body.error).toMatchObject({ code, type: "OAuthException" });
  expect(typeof res.body.error.message).toBe("string");
}

/** A real HTTP server the gateway fetches `link`s from. */
class FileServer {
  readonly files = new Map<string, { type?: string; body: Buffer }>();
  private server: http.Server | null = null;
  url = "";

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (path === "/redirect") {
        res.writeHead(302, { location: "/files/menu.pdf" }).end();
        return;
      }
      if (path === "/stall") return; // never answers
      if (path === "/endless") {
        // No Content-Length: the cap must hold while the bytes arrive.
        res.writeHead(200, { "content-type": "application/pdf" });
        const piece = Buffer.alloc(64 * 1024, 0x20);
        const write = () => {
          while (res.write(piece)) if (res.writableLength > 1 << 20) break;
        };
        res.on("drain", write);
        res.on("error", () => undefined);
        write();
        return;
      }
      const file = this.files.get(path);
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, file.type ? { "content-type": file.type } : {}).end(file.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("media rules and link fetching (no gateway)", () => {
  const files = new FileServer();
  beforeAll(async () => {
    await files.start();
    files.files.set("/files/menu.pdf", { type: "application/pdf", body: pdf("menu") });
  });
  afterAll(() => files.stop());

  it("accepts the Cloud API's types by their bytes and refuses the rest", async () => {
    const limit = 16 * 1024 * 1024;
    await expect(checkMedia(png(4), "image/png", limit)).resolves.toMatchObject({
      kind: "image",
      mime: "image/png",
    });
    await expect(checkMedia(pdf("x"), "Application/PDF; x=y", limit)).resolves.toMatchObject({
      kind: "document",
    });
    await expect(checkMedia(Buffer.from("hello\n"), "text/plain", limit)).resolves.toMatchObject({
      kind: "document",
    });
    await expect(checkMedia(gif, "image/gif", limit)).rejects.toThrow(MediaRejected);
    await expect(checkMedia(pdf("x"), "image/png", limit)).rejects.toThrow(/not image\/png/);
    await expect(checkMedia(png(4), "text/plain", limit)).rejects.toThrow(MediaRejected);
    await expect(checkMedia(Buffer.alloc(0), "image/png", limit)).rejects.toThrow(/empty/);
    await expect(checkMedia(jpeg(5 * 1024 * 1024 + 1), "image/jpeg", limit)).rejects.toThrow(
      /at most 5 MiB/,
    );
    // Capped by the Veil server's limit (ciphertext = file + 16 bytes).
    await expect(checkMedia(pdf("x"), "application/pdf", 64)).rejects.toThrow(/at most/);
  });

  it("fetches a link, following a redirect", async () => {
    const fetched = await fetchMediaLink(`${files.url}/redirect`, {
      allowPrivate: true,
      maxBytes: 1 << 20,
    });
    expect(fetched.bytes.equals(pdf("menu"))).toBe(true);
    expect(fetched.contentType).toBe("application/pdf");
    expect(fetched.filename).toBe("menu.pdf");
  });

  it("refuses private and loopback addresses unless allowed, by IP and by name", async () => {
    const options = { allowPrivate: false, maxBytes: 1 << 20 };
    await expect(fetchMediaLink(`${files.url}/files/menu.pdf`, options)).rejects.toThrow(
      /private or reserved/,
    );
    const byName = files.url.replace("127.0.0.1", "localhost");
    await expect(fetchMediaLink(`${byName}/files/menu.pdf`, options)).rejects.toThrow(
      /private or reserved/,
    );
    await expect(fetchMediaLink("ftp://example.com/x", options)).rejects.toThrow(MediaLinkError);
    await expect(fetchMediaLink("http://user:pw@example.com/x", options)).rejects.toThrow(
      /credentials/,
    );
  });

  it("stops reading past the size cap, with or without a Content-Length", async () => {
    const options = { allowPrivate: true, maxBytes: 100 };
    await expect(fetchMediaLink(`${files.url}/files/menu.pdf`, options)).rejects.toThrow(
      /larger than 100 bytes/,
    );
    await expect(
      fetchMediaLink(`${files.url}/endless`, { allowPrivate: true, maxBytes: 256 * 1024 }),
    ).rejects.toThrow(/larger than/);
    await expect(
      fetchMediaLink(`${files.url}/nothing-here`, { allowPrivate: true, maxBytes: 100 }),
    ).rejects.toThrow(/HTTP 404/);
    await expect(
      fetchMediaLink(`${files.url}/stall`, { allowPrivate: true, maxBytes: 100, timeoutMs: 100 }),
    ).rejects.toThrow(/did not answer in time/);
  });
});

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`migration 0004-media and the media store (${backend})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function open(): Promise<{ database: Database; dir: string; schema?: string }> {
      const dir = mkdtempSync(nodePath.join(tmpdir(), "veil-media-"));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      if (backend === "postgres") {
        const schema = freshSchema();
        const database = await openPostgres(postgresUrl, schema);
        cleanups.push(() => dropSchema(schema));
        cleanups.push(() => database.close());
        return { database, dir, schema };
      }
      const database = openSqlite(nodePath.join(dir, "gateway.sqlite"));
      cleanups.push(() => database.close());
      return { database, dir };
    }

    it("adds the media table to a 0003 database", async () => {
      const { database, schema } = await open();
      const migrator = new Migrator({
        db: database.db,
        provider: { getMigrations: async () => migrations },
        ...(schema ? { migrationTableSchema: schema } : {}),
      });
      expect((await migrator.migrateTo("0003-inbox")).error).toBeUndefined();
      expect((await migrator.migrateTo("0004-media")).error).toBeUndefined();
      const row = {
        id: "1",
        sha256: "ab".repeat(32),
        mime_type: "application/pdf",
        file_size: 17_000_000_000,
        filename: null,
        origin: "upload",
        created_at: 1_764_930_000_000,
      };
      await database.db.insertInto("media").values(row).execute();
      expect(await database.db.selectFrom("media").selectAll().execute()).toEqual([row]);
      await database.migrate();
    });

    it("stores equal files once and drops the bytes with the last media id", async () => {
      const { database, dir } = await open();
      await database.migrate();
      const store = new MediaStore(database, nodePath.join(dir, "media"));
      const bytes = png(5);
      const meta = { mimeType: "image/png", filename: null, origin: "upload" as const };
      const [a, b] = await Promise.all([store.put(bytes, meta), store.put(bytes, meta)]);
      if (!a || !b) throw new Error("not stored");
      expect(a.id).not.toBe(b.id);
      expect(a.sha256).toBe(sha256Hex(bytes));
      const folder = nodePath.join(dir, "media", a.sha256.slice(0, 2));
      expect(readdirSync(folder)).toEqual([a.sha256]);
      expect(await store.delete(a.id)).toBe(true);
      expect((await store.read(b))?.equals(bytes)).toBe(true);
      expect(await store.delete(b.id)).toBe(true);
      expect(existsSync(nodePath.join(folder, a.sha256))).toBe(false);
      expect(await store.read(b)).toBeNull();
      expect(await store.delete(b.id)).toBe(false);
    });
  });

  describe.skipIf(!available)(`media, both ways (${backend})`, () => {
    let t: TestServer;
    let place: GatewayPlace;
    let gw: RunningGateway;
    let receiver: Receiver;
    let files: FileServer;
    let carol: Person;
    let groupId: string;
    let base: string;
    const photo = png(64);

    /** POST /{version}/{phone-number-id}/media as multipart/form-data. */
    async function upload(
      bytes: Buffer,
      type: string | null,
      filename: string,
      options: { key?: string; product?: string | null } = {},
    ): Promise<{ status: number; body: any }> {
      const form = new FormData();
      if (options.product !== null) form.set("messaging_product", options.product ?? "whatsapp");
      if (type !== null) form.set("type", type);
      form.set(
        "file",
        new Blob([new Uint8Array(bytes)], { type: type ?? "application/octet-stream" }),
        filename,
      );
      const res = await fetch(`${gw.url}${base}/media`, {
        method: "POST",
        headers: { authorization: `Bearer ${options.key ?? adminKey}` },
        body: form,
      });
      return { status: res.status, body: await res.json() };
    }

    const send = (body: Record<string, unknown>) =>
      gw.call("POST", `${base}/messages`, {
        body: { messaging_product: "whatsapp", to: carol.userId, ...body },
      });

    /** The attachment Carol's device received, decrypted by her SDK. */
    async function carolReceives(
      check: (m: ChatMessage) => boolean,
    ): Promise<{ message: ChatMessage; bytes: Uint8Array }> {
      const message = await eventually(() => {
        const found = carol.seen.messages.find(
          (m) => m.senderUserId === gw.userId && m.content.type === "attachment" && check(m),
        );
        expect(found).toBeDefined();
        return found as ChatMessage;
      }, 20_000);
      if (message.content.type !== "attachment") throw new Error("not an attachment");
      return { message, bytes: await carol.client.downloadAttachment(message.content.attachment) };
    }

    beforeAll(async () => {
      t = await startTestServer({ backend: "sqlite" });
      place = gatewayPlace(t, backend);
      gw = await runGateway(t, place);
      base = `/v21.0/${gw.gateway.phoneNumberId}`;
      receiver = new Receiver();
      await receiver.start();
      files = new FileServer();
      await files.start();
      carol = await person(t, "Carol");
      const subscribed = await gw.call("POST", "/admin/webhooks", { body: { url: receiver.url } });
      expect(subscribed.status).toBe(201);
      await carol.client.api.addContact({ phone: place.phone });
      groupId = (await carol.client.startDirectChat(gw.userId)).groupId;
    });

    afterAll(async () => {
      await carol?.client.close();
      await gw?.gateway.close();
      await receiver?.stop();
      await files?.stop();
      await place?.dispose();
      await t?.close();
    });

    it("announces a customer's image with its media id; the bytes download equal", async () => {
      await carol.client.sendAttachment(groupId, photo, {
        name: "receipt.png",
        mime: "image/png",
        caption: "My receipt",
      });
      const message = await eventually(() => {
        const found = deliveredMessages(receiver).find((m) => m.type === "image");
        expect(found).toBeDefined();
        return found;
      }, 20_000);
      expect(receiver.forged).toEqual([]);
      expect(message).toMatchObject({
        from: carol.userId,
        type: "image",
        image: {
          id: expect.stringMatching(/^\d+$/),
          mime_type: "image/png",
          sha256: sha256Hex(photo),
          caption: "My receipt",
        },
      });
      expect(message.id).toMatch(/^wamid\./);

      const info = await gw.call("GET", `/v21.0/${message.image.id}`);
      expect(info.status).toBe(200);
      expect(info.body).toEqual({
        messaging_product: "whatsapp",
        url: `${gw.url}/media/${message.image.id}/download`,
        mime_type: "image/png",
        sha256: sha256Hex(photo),
        file_size: photo.length,
        id: message.image.id,
      });
      const download = await fetch(info.body.url, {
        headers: { authorization: `Bearer ${adminKey}` },
      });
      expect(download.status).toBe(200);
      expect(download.headers.get("content-type")).toBe("image/png");
      expect(download.headers.get("x-content-type-options")).toBe("nosniff");
      expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);

      // The URL needs the key, like every other route.
      const anonymous = await fetch(info.body.url);
      expect(anonymous.status).toBe(401);
      expect((await anonymous.json()).error.code).toBe(190);

      const stored = await gw.gateway.database.db
        .selectFrom("messages")
        .selectAll()
        .where("id", "=", message.id)
        .executeTakeFirstOrThrow();
      expect(stored.type).toBe("attachment");
      expect(JSON.parse(stored.content)).toMatchObject({
        mediaId: message.image.id,
        kind: "image",
        caption: "My receipt",
      });
    });

    it("names a customer's file by its bytes, not by the type its device stated", async () => {
      const invoice = pdf("invoice 42");
      await carol.client.sendAttachment(groupId, invoice, {
        name: "invoice.pdf",
        mime: "image/png",
      });
      const message = await eventually(() => {
        const found = deliveredMessages(receiver).find((m) => m.type === "document");
        expect(found).toBeDefined();
        return found;
      }, 20_000);
      expect(message.document).toEqual({
        id: expect.stringMatching(/^\d+$/),
        mime_type: "application/pdf",
        sha256: sha256Hex(invoice),
        filename: "invoice.pdf",
      });
    });

    it("uploads a document and sends it by id; the customer decrypts the same bytes", async () => {
      const menu = pdf("the uploaded menu");
      const uploaded = await upload(menu, "application/pdf", "menu.pdf");
      expect(uploaded.status).toBe(200);
      expect(uploaded.body).toEqual({ id: expect.stringMatching(/^\d+$/) });

      const sent = await send({
        type: "document",
        document: { id: uploaded.body.id, caption: "Our menu", filename: "Menu 2026.pdf" },
      });
      expect(sent.status).toBe(200);
      expect(sent.body.messages[0].id).toMatch(/^wamid\./);

      const got = await carolReceives(
        (m) => m.content.type === "attachment" && m.content.caption === "Our menu",
      );
      expect(Buffer.from(got.bytes).equals(menu)).toBe(true);
      if (got.message.content.type !== "attachment") throw new Error("not an attachment");
      expect(got.message.content.attachment).toMatchObject({
        name: "Menu 2026.pdf",
        mime: "application/pdf",
      });
      await eventually(() =>
        expect(deliveredStatuses(receiver)).toContainEqual(
          expect.objectContaining({ id: sent.body.messages[0].id, status: "sent" }),
        ),
      );
    });

    it("sends a document by link, and an image replying to the customer's message", async () => {
      const menu = pdf("the linked menu");
      files.files.set("/files/linked.pdf", { type: "application/pdf", body: menu });
      const byLink = await send({
        type: "document",
        document: { link: `${files.url}/files/linked.pdf`, caption: "Linked menu" },
      });
      expect(byLink.status).toBe(200);
      const got = await carolReceives(
        (m) => m.content.type === "attachment" && m.content.caption === "Linked menu",
      );
      expect(Buffer.from(got.bytes).equals(menu)).toBe(true);
      if (got.message.content.type !== "attachment") throw new Error("not an attachment");
      expect(got.message.content.attachment.name).toBe("linked.pdf");

      // A server that names no type: the bytes say it is a PNG.
      const picture = png(32);
      files.files.set("/files/untyped", { body: picture });
      const incoming = deliveredMessages(receiver).find((m) => m.type === "image");
      const image = await send({
        type: "image",
        image: { link: `${files.url}/files/untyped`, caption: "Here you go" },
        context: { message_id: incoming.id },
      });
      expect(image.status).toBe(200);
      const reply = await carolReceives(
        (m) => m.content.type === "attachment" && m.content.caption === "Here you go",
      );
      expect(Buffer.from(reply.bytes).equals(picture)).toBe(true);
      if (reply.message.content.type !== "attachment") throw new Error("not an attachment");
      expect(reply.message.content.replyTo).not.toBeNull();
    });

    it("refuses bad types, sizes and forms with Cloud API errors", async () => {
      expectCloudError(await upload(gif, "image/gif", "a.gif"), 131009);
      const disguised = await upload(pdf("x"), "image/png", "a.png");
      expectCloudError(disguised, 131009);
      expect(disguised.body.error.message).toMatch(/application\/pdf, not image\/png/);
      const big = await upload(jpeg(5 * 1024 * 1024 + 1), "image/jpeg", "big.jpg");
      expectCloudError(big, 131009);
      expect(big.body.error.message).toMatch(/at most 5 MiB/);
      // Over the Veil server's attachment limit (16 MiB of ciphertext).
      const huge = Buffer.concat([pdf("huge"), Buffer.alloc(16 * 1024 * 1024, 0x20)]);
      const tooHuge = await upload(huge, "application/pdf", "huge.pdf");
      expectCloudError(tooHuge, 131009);
      expectCloudError(await upload(png(4), "image/png", "a.png", { product: null }), 131008);
      expectCloudError(await upload(png(4), "image/png", "a.png", { product: "sms" }), 131009);

      const notMultipart = await gw.call("POST", `${base}/media`, { body: { file: "x" } });
      expectCloudError(notMultipart, 100);
      const noFile = await fetch(`${gw.url}${base}/media`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}` },
        body: (() => {
          const form = new FormData();
          form.set("messaging_product", "whatsapp");
          form.set("type", "image/png");
          return form;
        })(),
      });
      expectCloudError({ status: noFile.status, body: await noFile.json() }, 131008);
      const wrongNumber = await fetch(`${gw.url}/v21.0/999/media`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}` },
        body: new FormData(),
      });
      expectCloudError({ status: wrongNumber.status, body: await wrongNumber.json() }, 100);

      const document = await upload(pdf("a document"), "application/pdf", "d.pdf");
      expectCloudError(await send({ type: "image", image: { id: document.body.id } }), 131009);
      expectCloudError(await send({ type: "image", image: { id: "12345" } }), 131009);
      expectCloudError(await send({ type: "image" }), 131008);
      expectCloudError(
        await send({ type: "document", document: { id: document.body.id, link: files.url } }),
        131009,
      );
      expectCloudError(
        await send({ type: "audio", audio: { id: document.body.id, caption: "no" } }),
        131009,
      );
      expectCloudError(
        await send({ type: "document", document: { link: `${files.url}/nothing-here` } }),
        131009,
      );
      files.files.set("/files/animation.gif", { type: "image/gif", body: gif });
      expectCloudError(
        await send({ type: "image", image: { link: `${files.url}/files/animation.gif` } }),
        131009,
      );
      expectCloudError(await send({ type: "location" }), 131051);
    });

    it("looks media up, deletes it, and keeps the scopes", async () => {
      const uploaded = await upload(png(8), "image/png", "x.png");
      const id = uploaded.body.id as string;
      const sendOnly = await gw.call("POST", "/admin/api-keys", {
        body: { name: "sender", scopes: ["messages:send"] },
      });
      const readOnly = await gw.call("POST", "/admin/api-keys", {
        body: { name: "reader", scopes: ["messages:read"] },
      });
      expect((await gw.call("GET", `/v21.0/${id}`, { key: sendOnly.body.key })).status).toBe(403);
      expect((await gw.call("GET", `/v21.0/${id}`, { key: readOnly.body.key })).status).toBe(200);
      expect((await upload(png(8), "image/png", "y.png", { key: readOnly.body.key })).status).toBe(
        403,
      );
      expect((await gw.call("GET", `/v21.0/${id}`, { key: null })).status).toBe(401);
      expectCloudError(await gw.call("GET", `/v21.0/${id}?phone_number_id=1`), 100);
      expectCloudError(await gw.call("GET", `/vX/${id}`), 2500);
      expectCloudError(await gw.call("GET", "/v21.0/not-a-media-id"), 131009);

      const deleted = await gw.call("DELETE", `/v21.0/${id}`, { key: sendOnly.body.key });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ success: true });
      const gone = await gw.call("GET", `/v21.0/${id}`);
      expectCloudError(gone, 100);
      expect(gone.body.error.error_subcode).toBe(33);
      expectCloudError(await gw.call("GET", `/media/${id}/download`), 100);
      expectCloudError(await gw.call("DELETE", `/v21.0/${id}`), 100);
      expectCloudError(await send({ type: "image", image: { id } }), 131009);

      // Equal files share their bytes: deleting one media id keeps the other's.
      const first = await upload(png(9), "image/png", "a.png");
      const second = await upload(png(9), "image/png", "b.png");
      expect(first.body.id).not.toBe(second.body.id);
      await gw.call("DELETE", `/v21.0/${first.body.id}`);
      const still = await gw.call("GET", `/media/${second.body.id}/download`);
      expect(still.status).toBe(200);
    });
  });
}
