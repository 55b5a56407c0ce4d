import { rmSync } from "node:fs";
import { deflateSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backends,
  eventually,
  type GatewayPlace,
  gatewayPlace,
  type Person,
  person,
  type RunningGateway,
  runGateway,
  startTestServer,
  type TestServer,
} from "../../../packages/business-gateway/test/helpers/harness.js";
import { parseInsights } from "../src/inbox/api.js";
import {
  buildWebClient,
  chromiumAvailable,
  launchBrowser,
  screenshotPath,
} from "./helpers/browser.js";

/** Examples the business trains its intent model with (through the admin API). */
const intentExamples = [
  { intent: "order_status", text: "Where is my order?" },
  { intent: "order_status", text: "My parcel has not arrived yet" },
  { intent: "order_status", text: "When will my package be delivered?" },
  { intent: "order_status", text: "Can you track my order for me" },
  { intent: "order_status", text: "The delivery is late, where is it" },
  { intent: "refund", text: "I want my money back" },
  { intent: "refund", text: "Please refund my purchase" },
  { intent: "refund", text: "How do I get a refund for this item" },
  { intent: "refund", text: "I was charged twice, refund me" },
  { intent: "refund", text: "Return the product and give me a refund" },
  { intent: "opening_hours", text: "When are you open?" },
  { intent: "opening_hours", text: "What are your opening hours" },
  { intent: "opening_hours", text: "Are you open on Sunday" },
  { intent: "opening_hours", text: "What time do you close today" },
];

const question =
  "Where is my order? It has not arrived and I am not happy. Write to carol@example.com";
const noteText = "VIP customer: check the courier before answering";
const replyText = "Sorry for the wait, Carol: your parcel ships today.";

