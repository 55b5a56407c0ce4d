import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from "playwright-core";
import { build } from "vite";
import type { TestServer } from "../../../../packages/server/test/helpers/test-server.js";

const webRoot = fileURLToPath(new URL("../..", import.meta.url));
export const screenshotDir = fileURLToPath(
  new URL("../../../../docs/screenshots", import.meta.url),
);

/** Debian's chromium: the browser tests never download one. */
export const chromiumPath = process.env.VEIL_CHROMIUM ?? "/usr/bin/chromium";
export const chromiumAvailable = existsSync(chromiumPath);
if (!chromiumAvailable) {
  if (process.env.CI === "true") {
    throw new Error(`${chromiumPath} is missing, and CI must run the browser tests`);
  }
  console.error(
    `\n*** ${chromiumPath} is NOT installed: the browser tests are SKIPPED here (apt-get install chromium; CI runs them). ***\n`,
  );
}

/** Builds the web client from source into a fresh directory, as `npm run build` does. */
export async function buildWebClient(): Promise<string> {
  const outDir = mkdtempSync(path.join(tmpdir(), "veil-web-"));
  await build({
    root: webRoot,
    configFile: path.join(webRoot, "vite.config.ts"),
    logLevel: "error",
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
  return outDir;
}

/** Headless chromium with a throwaway profile and no background networking. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-dev-shm-usage",
      // Calls: a fake camera and microphone, no permission prompt, and plain
      // host candidates (two browsers on loopback cannot resolve each other's mDNS names).
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--disable-features=WebRtcHideLocalIpsWithMdns",
    ],
  });
}

/** What a page sent to the server: every request's URL and body, and every WebSocket frame. */
export interface Traffic {
  sent: string[];
}

/** One person in one browser context (a context is a separate browser profile). */
export interface Person {
  context: BrowserContext;
  page: Page;
  traffic: Traffic;
}

/** A URL decoded, so a search for plain text also finds it percent- or form-encoded. */
function readable(url: string): string {
  try {
    return decodeURIComponent(url.replace(/\+/g, " "));
  } catch {
    return url;
  }
}

export async function openPerson(browser: Browser, url: string): Promise<Person> {
  const context = await browser.newContext({
    viewport: { width: 1100, height: 760 },
    permissions: ["camera", "microphone"],
  });
  const page = await context.newPage();
  const traffic: Traffic = { sent: [] };
  page.on("request", (request) => {
    // The URL too: a path or a query string could carry what a body must not.
    traffic.sent.push(`${request.method()} ${request.url()}`, readable(request.url()));
    const body = request.postDataBuffer();
    if (body) traffic.sent.push(body.toString("latin1"));
  });
  page.on("websocket", (socket) => {
    traffic.sent.push(`WS ${socket.url()}`, readable(socket.url()));
    socket.on("framesent", (frame) => {
      traffic.sent.push(
        typeof frame.payload === "string" ? frame.payload : frame.payload.toString("latin1"),
      );
    });
  });
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(url);
  return { context, page, traffic };
}

/** Signs up through the welcome screen, with the phone code the test server captured. */
export async function signUp(
  person: Person,
  server: TestServer,
  profile: { name: string; phone: string },
): Promise<void> {
  const { page } = person;
  const form = page.getByRole("form", { name: "Create an account" });
  await form.getByLabel("Your name").fill(profile.name);
  await form.getByLabel(/Phone number/).fill(profile.phone);
  const before = new Set(server.verifier.codes.keys());
  await form.getByRole("button", { name: "Send code" }).click();
  await form.getByLabel("Verification code").waitFor();
  const id = [...server.verifier.codes.keys()].find((key) => !before.has(key));
  const code = id ? server.verifier.codes.get(id) : undefined;
  if (!code) throw new Error("the server sent no verification code");
  await form.getByLabel("Verification code").fill(code);
  await form.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("navigation", { name: "Sections" }).waitFor();
}

/**
 * Waits for `locator` like `waitFor`, and when it never shows, fails with what the page
 * said instead (its alerts), so a failure in a loaded CI run explains itself.
 */
export async function waitShown(page: Page, locator: Locator, timeout = 20_000): Promise<void> {
  try {
    await locator.waitFor({ timeout });
  } catch (error) {
    const alerts = await page
      .getByRole("alert")
      .allInnerTexts()
      .catch(() => []);
    const said = alerts.length > 0 ? alerts.join(" | ") : "no alert";
    const text =
      (await page
        .locator("main")
        .textContent()
        .catch(() => null)) ?? "";
    throw new Error(
      `${(error as Error).message}\nThe page showed: ${said}\nIts text:\n${text.slice(0, 2000)}`,
    );
  }
}

export function screenshotPath(name: string): string {
  mkdirSync(screenshotDir, { recursive: true });
  return path.join(screenshotDir, `${name}.png`);
}
