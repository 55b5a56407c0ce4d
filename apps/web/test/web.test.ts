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
  waitShown,
} from "./helpers/browser.js";

const messages = (person: Person) => person.page.getByRole("list", { name: "Messages" });

// One build of the web client, one server and one browser for the whole file; each
// person is a browser context of their own (separate storage, separate keys).
let webDir: string;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  if (!chromiumAvailable) return;
  webDir = await buildWebClient();
  server = await startTestServer({
    backend: "sqlite",
    env: { ...noRateLimits, VEIL_WEB_DIR: webDir },
  });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

/** Closes each person's browser context once their block is done: less for the machine to run. */
async function leave(people: Array<Person | undefined>): Promise<void> {
  await Promise.all(people.map((person) => person?.context.close()));
}

/** Goes to a section of the app through its navigation. */
async function section(person: Person, name: "Chats" | "Communities" | "Channels" | "Settings") {
  await person.page
    .getByRole("navigation", { name: "Sections" })
    .getByRole("link", { name })
    .click();
}

describe.runIf(chromiumAvailable)("web client: chats in the browser", () => {
  let alice: Person;
  let bob: Person;
  /** The safety number both marked as verified, before Alice linked a second device. */
  let verifiedNumber: string | undefined;

  beforeAll(async () => {
    alice = await openPerson(browser, server.url);
    bob = await openPerson(browser, server.url);
  });
  afterAll(() => leave([alice, bob]));

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
    // Bob's browser has it, his chat still closed: Alice sees "delivered" (✓✓), not yet "read".
    const aliceTick = () => alice.page.locator(".bubble.mine .receipt").first().textContent();
    await expect.poll(aliceTick, { timeout: 20_000 }).toContain("delivered");
    await row.click();
    await messages(bob).getByText("hello Bob, from the browser").waitFor();
    await bob.page.getByRole("textbox", { name: "Message" }).fill("hi Alice, got it");
    await bob.page.getByRole("button", { name: "Send" }).click();

    // Alice gets the answer live, and her message shows as read.
    await messages(alice).getByText("hi Alice, got it").waitFor({ timeout: 20_000 });
    await expect.poll(aliceTick, { timeout: 20_000 }).toContain("read");
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
    await bob.page.getByLabel("Mark as verified").check();
    await bob.page.getByText("✓ Verified").waitFor();
    verifiedNumber = bobNumber;
  }, 60_000);

  it("shows typing, replies, reactions and an encrypted image, live on the other side", async () => {
    await section(alice, "Chats");
    await alice.page.getByRole("link", { name: /Bob Web/ }).click();
    await section(bob, "Chats");
    await bob.page.getByRole("link", { name: /Alice Web/ }).click();

    await alice.page.getByRole("textbox", { name: "Message" }).fill("typing something");
    await bob.page.getByText("Alice Web is typing…").waitFor({ timeout: 20_000 });
    await alice.page.getByRole("textbox", { name: "Message" }).fill("");

    // Alice answers Bob's message as a reply, and reacts to it.
    // Bob's own bubble: Alice's reply quotes the same text in a bubble of hers.
    const bobsMessage = messages(alice).locator(".bubble.theirs", { hasText: "hi Alice, got it" });
    await bobsMessage.hover();
    await bobsMessage.getByRole("button", { name: "Reply" }).click();
    await alice.page.getByText("Replying to: hi Alice, got it").waitFor();
    await alice.page.getByRole("textbox", { name: "Message" }).fill("glad it arrived");
    await alice.page.getByRole("button", { name: "Send" }).click();
    await bobsMessage.hover();
    await bobsMessage.getByRole("button", { name: "React 👍" }).click();

    const reply = messages(bob).locator(".bubble", { hasText: "glad it arrived" });
    await reply.waitFor({ timeout: 20_000 });
    expect(await reply.locator(".quote").textContent()).toBe("hi Alice, got it");
    await messages(bob)
      .locator(".bubble.mine", { hasText: "hi Alice, got it" })
      .getByRole("list", { name: "Reactions" })
      .getByText("👍 1")
      .waitFor({ timeout: 20_000 });

    // An image: encrypted in Alice's browser, decrypted and shown in Bob's.
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
      "base64",
    );
    await alice.page
      .getByLabel("Attach a file")
      .setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: png });
    const image = messages(bob).getByRole("img", { name: "dot.png" });
    await image.waitFor({ timeout: 20_000 });
    expect(await image.getAttribute("src")).toMatch(/^blob:/);
    const sent = alice.traffic.sent.join("\n");
    expect(sent).not.toContain("glad it arrived");
    expect(sent).not.toContain(png.toString("latin1"));
  }, 120_000);

  it("changes privacy settings and blocks from Settings", async () => {
    await section(bob, "Settings");
    const privacy = bob.page.getByRole("region", { name: "Privacy" });
    await privacy.getByLabel("Profile photo").selectOption("nobody");
    await privacy.getByText("Saved.").waitFor();
    await bob.page.reload();
    expect(
      await bob.page
        .getByRole("region", { name: "Privacy" })
        .getByLabel("Profile photo")
        .inputValue(),
    ).toBe("nobody");
    const contacts = bob.page.getByRole("form", { name: "Add a contact" });
    await contacts.getByLabel("Add a contact by phone number").fill("+1 415 555 0131");
    await contacts.getByRole("button", { name: "Add" }).click();
    const list = bob.page.getByRole("list", { name: "Contacts" });
    await list.getByText("Alice Web").waitFor();
    await list.getByRole("button", { name: "Block" }).click();
    await bob.page.getByRole("list", { name: "Blocked people" }).getByText("Alice Web").waitFor();
    await bob.page
      .getByRole("list", { name: "Blocked people" })
      .getByRole("button", { name: "Unblock" })
      .click();
    await bob.page.getByRole("list", { name: "Blocked people" }).waitFor({ state: "detached" });
  }, 60_000);

  it("can be used from the keyboard: a skip link, then every control in order", async () => {
    await bob.page.goto(`${server.url}/#/chats`);
    await bob.page.reload();
    await bob.page.getByRole("navigation", { name: "Sections" }).waitFor();
    // The chat list fills in after the device opens; tab only once it is there.
    await bob.page.locator(".chat-row").first().waitFor();
    await bob.page.keyboard.press("Tab");
    expect(await bob.page.evaluate(() => document.activeElement?.textContent)).toBe(
      "Skip to content",
    );
    await bob.page.keyboard.press("Enter");
    await bob.page.keyboard.press("Tab");
    expect(await bob.page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe(
      "phones",
    );
    // "Start" waits for a number (disabled): the next stop is the first chat, opened with Enter.
    await bob.page.keyboard.press("Tab");
    expect(await bob.page.evaluate(() => document.activeElement?.className)).toBe("chat-row");
    await bob.page.keyboard.press("Enter");
    await messages(bob).waitFor();
  }, 60_000);

  it("links a second browser to Alice's account, which then gets her chats", async () => {
    const laptop = await openPerson(browser, server.url);
    await laptop.page.getByRole("tab", { name: "Use an existing account" }).click();
    await laptop.page.getByRole("button", { name: "Show a link code" }).click();
    const link = await laptop.page.getByRole("textbox", { name: "Link to paste" }).inputValue();
    expect(link).toMatch(/^veil-link:/);

    await section(alice, "Settings");
    const form = alice.page.getByRole("form", { name: "Link a device" });
    await form.getByRole("textbox").fill(link);
    await form.getByRole("button", { name: "Link" }).click();
    await alice.page.getByText("Device linked.").waitFor({ timeout: 20_000 });

    await laptop.page.getByRole("navigation", { name: "Sections" }).waitFor({ timeout: 20_000 });
    // Alice's first browser adds the new device to her chats (an MLS commit each).
    await laptop.page.getByRole("link", { name: /Bob Web/ }).waitFor({ timeout: 30_000 });
    await laptop.context.close();

    // Alice's keys changed (one device more in the chat): Bob's safety number changes with
    // them, and his "verified" mark, kept for the old number, no longer holds.
    expect(verifiedNumber).toMatch(/^\d{60}$/);
    await section(bob, "Chats");
    await bob.page.getByRole("link", { name: /Alice Web/ }).click();
    const bobSees = async () => {
      await bob.page.getByRole("link", { name: "Safety number" }).click();
      const digits = bob.page.locator(".safety-digits");
      await digits.waitFor();
      const number = (await digits.textContent())?.replace(/\D/g, "");
      if (number !== verifiedNumber) return number;
      // Not yet: Bob's browser may still be on its way to Alice's commit.
      await bob.page.getByRole("link", { name: "Back to the chat" }).click();
      return number;
    };
    await expect.poll(bobSees, { timeout: 30_000 }).not.toBe(verifiedNumber);
    expect((await bob.page.locator(".safety-digits").textContent())?.replace(/\D/g, "")).toMatch(
      /^\d{60}$/,
    );
    expect(await bob.page.getByLabel("Mark as verified").isChecked()).toBe(false);
    expect(await bob.page.getByText("✓ Verified").count()).toBe(0);
  }, 90_000);

  it("fits a phone-sized screen: one column, no sideways scrolling", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await phone.newPage();
    await page.goto(server.url);
    await page.getByRole("form", { name: "Create an account" }).waitFor();
    const overflow = () =>
      page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await bob.page.setViewportSize({ width: 390, height: 844 });
    await section(bob, "Chats");
    await bob.page.getByRole("link", { name: /Alice Web/ }).click();
    await messages(bob).locator(".bubble > .text", { hasText: "hi Alice, got it" }).waitFor();
    // Alice read it while this chat was closed on Bob's side: the receipt was kept.
    expect(await bob.page.locator(".bubble.mine .receipt").last().textContent()).toContain("read");
    // The list gives way to the open chat, which has a way back.
    expect(await bob.page.getByRole("region", { name: "Chats" }).isVisible()).toBe(false);
    expect(await bob.page.getByRole("link", { name: "Back to chats" }).isVisible()).toBe(true);
    expect(
      await bob.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await bob.page.screenshot({ path: screenshotPath("chat-phone") });
    await bob.page.setViewportSize({ width: 1100, height: 760 });
    await phone.close();
  }, 60_000);
});

