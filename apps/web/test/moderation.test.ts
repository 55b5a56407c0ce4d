import { rmSync } from "node:fs";
import type { Browser, Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../../../packages/server/src/accounts/platform-roles.js";
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

// Texts the content checks (@veil/insights) score in known bands with the
// thresholds below: a clean one is published, a borderline one (a guideline
// scored from 0.5 to under 0.85) is held, a clear one (0.85 and up) is refused.
const thresholds = { VEIL_MODERATION_HOLD_AT: "0.5", VEIL_MODERATION_REJECT_AT: "0.85" };
const clean = "Ferry timetable for the summer is out";
const borderline = [
  "Invest with us for guaranteed 20% monthly returns",
  "Double your money in a week, guaranteed",
  "Our fund pays guaranteed 10% weekly returns",
];
const refused = "Guaranteed returns! Double your bitcoin in 24 hours, send 0.1 BTC to this wallet";

let webDir: string;
let server: TestServer;
let browser: Browser;
let mod: Person;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  webDir = await buildWebClient();
  server = await startTestServer({
    backend: "sqlite",
    env: { ...noRateLimits, ...thresholds, VEIL_WEB_DIR: webDir },
  });
  browser = await launchBrowser();
  // The moderator: signed up like anyone, then granted the role by the operator.
  mod = await openPerson(browser, server.url);
  await signUp(mod, server, { name: "Mona Moderator", phone: "+1 415 555 0290" });
  await grantRole(server.server.context.database.db, await userIdOf(mod), "moderator");
  await mod.page.reload();
  await nav(mod).getByRole("link", { name: "Moderation" }).waitFor({ timeout: 20_000 });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

const nav = (person: Person) => person.page.getByRole("navigation", { name: "Sections" });

async function section(
  person: Person,
  name: "Chats" | "Channels" | "Settings" | "Moderation",
): Promise<void> {
  await nav(person).getByRole("link", { name, exact: true }).click();
}

/** The signed-in user's id, as Settings shows it. */
async function userIdOf(person: Person): Promise<string> {
  await section(person, "Settings");
  const text = await person.page.getByText(/Your id: /).textContent();
  const id = text?.replace(/.*Your id: /, "").trim();
  if (!id) throw new Error("no user id on the Settings page");
  return id;
}

/** Creates a channel from the Channels section; answers its page's address. */
async function createChannel(owner: Person, name: string, handle: string): Promise<string> {
  await section(owner, "Channels");
  const create = owner.page.getByRole("form", { name: "Create a channel" });
  await create.getByLabel("Channel name").fill(name);
  await create.getByLabel("Handle").fill(handle);
  await create.getByRole("button", { name: "Create channel" }).click();
  await owner.page.getByRole("heading", { name }).waitFor();
  return owner.page.url();
}

/** Posts from the composer, and waits until the server answered (the field is cleared). */
async function post(owner: Person, text: string): Promise<void> {
  const composer = owner.page.getByRole("form", { name: "New post" });
  const field = composer.getByLabel("Post to the channel");
  await field.fill(text);
  await composer.getByRole("button", { name: "Post" }).click();
  await expect.poll(() => field.inputValue(), { timeout: 20_000 }).toBe("");
}

/** The moderator's queue, fresh from the server. */
async function openQueue(): Promise<Locator> {
  await section(mod, "Moderation");
  await mod.page.getByRole("link", { name: "Queue", exact: true }).click();
  await mod.page.getByRole("button", { name: "Refresh" }).click();
  return mod.page.getByRole("list", { name: "Open cases" });
}

/** Opens the first open case whose row matches, claims it, and decides it. */
async function decide(
  match: RegExp,
  outcome: { violation: string } | "none",
  options: { screenshot?: boolean } = {},
): Promise<void> {
  const queue = await openQueue();
  const row = queue.locator(".case-row", { hasText: match }).first();
  await row.waitFor({ timeout: 20_000 });
  await row.getByRole("link").click();
  const decideRegion = mod.page.getByRole("region", { name: "Decide" });
  await decideRegion.waitFor();
  if (options.screenshot) {
    await mod.page.screenshot({ path: screenshotPath("moderation-case"), fullPage: true });
  }
  await decideRegion.getByRole("button", { name: "Claim" }).click();
  await mod.page.getByText("Claimed by you").first().waitFor();
  if (outcome === "none") {
    await decideRegion.getByRole("button", { name: "No violation" }).click();
    await mod.page
      .getByRole("status")
      .getByText(/No violation/)
      .waitFor();
  } else {
    await decideRegion.getByLabel("Guideline it breaks").selectOption({ label: outcome.violation });
    await decideRegion.getByRole("button", { name: "Violation", exact: true }).click();
    await mod.page.getByRole("status").getByText(`Violation: ${outcome.violation}`).waitFor();
  }
}

describe.runIf(chromiumAvailable)("web client: moderation", () => {
  let olga: Person;
  let fay: Person;
  let nick: Person;
  let harbourUrl: string;

  beforeAll(async () => {
    [olga, fay, nick] = (await Promise.all(
      [0, 1, 2].map(() => openPerson(browser, server.url)),
    )) as [Person, Person, Person];
    await signUp(olga, server, { name: "Olga Owner", phone: "+1 415 555 0201" });
    await signUp(fay, server, { name: "Fay Follower", phone: "+1 415 555 0202" });
    await signUp(nick, server, { name: "Nick Nobody", phone: "+1 415 555 0203" });
  }, 120_000);

  it("holds a borderline post; a reader reports the channel; the moderator releases the post", async () => {
    const url = await createChannel(olga, "Harbour deals", "harbour_deals");
    harbourUrl = url;
    await fay.page.goto(url);
    await fay.page.getByRole("button", { name: "Follow" }).click();
    await fay.page.getByRole("button", { name: "Unfollow" }).waitFor();

    // A clean post goes out at once; a borderline one is held, and says so.
    await post(olga, clean);
    await olga.page.locator(".post", { hasText: clean }).waitFor();
    await post(olga, borderline[0] as string);
    await olga.page
      .getByText("Held for review: followers will see it once a moderator releases it.")
      .waitFor();
    await fay.page.locator(".post", { hasText: clean }).waitFor({ timeout: 20_000 });
    expect(await fay.page.getByText(borderline[0] as string).count()).toBe(0);

    // A clear breach is refused, naming the guideline in words; the text stays to rework it.
    const composer = olga.page.getByRole("form", { name: "New post" });
    await composer.getByLabel("Post to the channel").fill(refused);
    await composer.getByRole("button", { name: "Post" }).click();
    await composer
      .getByRole("alert")
      .getByText("This breaks the content guidelines on fraud and scams, so it was not posted.")
      .waitFor();
    expect(await composer.getByLabel("Post to the channel").inputValue()).toBe(refused);
    await composer.getByLabel("Post to the channel").fill("");

    // An edit and a new description are checked the same way: held, and the old text stays.
    const seq = await olga.page.locator(".post", { hasText: clean }).getAttribute("data-seq");
    const cleanPost = olga.page.locator(`.post[data-seq="${seq}"]`);
    await cleanPost.getByRole("button", { name: "Edit" }).click();
    await cleanPost.getByLabel("Text").fill(borderline[1] as string);
    await cleanPost.getByRole("button", { name: "Save" }).click();
    await cleanPost.getByText(/Your edit: Held for review/).waitFor();
    expect(await cleanPost.locator(".text").textContent()).toBe(clean);
    const settings = olga.page.getByRole("form", { name: "Channel settings" });
    await settings.getByLabel("Description").fill(borderline[2] as string);
    await settings.getByRole("button", { name: "Save settings" }).click();
    await olga.page.getByText("The new name or description: Held for review").waitFor();

    // The owner sees what is held in the channel's Moderation panel.
    await olga.page.locator(".channel-header").getByRole("link", { name: "Moderation" }).click();
    const held = olga.page.getByRole("list", { name: "Held for review" });
    await held.getByText(borderline[0] as string).waitFor();
    expect(await held.getByRole("listitem").count()).toBe(3);
    await olga.page.getByText("Strikes: 0 of 3 in 90 days").waitFor();
    await olga.page.goBack();

    // Nick, who does not follow, reports the channel, from the keyboard.
    await nick.page.goto(url);
    await nick.page.getByRole("button", { name: "Report channel" }).focus();
    await nick.page.keyboard.press("Enter");
    const dialog = nick.page.getByRole("dialog", { name: "Report Harbour deals" });
    await dialog.waitFor();
    await nick.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await nick.page.getByRole("button", { name: "Report channel" }).click();
    await dialog.getByRole("radio", { name: "Fraud and scams" }).check();
    await dialog.getByLabel(/^Note/).fill("Promises returns nobody can guarantee");
    await dialog.getByRole("button", { name: "Send report" }).click();
    await dialog.getByText("Thanks. A moderator will look at it.").waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });

    // The moderator sees both: the held post and the report.
    const queue = await openQueue();
    const heldRow = queue.locator(".case-row", { hasText: "Held post" }).filter({
      hasText: "Harbour deals (@harbour_deals)",
    });
    const reportRow = queue.locator(".case-row", { hasText: "Reported channel" }).filter({
      hasText: "Harbour deals",
    });
    await heldRow.waitFor({ timeout: 20_000 });
    await reportRow.waitFor();
    expect(await heldRow.textContent()).toContain(borderline[0]);
    expect(await reportRow.textContent()).toMatch(/1 report\b/);
    await mod.page.screenshot({ path: screenshotPath("moderation-queue"), fullPage: true });

    // The report as the moderator reads it: the reason and note, never who sent it.
    await reportRow.getByRole("link").click();
    const reports = mod.page.getByRole("list", { name: "Reports" });
    await reports.getByText("Fraud and scams").waitFor();
    await reports.getByText(/Promises returns nobody can guarantee/).waitFor();
    expect(await mod.page.content()).not.toContain("Nick");
    expect(await mod.page.content()).not.toContain("+14155550203");

    // The held post: claimed, then released; Fay sees it.
    await decide(/Held post/, "none", { screenshot: true });
    await fay.page.reload();
    await fay.page.locator(".post", { hasText: borderline[0] as string }).waitFor({
      timeout: 20_000,
    });
  }, 180_000);

  it("suspends a channel at three strikes; the owner appeals, the moderator reinstates", async () => {
    const url = await createChannel(olga, "Quick riches", "quick_riches");
    await fay.page.goto(url);
    await fay.page.getByRole("button", { name: "Follow" }).click();
    await fay.page.getByRole("button", { name: "Unfollow" }).waitFor();
    for (const text of borderline) {
      await post(olga, text);
      await olga.page.getByText("Held for review:").waitFor();
      expect(await olga.page.locator(".post", { hasText: text }).count()).toBe(0);
    }

    // Three violations, three strikes.
    for (let i = 0; i < 3; i++) {
      await decide(/Quick riches/, { violation: "Fraud and scams" });
    }

    // Fay sees why the channel is suspended; she gets no composer and no posts of it.
    await fay.page.reload();
    const notice = fay.page.locator(".suspension");
    await notice.waitFor({ timeout: 20_000 });
    expect(await notice.textContent()).toMatch(/This channel is suspended/);
    // The reason the server gives, naming the guideline broken.
    expect(await notice.textContent()).toMatch(/Reason: .*fraud/);
    await fay.page.screenshot({ path: screenshotPath("suspension-notice"), fullPage: true });

    // Olga follows the notice's link to the Moderation panel and appeals one decision.
    await olga.page.reload();
    await olga.page.getByRole("link", { name: "see the decisions and appeal" }).click();
    await olga.page.getByText("Strikes: 3 of 3 in 90 days").waitFor();
    const decisions = olga.page.getByRole("list", { name: "Decisions" });
    expect(await decisions.getByRole("listitem").count()).toBe(3);
    await decisions.getByRole("button", { name: "Appeal" }).first().click();
    const appeal = olga.page.getByRole("form", { name: "Appeal this decision" });
    await appeal
      .getByLabel("Why should a moderator look again?")
      .fill("It was a joke among friends, not an offer");
    await appeal.getByRole("button", { name: "Send appeal" }).click();
    await decisions.getByText(/Appeal sent/).waitFor();

    // The moderator reinstates from the appeals list.
    await section(mod, "Moderation");
    await mod.page.getByRole("link", { name: "Appeals" }).click();
    const appeals = mod.page.getByRole("list", { name: "Appeals" });
    const item = appeals.locator(".appeal", { hasText: "It was a joke among friends" });
    await item.waitFor();
    await item.getByRole("button", { name: /Reinstate/ }).click();
    await mod.page.getByText("Reinstated: the strike is lifted.").waitFor();
    // The list holds the appeals still waiting: this one is done.
    await item.waitFor({ state: "detached" });

    // The strike is lifted: two of three, and the notice is gone.
    await olga.page.reload();
    await olga.page.getByText("Strikes: 2 of 3 in 90 days").waitFor();
    await fay.page.reload();
    await fay.page.getByRole("heading", { name: "Quick riches" }).waitFor();
    expect(await fay.page.locator(".suspension").count()).toBe(0);

    // The audit log has it all.
    await mod.page.getByRole("link", { name: "Audit log" }).click();
    await mod.page.getByRole("list", { name: "Audit log" }).getByRole("listitem").first().waitFor();
  }, 240_000);

  it("reports a person from a 1:1 chat with one of their two messages, and only that one", async () => {
    const keep = "see you at the market on Sunday";
    const attach = "send me 500 dollars or your photos go online";
    await section(nick, "Chats");
    await nick.page.getByRole("textbox", { name: "New chat" }).fill("+1 415 555 0202");
    await nick.page.getByRole("button", { name: "Start" }).click();
    await nick.page.getByRole("heading", { name: "Fay Follower" }).waitFor();
    for (const text of [keep, attach]) {
      await nick.page.getByRole("textbox", { name: "Message" }).fill(text);
      await nick.page.getByRole("textbox", { name: "Message" }).press("Enter");
      await nick.page.getByRole("list", { name: "Messages" }).getByText(text).waitFor();
    }

    await section(fay, "Chats");
    await fay.page.getByRole("link", { name: /Nick Nobody/ }).click({ timeout: 20_000 });
    const messages = fay.page.getByRole("list", { name: "Messages" });
    await messages.getByText(attach).waitFor({ timeout: 20_000 });
    await fay.page.getByRole("button", { name: "Report Nick Nobody" }).click();
    const dialog = fay.page.getByRole("dialog", { name: "Report Nick Nobody" });
    await dialog
      .getByText(
        "Only the messages you tick are sent to the moderators; they cannot read this chat otherwise.",
      )
      .waitFor();
    const choices = dialog.getByRole("list", { name: "Their latest messages" });
    await choices.getByRole("checkbox").nth(1).waitFor();
    // Nothing is ticked until Fay ticks it.
    expect(await choices.getByRole("checkbox", { checked: true }).count()).toBe(0);
    await choices.getByRole("checkbox", { name: new RegExp(attach) }).check();
    await dialog.getByRole("radio", { name: "Fraud and scams" }).check();
    await dialog.getByRole("button", { name: "Send report" }).click();
    await dialog.getByText("Thanks. A moderator will look at it.").waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();

    // The moderator reads exactly the attached message, and nothing else of the chat.
    const queue = await openQueue();
    const row = queue.locator(".case-row", { hasText: "Reported person" }).first();
    await row.waitFor({ timeout: 20_000 });
    await row.getByRole("link").click();
    const attached = mod.page.getByRole("list", { name: "Attached messages" });
    await attached.waitFor();
    expect(await attached.getByRole("listitem").count()).toBe(1);
    expect(await attached.textContent()).toContain(attach);
    const page = await mod.page.content();
    expect(page).not.toContain(keep);
    expect(page).not.toContain("Fay Follower");
  }, 180_000);

  it("fits a phone-sized screen: the queue and a report form, no sideways scrolling", async () => {
    await mod.page.setViewportSize({ width: 390, height: 844 });
    await openQueue();
    const overflow = (person: Person) =>
      person.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow(mod)).toBeLessThanOrEqual(0);
    await mod.page.setViewportSize({ width: 1100, height: 760 });

    await nick.page.setViewportSize({ width: 390, height: 844 });
    await nick.page.goto(harbourUrl);
    await nick.page.getByRole("button", { name: "Report post" }).first().click();
    await nick.page.getByRole("dialog", { name: "Report post" }).waitFor();
    expect(await overflow(nick)).toBeLessThanOrEqual(0);
    await nick.page.keyboard.press("Escape");
    await nick.page.setViewportSize({ width: 1100, height: 760 });
  }, 60_000);
});
