import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * The page's own scripts, styles and API calls only; nothing may frame it.
 * React sets inline styles through the CSSOM, which `style-src 'self'` allows.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // blob: for attachments, fetched with the session's token.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Team inbox</title></head><body>
<h1>The team inbox is not built here</h1>
<p>Build the web client (<code>npm run build</code>, or <code>npm run build -w @veil/web</code>) and restart
the gateway, or point <code>VEIL_BUSINESS_WEB_DIR</code> at a build. The API is at <a href="/docs">/docs</a>.</p>
</body></html>`;

/** Whether `dir` holds a build of the web client with the inbox page. */
export function hasInboxPage(dir: string | null): dir is string {
  return dir !== null && existsSync(path.join(dir, "inbox.html"));
}

function page(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-cache")
    .header("content-security-policy", contentSecurityPolicy)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY")
    .send(html);
}

/**
 * The team inbox screens (apps/web's `inbox.html`) at `/inbox/`, and the
 * build's hashed files at `/assets/*` (the path Vite's build refers to them
 * by). The page is public: it holds no data, and every call it makes needs an
 * agent's session. Unknown asset paths fall through to the API's not-found
 * answer. Without a build, `/inbox/` says how to make one.
 */
export async function registerWebRoutes(
  app: FastifyInstance,
  { dir }: { dir: string | null },
): Promise<void> {
  app.get("/inbox", { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect("/inbox/", 308),
  );
  if (!hasInboxPage(dir)) {
    app.get("/inbox/", { schema: { hide: true } }, async (_request, reply) =>
      page(reply, notBuilt),
    );
    return;
  }
  // Read once: the build does not change under a running gateway.
  const html = readFileSync(path.join(dir, "inbox.html"), "utf8");
  app.get("/inbox/", { schema: { hide: true } }, async (_request, reply) => page(reply, html));
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: path.join(dir, "assets"),
      prefix: "/assets/",
      wildcard: true,
      index: false,
      // Swagger UI decorates its own scope with sendFile; this one needs none.
      decorateReply: false,
      schemaHide: true,
      cacheControl: false,
      setHeaders(reply) {
        reply.header("cache-control", "public, max-age=31536000, immutable");
        reply.header("x-content-type-options", "nosniff");
      },
    });
  });
}
