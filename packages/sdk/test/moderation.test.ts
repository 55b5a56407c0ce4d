import { isHeld, maxReportedMessages, type VeilClient } from "@veil/sdk/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantRole } from "../../server/src/accounts/platform-roles.js";
import { isVeilError } from "./helpers/bytes.js";
import {
  backends,
  eventually,
  introduce,
  noRateLimits,
  type Person,
  person,
  startTestServer,
  storedText,
  type TestServer,
} from "./helpers/harness.js";

for (const { backend, available } of backends) {
  describe.skipIf(!available)(`SDK reports and moderation [${backend}]`, () => {
    let t: TestServer;
    const clients: VeilClient[] = [];
    const join = async (name: string): Promise<Person> => {
      const p = await person(t, name);
      clients.push(p.client);
      return p;
    };

    beforeAll(async () => {
      t = await startTestServer({ backend, env: noRateLimits });
    });
    afterAll(async () => {
      for (const c of clients) await c.stop();
      await t?.close();
    });

    it("reports a person from an encrypted chat with only the messages the reporter ticked", async () => {
      const ann = await join("Ann");
      const bob = await join("Bob");
      const mod = await join("Moe");
      await grantRole(t.server.context.database.db, mod.userId, "moderator");
      await introduce(ann, bob);
      const { groupId } = await ann.client.startDirectChat(bob.userId);
      await bob.client.waitForChat(groupId);
      for (const text of ["hello Ann", "send me the code from your bank", "a private thing"]) {
        await bob.client.sendText(groupId, text);
      }
      await eventually(() => expect(ann.seen.texts(groupId)).toHaveLength(3));
      const mine = await ann.client.sendText(groupId, "who is this?");
      const history = await ann.client.messages(groupId);
      const scam = history.find(
        (m) => m.content.type === "text" && m.content.text.includes("bank"),
      );
      if (!scam) throw new Error("missing message");

      // Only Bob's own messages may be attached, and at most five.
      await expect(
        ann.client.reportUser(groupId, bob.userId, { reason: "fraud", attach: [mine.id] }),
      ).rejects.toSatisfy((e) => isVeilError(e, "invalid_argument"));
      await expect(
        ann.client.reportUser(groupId, bob.userId, {
          reason: "fraud",
          attach: Array(maxReportedMessages + 1).fill(scam.id),
        }),
      ).rejects.toSatisfy((e) => isVeilError(e, "invalid_argument"));

      await ann.client.reportUser(groupId, bob.userId, {
        reason: "fraud",
        note: "asked for my bank code",
        attach: [scam.id],
      });
      const queue = await mod.client.api.moderationQueue();
      const entry = queue.cases.find((c) => c.subject === "user" && c.userId === bob.userId);
      if (!entry) throw new Error("no case for the report");
      const detail = await mod.client.api.moderationCase(entry.id);
      expect(detail.reports).toHaveLength(1);
      expect(detail.reports[0]?.messages.map((m) => m.text)).toEqual([
        "send me the code from your bank",
      ]);
      // The reporter's identity is not in the case; the other messages are nowhere on the server.
      expect(JSON.stringify(detail)).not.toContain(ann.userId);
      const stored = await storedText(t, ["group_log", "mailbox"]);
      for (const text of ["hello Ann", "a private thing", "who is this?", "bank"]) {
        expect(stored).not.toContain(text);
      }
      // Someone who is not in the chat cannot report Bob from it: as if he did not exist.
      await expect(
        mod.client.reportUser(groupId, bob.userId, { reason: "fraud" }),
      ).rejects.toSatisfy(
        (e) => isVeilError(e, "group_unknown") || isVeilError(e, "user_not_found"),
      );
    });

    it("tells a channel admin when a post is held, and refuses a scam with its guideline", async () => {
      const olga = await join("Olga");
      const channel = await olga.client.createChannel({
        name: "Olga's notes",
        handle: `olga_${backend}_notes`,
      });
      const clean = await olga.client.postToChannel(
        channel.id,
        "The market opens at nine tomorrow.",
      );
      expect(isHeld(clean)).toBe(false);
      const refused = await olga.client
        .postToChannel(
          channel.id,
          "Guaranteed returns! Double your bitcoin in 24 hours, send it to my wallet now",
        )
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(isVeilError(refused, "content_rejected")).toBe(true);
      expect((refused as { category: string | null }).category).toBe("fraud");
      const moderation = await olga.client.channelModeration(channel.id);
      expect(moderation.strikes.active).toBe(0);
    });
  });
}