describe.runIf(chromiumAvailable)("web client: a community in the browser", () => {
  let olivia: Person;
  let mia: Person;
  let carl: Person;
  let gardeningUrl: string;

  beforeAll(async () => {
    olivia = await openPerson(browser, server.url);
    mia = await openPerson(browser, server.url);
    carl = await openPerson(browser, server.url);
    await signUp(olivia, server, { name: "Olivia Owner", phone: "+1 415 555 0141" });
    await signUp(mia, server, { name: "Mia Member", phone: "+1 415 555 0142" });
    await signUp(carl, server, { name: "Carl Cousin", phone: "+1 415 555 0143" });
  }, 120_000);
  afterAll(() => leave([olivia, mia, carl]));

  it("creates a community with two groups; each member sees only their own group's members", async () => {
    await section(olivia, "Communities");
    const create = olivia.page.getByRole("form", { name: "Create a community" });
    await create.getByLabel("Name").fill("Neighbours");
    await create.getByLabel(/Description/).fill("Our street");
    await create.getByRole("button", { name: "Create community" }).click();
    await olivia.page.getByRole("heading", { name: "Neighbours" }).waitFor();

    for (const name of ["Gardening", "Book club"]) {
      await olivia.page.getByRole("textbox", { name: "New group" }).fill(name);
      await olivia.page.getByRole("button", { name: "Create group" }).click();
      await olivia.page.getByRole("heading", { name }).waitFor();
      if (name === "Gardening") gardeningUrl = olivia.page.url();
      await olivia.page.goBack();
      await olivia.page.getByRole("heading", { name: "Neighbours" }).waitFor();
    }

    await olivia.page.getByRole("button", { name: "Create an invite link" }).click();
    const link = await olivia.page
      .getByRole("textbox", { name: "Invite link" })
      .first()
      .inputValue();
    expect(link).toContain("#/communities/join/");

    for (const [person, group] of [
      [mia, "Gardening"],
      [carl, "Book club"],
    ] as const) {
      await person.page.goto(link);
      await person.page.getByRole("button", { name: "Join community" }).click();
      await person.page.getByRole("heading", { name: "Neighbours" }).waitFor();
      await person.page.getByRole("button", { name: `Ask to join ${group}` }).click();
      await person.page.getByText("Asked to join").waitFor();
    }

    // The requests reach Olivia's open page live, without a reload. She answers both: each
    // is an MLS commit adding the person's devices.
    await olivia.page.getByRole("button", { name: "Let Mia Member in" }).click({ timeout: 20_000 });
    await olivia.page
      .getByRole("button", { name: "Let Carl Cousin in" })
      .click({ timeout: 20_000 });
    await waitShown(olivia.page, olivia.page.getByText("Nobody is waiting."));
    await olivia.page.screenshot({ path: screenshotPath("community-home"), fullPage: true });

    // Mia is let in live, on the page she asked from, and sees Gardening's members with
    // their numbers (R3).
    const open = mia.page
      .getByRole("list", { name: "Groups in this community" })
      .getByRole("link", { name: "Open" });
    await open.waitFor({ timeout: 20_000 });
    await open.click();
    await mia.page.getByRole("heading", { name: "Gardening" }).waitFor();
    await mia.page.getByRole("button", { name: "2 members" }).click();
    const members = mia.page.getByRole("region", { name: "Members" });
    await members.getByText("Olivia Owner").waitFor();
    await members.getByText("+14155550141").waitFor();

    // Carl, in Book club only, sees Gardening's name and size, never who is in it (R4).
    await carl.page.reload();
    const directory = carl.page.getByRole("list", { name: "Groups in this community" });
    await directory.getByText("Gardening", { exact: true }).waitFor();
    await directory.getByText("2 members").first().waitFor();
    expect(await carl.page.content()).not.toContain("Mia");
    await carl.page.goto(gardeningUrl);
    await carl.page.getByText("This chat is not on this device").waitFor();
    expect(await carl.page.content()).not.toContain("Mia");
  }, 180_000);

  it("lets the owner post in the announcement group, and not the members", async () => {
    await olivia.page.goBack();
    await section(olivia, "Communities");
    await olivia.page.getByRole("link", { name: /Neighbours/ }).click();
    await olivia.page.getByRole("link", { name: "Open announcements" }).click();
    await olivia.page.getByRole("textbox", { name: "Message" }).fill("Street party on Saturday");
    await olivia.page.getByRole("button", { name: "Send" }).click();
    await messages(olivia).getByText("Street party on Saturday").waitFor();

    for (const person of [mia, carl]) {
      await section(person, "Chats");
      await person.page.getByRole("link", { name: /Neighbours/ }).click();
      await messages(person).getByText("Street party on Saturday").waitFor({ timeout: 20_000 });
      await person.page.getByText("Only community admins post here").waitFor();
      expect(await person.page.getByRole("textbox", { name: "Message" }).count()).toBe(0);
    }
    // It reached them, so it was sent: only encrypted (no body, frame or URL has its text).
    expect(olivia.traffic.sent.join("\n")).not.toContain("Street party on Saturday");
  }, 120_000);

  it("lets the owner make a member an admin, then deactivate the community", async () => {
    await section(olivia, "Communities");
    await olivia.page.getByRole("link", { name: /Neighbours/ }).click();
    const miaRow = olivia.page
      .getByRole("list", { name: "Community members" })
      .locator("li", { hasText: "Mia Member" });
    await miaRow.getByRole("button", { name: "Make admin" }).click();
    await miaRow.getByText("· admin").waitFor({ timeout: 20_000 });
    await olivia.page
      .getByRole("list", { name: "Community admins" })
      .getByText("Mia Member")
      .waitFor();
    // Mia's community home now has the admin tools.
    await section(mia, "Communities");
    await mia.page.getByRole("link", { name: /Neighbours/ }).click();
    await mia.page.getByText("you are the admin").waitFor({ timeout: 20_000 });
    await mia.page.getByRole("heading", { name: "Admin tools" }).waitFor();

    // Olivia deactivates it: it is gone from every member's list; its groups carry on alone.
    olivia.page.once("dialog", (dialog) => void dialog.accept());
    await olivia.page.getByRole("button", { name: "Deactivate community" }).click();
    await olivia.page.getByText("You are in no community yet").waitFor({ timeout: 20_000 });
    await section(mia, "Communities");
    await mia.page.getByText("You are in no community yet").waitFor({ timeout: 20_000 });
    await section(olivia, "Chats");
    await olivia.page.getByRole("link", { name: /Gardening/ }).click();
    await olivia.page.getByRole("textbox", { name: "Message" }).fill("Seed swap on Sunday");
    await olivia.page.getByRole("button", { name: "Send" }).click();
    await section(mia, "Chats");
    await mia.page.getByRole("link", { name: /Gardening/ }).click();
    await messages(mia).getByText("Seed swap on Sunday").waitFor({ timeout: 20_000 });
    expect(olivia.traffic.sent.join("\n")).not.toContain("Seed swap on Sunday");
  }, 120_000);
});

