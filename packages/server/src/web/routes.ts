import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { App } from "../http/route-kit.js";

const welcome = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Veil</title></head><body>
<h1>Veil is running</h1>
<p>This server speaks the Veil API. Read and try it at <a href="/docs">/docs</a>;
health at <a href="/healthz">/healthz</a>.</p>
<p>The web client is not built here: <code>npm run build</code> builds it, and the server serves it at <code>/</code>.</p>
</body></html>`;

/** Whether `dir` holds a built web client. */
export function hasWebClient(dir: string | null): dir is string {
  return dir !== null && existsSync(path.join(dir, "index.html"));
}

/**
 * The web client at `/`: the files of its build, each a route of its own (no
 * wildcard, so unknown paths still answer `route_not_found`). Hashed assets are
 * cached for good; index.html is revalidated so a new build shows at once.
 * Without a build, `/` is a short welcome page.
 */
export async function webRoutes(app: App, { dir }: { dir: string | null }): Promise<void> {
  if (!hasWebClient(dir)) {
    app.get("/", { schema: { hide: true } }, async (_request, reply) =>
      reply.header("content-type", "text/html; charset=utf-8").send(welcome),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: "/",
    wildcard: false,
    index: ["index.html"],
    schemaHide: true,
    // The team inbox's page is the business gateway's to serve (it talks to a gateway's API).
    allowedPath: (pathName) => pathName !== "/inbox.html",
    cacheControl: false,
    setHeaders(reply, file) {
      reply.header(
        "cache-control",
        file.includes(`${path.sep}assets${path.sep}`)
          ? "public, max-age=31536000, immutable"
          : "no-cache",
      );
    },
  });
}