/** A valid greyscale PNG of `width` × `height` pixels, striped so it shows. */
function png(width: number, height: number): Buffer {
  const crc32 = (bytes: Buffer) => {
    let crc = 0xffffffff;
    for (const byte of bytes) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, tail]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth; colour type 0: greyscale
  const rows = Array.from({ length: height }, (_, y) =>
    Buffer.concat([Buffer.from([0]), Buffer.alloc(width, (y >> 3) % 2 ? 0x50 : 0xc0)]),
  );
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// One build of the web client and one browser for the file; a Veil server and
// a business gateway per database backend.
let webDir: string;
let browser: Browser;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  webDir = await buildWebClient();
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

for (const { backend, available } of backends) {
  describe.runIf(chromiumAvailable && available)(
    `the team inbox in the browser (${backend})`,
    () => {
      let t: TestServer;
      let place: GatewayPlace;
      let gw: RunningGateway;
      let carol: Person;
      let page: Page;
      let teamId: string;
      let agentId: string;
      let invitation: string;
      const email = `dana.${backend}@acme.example`;
      const password = "correct horse battery";

      beforeAll(async () => {
        t = await startTestServer({ backend: "sqlite" });
        place = gatewayPlace(t, backend, { VEIL_BUSINESS_WEB_DIR: webDir });
        gw = await runGateway(t, place);
        carol = await person(t, "Carol Customer");

        // The administrator (the bootstrap admin key) sets the inbox up.
        const team = await gw.call("POST", "/api/inbox/teams", {
          body: { name: "Support", routing: "manual" },
        });
        expect(team.status).toBe(201);
        teamId = team.body.team.id;
        expect(
          (await gw.call("PUT", "/api/inbox/settings", { body: { defaultTeamId: teamId } })).status,
        ).toBe(200);
        const created = await gw.call("POST", "/api/inbox/agents", {
          body: { name: "Dana Agent", email, roleId: "agent", teamIds: [teamId] },
        });
        expect(created.status).toBe(201);
        agentId = created.body.agent.id;
        invitation = created.body.invitation.token;
        const trained = await gw.call("PUT", "/api/inbox/intents", {
          body: { examples: intentExamples },
        });
        expect(trained.status).toBe(200);

        const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
        page = await context.newPage();
        page.on("pageerror", (error) => console.error("page error:", error.message));
      }, 120_000);

      afterAll(async () => {
        await page?.context().close();
        await carol?.client.close();
        await gw?.gateway.close();
        await place?.dispose();
        await t?.close();
      });

      it("serves the inbox page at /inbox/, with a strict content security policy", async () => {
        const response = await fetch(`${gw.url}/inbox/`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
        expect(await response.text()).toContain('<div id="root"></div>');
        const bare = await fetch(`${gw.url}/inbox`, { redirect: "manual" });
        expect(bare.status).toBe(308);
        expect(bare.headers.get("location")).toBe("/inbox/");
        // An unknown asset gets the API's error shape, never a 5xx.
        const missing = await fetch(`${gw.url}/assets/no-such-file.js`);
        expect(missing.status).toBeLessThan(500);
        expect((await missing.json()).error.code).toBeTypeOf("number");
      });

      it("an invited agent chooses a password, sees the customer's message with insights, assigns it, notes and replies", async () => {
        // The invitation link: the token is in the fragment, never sent to the server.
        await page.goto(`${gw.url}/inbox/#invite=${encodeURIComponent(invitation)}`);
        const accept = page.getByRole("form", { name: "Accept invitation" });
        await accept.getByLabel("New password").fill(password);
        await accept.getByLabel("Repeat the password").fill(password);
        await accept.getByRole("button", { name: "Join the inbox" }).click();
        await page.getByText("Signed in as").waitFor();
        expect(page.url()).not.toContain(invitation);
        await page.getByText("No conversations here").waitFor();

        // The customer writes to the business; the list shows it by polling.
        await carol.client.api.addContact({ phone: place.phone });
        const chat = await carol.client.startDirectChat(gw.userId);
        await carol.client.sendText(chat.groupId, question);
        const row = page.getByRole("list", { name: "Conversations" }).getByRole("link", {
          name: /Carol Customer/,
        });
        await row.waitFor({ timeout: 30_000 });
        await expect.poll(() => row.textContent()).toContain("Where is my order?");
        expect(await row.textContent()).toContain("unassigned");
        await row.click();

        const timeline = page.getByRole("list", { name: "Timeline" });
        await timeline.getByText(question).waitFor();

        // Assignment: Dana takes it.
        const conversationId = decodeURIComponent(page.url().split("#/c/")[1] ?? "");
        expect(conversationId).not.toBe("");
        await page.getByLabel("Assignee").selectOption({ label: "Dana Agent (me)" });
        await eventually(async () => {
          const c = await gw.call("GET", `/api/inbox/conversations/${conversationId}`);
          expect(c.body.conversation.assigneeId).toBe(agentId);
        }, 10_000);
        await page.getByRole("button", { name: "Mine" }).click();
        await expect.poll(() => row.textContent()).toContain("Dana Agent");

        // An internal note, shown apart from the messages.
        await page.getByRole("button", { name: "Internal note" }).click();
        await page.getByLabel("Note for the team").fill(noteText);
        await page.getByRole("button", { name: "Add note" }).click();
        const note = timeline.locator("li.note", { hasText: noteText });
        await note.waitFor();
        expect(await note.textContent()).toContain("Internal note");

        // The reply, sent as the business.
        await page.getByRole("button", { name: "Reply", exact: true }).click();
        await page.getByLabel("Reply to the customer").fill(replyText);
        await page.getByRole("button", { name: "Send reply" }).click();
        await timeline.locator("li.bubble.mine", { hasText: replyText }).waitFor();
        const received = await eventually(() => {
          const m = carol.seen.messages.find(
            (x) => x.content.type === "text" && x.content.text === replyText,
          );
          expect(m).toBeDefined();
          return m;
        }, 30_000);
        expect(received?.senderUserId).toBe(gw.userId);
        // The customer got the reply, written after the note, and never the note.
        const customerSaw = JSON.stringify(carol.seen.messages.map((m) => m.content));
        expect(customerSaw).not.toContain(noteText);
        expect(customerSaw).not.toContain("VIP");

        await page.getByRole("button", { name: "Pending" }).click();
        await eventually(async () => {
          const c = await gw.call("GET", `/api/inbox/conversations/${conversationId}`);
          expect(c.body.conversation.status).toBe("pending");
        }, 10_000);
        await page.getByLabel("Status").first().selectOption("all");
        await timeline.getByText(replyText).waitFor();

        // The customer's message has its insights beside it.
        const insights = timeline.getByRole("complementary", { name: "Insights" });
        await expect.poll(() => insights.textContent()).toContain("order_status");
        const shown = (await insights.textContent()) ?? "";
        expect(shown).toMatch(/order_status · \d+%/);
        expect(shown).toContain("negative");
        expect(shown).toContain("carol@example.com");

        // The customer's photo shows as a thumbnail, fetched with the session into a blob: URL.
        await carol.client.sendAttachment(chat.groupId, png(160, 96), {
          name: "parcel.png",
          mime: "image/png",
          caption: "The label on my parcel",
        });
        const photo = timeline.getByRole("img", { name: "The label on my parcel" });
        await photo.waitFor({ timeout: 30_000 });
        expect(await photo.getAttribute("src")).toMatch(/^blob:/);
        // Loaded, so the page's content security policy lets blob: images in.
        await expect
          .poll(() => photo.evaluate((img) => (img as HTMLImageElement).naturalWidth))
          .toBe(160);

        if (backend === "sqlite") await page.screenshot({ path: screenshotPath("inbox") });
      }, 120_000);

      it("signs out, and signs back in with the email and password", async () => {
        await page.getByRole("button", { name: "Sign out" }).click();
        const form = page.getByRole("form", { name: "Sign in" });
        await form.getByLabel("Email").fill(email);
        await form.getByLabel("Password").fill("not the password");
        await form.getByRole("button", { name: "Sign in" }).click();
        await form.getByRole("alert").waitFor();
        expect(await form.getByRole("alert").textContent()).toContain("do not match");
        await form.getByLabel("Password").fill(password);
        await form.getByRole("button", { name: "Sign in" }).click();
        await page.getByText("Signed in as").waitFor();
        // On a phone-sized screen the list and the conversation take turns.
        await page.setViewportSize({ width: 390, height: 800 });
        await page.getByRole("button", { name: "Everyone" }).click();
        await page.getByLabel("Status").selectOption("all");
        await page.getByRole("link", { name: /Carol Customer/ }).click();
        await page.getByRole("link", { name: "Back to the conversations" }).waitFor();
        expect(await page.getByRole("region", { name: "Conversation list" }).isVisible()).toBe(
          false,
        );
      }, 60_000);
    },
  );
}

describe("the inbox screens read insights defensively", () => {
  it("parses stored insights, as JSON text or an object", () => {
    const stored = {
      intent: { intent: "refund", confidence: 0.91 },
      sentiment: { label: "negative", score: -0.4 },
      entities: [{ type: "amount", text: "$25", start: 3, end: 6, value: "USD 25.00" }],
      suspicious: { spamScore: 0.2, scam: ["gift_card"], burst: true, suspicious: true },
    };
    const expected = {
      intent: { intent: "refund", confidence: 0.91 },
      sentiment: { label: "negative", score: -0.4 },
      entities: [{ type: "amount", text: "$25", start: 3, value: "USD 25.00" }],
      suspicious: { spamScore: 0.2, scam: ["gift_card"], burst: true, suspicious: true },
    };
    expect(parseInsights(stored)).toEqual(expected);
    expect(parseInsights(JSON.stringify(stored))).toEqual(expected);
  });

  it("drops what it cannot read instead of failing", () => {
    expect(parseInsights(null)).toBeNull();
    expect(parseInsights("{not json")).toBeNull();
    expect(parseInsights([1, 2])).toBeNull();
    expect(
      parseInsights({
        intent: { confidence: "high" },
        entities: [{ type: 3 }, "x"],
        suspicious: 1,
      }),
    ).toEqual({ intent: null, sentiment: null, entities: [], suspicious: null });
  });
});
