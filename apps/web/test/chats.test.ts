import { rmSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  noRateLimits,
  startTestServer,
  type TestServer,
} from "../../../packages/server/test/helpers/test-server.js";
import {
  buildWebClient,
  chromiumAvailable,
  launchBrowser,
  openPerson,
  type Person,
  screenshotPath,
  signUp,
} from "./helpers/browser.js";

const messages = (person: Person) => person.page.getByRole("list", { name: "Messages" });

describe.runIf(chromiumAvailable)("web client: chats in the browser", () => {
  let webDir: string;
  let server: TestServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    webDir = await buildWebClient();
    server = await startTestServer({
      backend: "sqlite",
      env: { ...noRateLimits, VEIL_WEB_DIR: webDir },
    });
    browser = await launchBrowser();
    alice = await openPerson(browser, server.url);
    bob = await openPerson(browser, server.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (webDir) rmSync(webDir, { recursive: true, force: true });
  });

  it("signs two people up, and they chat both ways, end to end encrypted", async () => {
    await signUp(alice, server, { name: "Alice Web", phone: "+1 415 555 0131" });
    await signUp(bob, server, { name: "Bob Web", phone: "+1 415 555 0132" });

    // Alice starts a chat with Bob's number and writes.
    await alice.page.getByRole("textbox", { name: "New chat" }).fill("+1 415 555 0132");
    await alice.page.getByRole("button", { name: "Start" }).click();
    await alice.page.getByRole("heading", { name: "Bob Web" }).waitFor();
    await alice.page.getByRole("textbox", { name: "Message" }).fill("hello Bob, from the browser");
    await alice.page.getByRole("textbox", { name: "Message" }).press("Enter");
    await messages(alice).getByText("hello Bob, from the browser").waitFor();

    // Bob sees the chat with one unread message, opens it, reads it and answers.
    const row = bob.page.getByRole("link", { name: /Alice Web/ });
    await row.waitFor({ timeout: 20_000 });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("1 unread");
    await row.click();
    await messages(bob).getByText("hello Bob, from the browser").waitFor();
    await bob.page.getByRole("textbox", { name: "Message" }).fill("hi Alice, got it");
    await bob.page.getByRole("button", { name: "Send" }).click();

    // Alice gets the answer live, and her message shows as read.
    await messages(alice).getByText("hi Alice, got it").waitFor({ timeout: 20_000 });
    await expect
      .poll(() => alice.page.locator(".bubble.mine .receipt").first().textContent(), {
        timeout: 20_000,
      })
      .toContain("read");
    await alice.page.screenshot({ path: screenshotPath("chats") });

    // Nothing the browsers sent carries the plaintext: only MLS ciphertext left them.
    for (const person of [alice, bob]) {
      const all = person.traffic.sent.join("\n");
      expect(all.length).toBeGreaterThan(0);
      expect(all).not.toContain("hello Bob, from the browser");
      expect(all).not.toContain("hi Alice, got it");
    }
  }, 120_000);

  it("shows the 60-digit safety number with a QR code, the same on both sides", async () => {
    await alice.page.getByRole("link", { name: "Safety number" }).click();
    const digits = alice.page.locator(".safety-digits");
    await digits.waitFor();
    const aliceNumber = (await digits.textContent())?.replace(/\D/g, "");
    expect(aliceNumber).toMatch(/^\d{60}$/);
    const qr = alice.page.getByRole("img", { name: /QR code/ });
    await qr.waitFor();
    expect(await qr.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    await alice.page.getByLabel("Mark as verified").check();
    await alice.page.getByText("✓ Verified").waitFor();

    await bob.page.getByRole("link", { name: "Safety number" }).click();
    await bob.page.locator(".safety-digits").waitFor();
    const bobNumber = (await bob.page.locator(".safety-digits").textContent())?.replace(/\D/g, "");
    expect(bobNumber).toBe(aliceNumber);
  }, 60_000);
});