describe.runIf(chromiumAvailable)("web client: a channel in the browser", () => {
  let admin: Person;
  let fay: Person;
  let finn: Person;

  beforeAll(async () => {
    admin = await openPerson(browser, server.url);
    fay = await openPerson(browser, server.url);
    finn = await openPerson(browser, server.url);
    await signUp(admin, server, { name: "Ada Admin", phone: "+1 415 555 0151" });
    await signUp(fay, server, { name: "Fay Follower", phone: "+1 415 555 0152" });
    await signUp(finn, server, { name: "Finn Follower", phone: "+1 415 555 0153" });
  }, 120_000);
  afterAll(() => leave([admin, fay, finn]));

  it("runs a channel: two followers react and vote, anonymous to each other; the admin sees names, never numbers", async () => {
    await section(admin, "Channels");
    const create = admin.page.getByRole("form", { name: "Create a channel" });
    await create.getByLabel("Channel name").fill("Neighbourhood news");
    await create.getByLabel("Handle").fill("nbhd_news");
    await create.getByLabel(/^Category/).fill("local");
    await create.getByRole("button", { name: "Create channel" }).click();
    await admin.page.getByRole("heading", { name: /Neighbourhood news/ }).waitFor();

    const composer = admin.page.getByRole("form", { name: "New post" });
    await composer.getByLabel("Post to the channel").fill("Road works on Main St this week");
    await composer.getByRole("button", { name: "Post" }).click();
    await admin.page.getByText("Road works on Main St this week").waitFor();
    await composer.getByLabel("Add a poll").check();
    await composer.getByLabel("Question").fill("Best day for the market?");
    await composer.getByLabel("Option 1").fill("Saturday");
    await composer.getByLabel("Option 2").fill("Sunday");
    await composer.getByRole("button", { name: "Post" }).click();
    await admin.page.getByText("Best day for the market?").waitFor();

    // Fay has a photo everyone may see; Finn has none.
    await section(fay, "Settings");
    await fay.page.getByLabel(/^Photo/).setInputFiles({
      name: "fay.png",
      mimeType: "image/png",
      buffer: Buffer.from(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
        "base64",
      ),
    });
    await fay.page.getByText("Photo saved.").waitFor();

    for (const [person, option] of [
      [fay, "Saturday"],
      [finn, "Sunday"],
    ] as const) {
      await section(person, "Channels");
      const search = person.page.getByRole("form", { name: "Search channels" });
      await search.getByLabel("Search by name or handle").fill("nbhd");
      await search.getByRole("button", { name: "Search" }).click();
      await person.page
        .getByRole("link", { name: /Neighbourhood news/ })
        .first()
        .click();
      await person.page.getByRole("button", { name: "Follow" }).click();
      await person.page.getByRole("button", { name: "Unfollow" }).waitFor();
      const roadWorks = person.page.locator(".post", { hasText: "Road works" });
      await roadWorks.getByRole("button", { name: "React 👍" }).click();
      const poll = person.page.locator(".post", { hasText: "Best day for the market?" });
      await poll.getByRole("button", { name: new RegExp(option) }).click();
      await poll
        .getByRole("button", { name: new RegExp(option) })
        .and(person.page.locator("[aria-pressed=true]"))
        .waitFor();
    }

    // Followers see counts, live, and nothing of each other.
    const fayPoll = fay.page.locator(".post", { hasText: "Best day for the market?" });
    await fayPoll.getByText("2 voters").waitFor({ timeout: 20_000 });
    await fay.page
      .locator(".post", { hasText: "Road works" })
      .getByText("👍 2")
      .waitFor({ timeout: 20_000 });
    expect(await fay.page.content()).not.toContain("Finn");
    expect(await finn.page.content()).not.toContain("Fay");
    await fay.page.screenshot({ path: screenshotPath("channel-page"), fullPage: true });

    // The admin sees who, by name and a per-channel handle, never a number (R8).
    await admin.page.reload();
    const adminPoll = admin.page.locator(".post", { hasText: "Best day for the market?" });
    await adminPoll.getByRole("button", { name: "Who reacted and voted" }).click();
    const who = adminPoll.getByRole("region", { name: "Who reacted and voted" });
    await who.getByText("Fay Follower").waitFor();
    await who.getByText("voted Sunday").waitFor();
    // Fay's photo, fetched by her handle in this channel; Finn shows as initials.
    await who.locator("li", { hasText: "Fay Follower" }).locator("img.avatar").waitFor();
    expect(
      await who.locator("li", { hasText: "Finn Follower" }).locator("img.avatar").count(),
    ).toBe(0);
    const roadWorks = admin.page.locator(".post", { hasText: "Road works" });
    await roadWorks.getByRole("button", { name: "Who reacted" }).click();
    await roadWorks
      .getByRole("region", { name: "Who reacted and voted" })
      .getByText("Finn Follower")
      .waitFor();
    const page = await admin.page.content();
    expect(page).not.toContain("+14155550152");
    expect(page).not.toContain("+14155550153");
    await admin.page.screenshot({ path: screenshotPath("channel-admin"), fullPage: true });

    // The owner invites Finn to help; he finds the invitation and accepts it.
    const invite = admin.page.getByRole("form", { name: "Invite an admin" });
    await invite.getByLabel("Invite an admin by phone number").fill("+1 415 555 0153");
    await invite.getByRole("button", { name: "Invite" }).click();
    await admin.page.getByText("Invitation sent").waitFor();
    await section(finn, "Channels");
    await finn.page
      .getByRole("list", { name: "Invitations to administer" })
      .getByRole("link", { name: /Neighbourhood news/ })
      .click();
    await finn.page.getByRole("button", { name: "Accept and become an admin" }).click();
    await finn.page.getByRole("form", { name: "New post" }).waitFor();
  }, 180_000);

  it("filters and sorts the directory, mutes, forwards a post into a chat, and posts an image and a multi-answer poll", async () => {
    // A second channel: newer, without followers, in another category.
    await section(admin, "Channels");
    const create = admin.page.getByRole("form", { name: "Create a channel" });
    await create.getByLabel("Channel name").fill("Nbhd gardeners");
    await create.getByLabel("Handle").fill("nbhd_gardeners");
    await create.getByLabel(/^Category/).fill("gardening");
    await create.getByRole("button", { name: "Create channel" }).click();
    await admin.page.getByRole("heading", { name: /Nbhd gardeners/ }).waitFor();

    // Fay's search finds both: the popular one first, then the newest first, then by category.
    await section(fay, "Channels");
    const search = fay.page.getByRole("form", { name: "Search channels" });
    await search.getByLabel("Search by name or handle").fill("nbhd");
    await search.getByRole("button", { name: "Search" }).click();
    const found = fay.page.getByRole("list", { name: "Channels found" });
    const titles = async () =>
      (await found.locator(".chat-title").allTextContents()).map((t) => t.trim());
    await expect
      .poll(titles, { timeout: 20_000 })
      .toEqual(["Neighbourhood news", "Nbhd gardeners"]);
    await search.getByLabel("Sort by").selectOption("new");
    await expect
      .poll(titles, { timeout: 20_000 })
      .toEqual(["Nbhd gardeners", "Neighbourhood news"]);
    await search.getByLabel("Category").fill("local");
    await expect.poll(titles, { timeout: 20_000 }).toEqual(["Neighbourhood news"]);
    await found.getByRole("link", { name: /Neighbourhood news/ }).click();

    // Mute is kept by the server (it survives a reload), and undone.
    await fay.page.getByRole("button", { name: "Mute", exact: true }).click();
    await fay.page.getByRole("button", { name: "Unmute", exact: true }).waitFor();
    await fay.page.reload();
    await fay.page.getByRole("button", { name: "Unmute", exact: true }).click();
    await fay.page.getByRole("button", { name: "Mute", exact: true }).waitFor();

    // Finn, now an admin, posts an image, then a poll with several answers.
    const composer = finn.page.getByRole("form", { name: "New post" });
    await composer.getByLabel("Post to the channel").fill("The new bench on Elm St");
    await composer.getByLabel(/^Image or file/).setInputFiles({
      name: "bench.png",
      mimeType: "image/png",
      buffer: Buffer.from(
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGMwmGAARAwQCgAaTgPBtOyrGwAAAABJRU5ErkJggg==",
        "base64",
      ),
    });
    await composer.getByRole("button", { name: "Post" }).click();
    await finn.page.locator(".post", { hasText: "The new bench on Elm St" }).waitFor();
    await composer.getByLabel("Add a poll").check();
    await composer.getByLabel("Question").fill("What should we plant?");
    await composer.getByLabel("Option 1").fill("Tulips");
    await composer.getByLabel("Option 2").fill("Roses");
    await composer.getByRole("button", { name: "Add an option" }).click();
    await composer.getByLabel("Option 3").fill("Daisies");
    await composer.getByLabel("Allow several answers").check();
    await composer.getByRole("button", { name: "Post" }).click();

    // Fay gets both live: the image, fetched and shown from a blob; the poll, where she picks two.
    const bench = fay.page.locator(".post", { hasText: "The new bench on Elm St" });
    await bench.locator("img.post-media").waitFor({ timeout: 20_000 });
    expect(await bench.locator("img.post-media").getAttribute("src")).toMatch(/^blob:/);
    const plant = fay.page.locator(".post", { hasText: "What should we plant?" });
    const option = (name: string) => plant.getByRole("button", { name: new RegExp(name) });
    await plant.waitFor({ timeout: 20_000 });
    for (const name of ["Tulips", "Daisies"]) {
      await option(name).click();
      await option(name).and(fay.page.locator("[aria-pressed=true]")).waitFor();
    }
    await plant.getByText("1 voter · several answers allowed").waitFor();
    expect(await option("Roses").getAttribute("aria-pressed")).toBe("false");

    // Finn closes the poll: Fay sees it closed, live, her two answers kept, no more voting.
    const finnPlant = finn.page.locator(".post", { hasText: "What should we plant?" });
    await finnPlant.getByText("1 voter").waitFor({ timeout: 20_000 });
    await finnPlant.getByRole("button", { name: "Close poll" }).click();
    await finnPlant.getByText(/· closed/).waitFor();
    await plant.getByText(/· closed/).waitFor({ timeout: 20_000 });
    expect(await option("Tulips").isDisabled()).toBe(true);
    expect(await option("Tulips").getAttribute("aria-pressed")).toBe("true");
    expect(await option("Daisies").getAttribute("aria-pressed")).toBe("true");

    // Fay forwards a post into a chat with Ada; the text links back to the channel, and
    // Ada opens the channel from it.
    const roadWorks = fay.page.locator(".post", { hasText: "Road works" });
    await roadWorks.getByRole("button", { name: "Forward" }).click();
    const forwarded = await roadWorks.getByLabel(/Copy to forward/).inputValue();
    expect(forwarded).toContain("Road works on Main St this week");
    expect(forwarded).toMatch(/Forwarded from @nbhd_news: veil:\/\/channel\/nbhd_news\/\d+/);
    await section(fay, "Chats");
    await fay.page.getByRole("textbox", { name: "New chat" }).fill("+1 415 555 0151");
    await fay.page.getByRole("button", { name: "Start" }).click();
    await fay.page.getByRole("heading", { name: "Ada Admin" }).waitFor({ timeout: 20_000 });
    await fay.page.getByRole("textbox", { name: "Message" }).fill(forwarded);
    await fay.page.getByRole("button", { name: "Send" }).click();
    await section(admin, "Chats");
    await admin.page.getByRole("link", { name: /Fay Follower/ }).click({ timeout: 20_000 });
    const received = messages(admin).locator(".bubble.theirs .text", {
      hasText: "Forwarded from @nbhd_news",
    });
    await received.waitFor({ timeout: 20_000 });
    expect(await received.textContent()).toBe(forwarded);
    expect(fay.traffic.sent.join("\n")).not.toContain("Forwarded from @nbhd_news");
    await section(admin, "Channels");
    const openLink = admin.page.getByRole("form", { name: "Open a channel link" });
    await openLink.getByLabel(/Open a forwarded post/).fill(forwarded);
    await openLink.getByRole("button", { name: "Open" }).click();
    await admin.page.getByRole("heading", { name: /Neighbourhood news/ }).waitFor();
  }, 180_000);
});

describe.runIf(chromiumAvailable)("web client: calls in the browser", () => {
  let carol: Person;
  let dave: Person;

  beforeAll(async () => {
    carol = await openPerson(browser, server.url);
    dave = await openPerson(browser, server.url);
    await signUp(carol, server, { name: "Carol Caller", phone: "+1 415 555 0161" });
    await signUp(dave, server, { name: "Dave Callee", phone: "+1 415 555 0162" });
    await carol.page.getByRole("textbox", { name: "New chat" }).fill("+1 415 555 0162");
    await carol.page.getByRole("button", { name: "Start" }).click();
    await carol.page.getByRole("textbox", { name: "Message" }).fill("call you in a minute");
    await carol.page.getByRole("button", { name: "Send" }).click();
    await dave.page.getByRole("link", { name: /Carol Caller/ }).click({ timeout: 20_000 });
    await messages(dave).getByText("call you in a minute").waitFor({ timeout: 20_000 });
  }, 120_000);
  afterAll(() => leave([carol, dave]));

  const overlay = (p: Person) => p.page.getByRole("dialog", { name: "Call" });
  const received = async (p: Person) =>
    Number(((await overlay(p).locator(".call-bytes").textContent()) ?? "").replace(/\D/g, ""));
  const framesOpened = async (p: Person) =>
    Number(await overlay(p).locator(".call-tile").getAttribute("data-frames-opened"));

  it("runs a video call: both sides receive media over a checked connection, and both hang up", async () => {
    await carol.page.getByRole("button", { name: "Video call" }).click();
    await overlay(carol).getByText("Calling Dave Callee…").waitFor({ timeout: 20_000 });
    await overlay(dave)
      .getByText("Carol Caller is calling you (video call)")
      .waitFor({ timeout: 20_000 });
    await overlay(dave).getByRole("button", { name: "Accept" }).click();
    for (const p of [carol, dave]) {
      await overlay(p)
        .getByText(/In a video call with/)
        .waitFor({ timeout: 30_000 });
      // The DTLS certificate matched the fingerprint sent inside MLS.
      await overlay(p)
        .getByText(/connection's key was checked/)
        .waitFor();
    }
    // Bytes received grow on both sides (WebRTC stats), and every frame opens with the chat's key.
    for (const p of [carol, dave]) {
      const first = await received(p);
      await expect.poll(() => received(p), { timeout: 20_000 }).toBeGreaterThan(first);
      await expect.poll(() => framesOpened(p), { timeout: 20_000 }).toBeGreaterThan(0);
    }
    await carol.page.screenshot({ path: screenshotPath("call") });
    // Carol switches camera mid-call: the new track replaces the old, and Dave still receives.
    await overlay(carol).getByLabel("Camera").selectOption({ index: 1 });
    const afterSwitch = await received(dave);
    await expect.poll(() => received(dave), { timeout: 20_000 }).toBeGreaterThan(afterSwitch);
    expect(
      await overlay(carol)
        .getByText(/In a video call with/)
        .count(),
    ).toBe(1);
    await overlay(carol).getByRole("button", { name: "Hang up" }).click();
    await overlay(dave).getByText("Call ended").waitFor({ timeout: 20_000 });
    await overlay(carol).getByText("Call ended").waitFor();
    for (const p of [carol, dave]) {
      await overlay(p).getByRole("button", { name: "Close" }).click();
      await messages(p)
        .getByText(/(Incoming|Outgoing) video call · \d+:\d\d/)
        .waitFor({ timeout: 20_000 });
    }
  }, 120_000);

  it("shows a declined call and a missed call in the history", async () => {
    await carol.page.getByRole("button", { name: "Voice call" }).click();
    await overlay(dave).getByRole("button", { name: "Decline" }).click({ timeout: 20_000 });
    await overlay(carol).getByText("Declined").waitFor({ timeout: 20_000 });
    await overlay(carol).getByRole("button", { name: "Close" }).click();
    await messages(carol).getByText("Voice call declined").waitFor({ timeout: 20_000 });
    await overlay(dave).getByRole("button", { name: "Close" }).click();

    // Carol gives up before Dave answers: a missed call on his side.
    await carol.page.getByRole("button", { name: "Voice call" }).click();
    await overlay(dave)
      .getByText(/is calling you/)
      .waitFor({ timeout: 20_000 });
    await overlay(carol).getByRole("button", { name: "Cancel" }).click();
    await overlay(dave).getByText("Missed call").waitFor({ timeout: 20_000 });
    await messages(dave).getByText("Missed voice call").waitFor({ timeout: 20_000 });
    await messages(carol).getByText("Voice call cancelled").waitFor({ timeout: 20_000 });
  }, 120_000);
});

describe.runIf(chromiumAvailable)("web client: a group call", () => {
  let gina: Person;
  let hugo: Person;
  let ivy: Person;

  beforeAll(async () => {
    [gina, hugo, ivy] = (await Promise.all(
      [0, 1, 2].map(() => openPerson(browser, server.url)),
    )) as [Person, Person, Person];
    // Tests reach the call manager as window.veilCalls (see debugCalls in use-calls.ts).
    for (const p of [gina, hugo, ivy]) {
      await p.context.addInitScript(() => localStorage.setItem("veil.debug", "calls"));
      await p.page.reload();
    }
    await signUp(gina, server, { name: "Gina Group", phone: "+1 415 555 0171" });
    await signUp(hugo, server, { name: "Hugo Group", phone: "+1 415 555 0172" });
    await signUp(ivy, server, { name: "Ivy Group", phone: "+1 415 555 0173" });
    await gina.page
      .getByRole("textbox", { name: "New chat" })
      .fill("+1 415 555 0172, +1 415 555 0173");
    await gina.page.getByRole("button", { name: "Start" }).click();
    await gina.page.getByRole("textbox", { name: "Message" }).fill("group call in a minute");
    await gina.page.getByRole("button", { name: "Send" }).click();
    for (const p of [hugo, ivy]) {
      await p.page.getByRole("link", { name: /Group/ }).click({ timeout: 30_000 });
      await messages(p).getByText("group call in a minute").waitFor({ timeout: 30_000 });
    }
    for (const p of [gina, hugo, ivy]) {
      expect(p.traffic.sent.join("\n")).not.toContain("group call in a minute");
    }
  }, 180_000);

  type Calls = {
    probe(): Promise<unknown>;
    heldKeys(): unknown;
    opens(probe: unknown, keys?: unknown): Promise<boolean>;
  };
  const overlay = (p: Person) => p.page.getByRole("dialog", { name: "Call" });
  const tile = (p: Person, name: string) => overlay(p).getByRole("figure", { name });
  const opened = async (p: Person, name: string) =>
    Number(await tile(p, name).getAttribute("data-frames-opened"));
  const keyEpoch = async (p: Person) =>
    Number(await overlay(p).locator(".call-key").getAttribute("data-epoch"));
  const probe = (p: Person) =>
    p.page.evaluate(() => (window as unknown as { veilCalls: Calls }).veilCalls.probe());
  const heldKeys = (p: Person) =>
    p.page.evaluate(() => (window as unknown as { veilCalls: Calls }).veilCalls.heldKeys());
  const opens = (p: Person, sealed: unknown, keys?: unknown) =>
    p.page.evaluate(
      ([s, k]) => (window as unknown as { veilCalls: Calls }).veilCalls.opens(s, k ?? undefined),
      [sealed, keys ?? null] as const,
    );
  /** Frames from `name` keep opening on `p`'s side. */
  const stillOpening = async (p: Person, name: string) => {
    const before = await opened(p, name);
    await expect.poll(() => opened(p, name), { timeout: 20_000 }).toBeGreaterThan(before);
  };

  it("runs a 3-person video call with every frame sealed, and a removed member cannot open what follows", async () => {
    await gina.page.getByRole("button", { name: "Video call" }).click();
    await overlay(gina).getByText("Calling the group…").waitFor({ timeout: 20_000 });
    for (const p of [hugo, ivy]) {
      await overlay(p)
        .getByText("Gina Group is calling you (group video call)")
        .waitFor({ timeout: 20_000 });
      await overlay(p).getByRole("button", { name: "Join" }).click();
    }
    const names = new Map([
      [gina, "Gina Group"],
      [hugo, "Hugo Group"],
      [ivy, "Ivy Group"],
    ]);
    // A mesh: each of the three receives, and opens, the frames of the other two.
    for (const [p, me] of names) {
      await overlay(p).getByText("In a group video call · 3 people").waitFor({ timeout: 30_000 });
      for (const other of [...names.values()].filter((n) => n !== me)) {
        await tile(p, `🔒 ${other}`).or(tile(p, other)).waitFor();
        await expect.poll(() => opened(p, other), { timeout: 30_000 }).toBeGreaterThan(0);
      }
    }
    await gina.page.screenshot({ path: screenshotPath("group-call") });

    // What Ivy holds opens what Gina seals, for now.
    const ivyKeys = await heldKeys(ivy);
    expect(await opens(ivy, await probe(gina), ivyKeys)).toBe(true);
    const epoch = await keyEpoch(gina);

    // Gina removes Ivy from the group: a commit, a new epoch, a new key for those who remain.
    await gina.page.getByRole("button", { name: /3 members/ }).click();
    // The call panel folds away so the list under it can be reached.
    await overlay(gina).getByRole("button", { name: "Minimise" }).click();
    await gina.page.getByRole("button", { name: "Remove Ivy Group" }).click();
    await overlay(gina).getByRole("button", { name: "Expand" }).click();
    for (const p of [gina, hugo]) {
      await expect.poll(() => keyEpoch(p), { timeout: 20_000 }).toBeGreaterThan(epoch);
    }
    await overlay(ivy)
      .getByText(/no longer in this group/)
      .waitFor({ timeout: 20_000 });
    await overlay(gina).getByText("In a group video call · 2 people").waitFor({ timeout: 20_000 });
    await stillOpening(gina, "Hugo Group");
    await stillOpening(hugo, "Gina Group");
    // Sealed after the rekey: Hugo opens it; Ivy, with every key she ever held, cannot.
    const after = await probe(gina);
    expect(await opens(hugo, after)).toBe(true);
    expect(await opens(ivy, after, ivyKeys)).toBe(false);

    // Gina leaves: Hugo is alone, so the call ends for him too.
    await overlay(gina).getByRole("button", { name: "Leave" }).click();
    await overlay(hugo).getByText("Call ended").waitFor({ timeout: 20_000 });
    await overlay(hugo).getByRole("button", { name: "Close" }).click();
    await messages(hugo)
      .getByText(/Incoming group video call · \d+:\d\d/)
      .waitFor({ timeout: 20_000 });
  }, 180_000);
});
