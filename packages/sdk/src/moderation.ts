import type { HeldItem, ReportedMessage } from "@veil/protocol";
import { VeilError } from "./errors.js";
import type { ChatMessage } from "./events.js";

/** The most messages a report may carry from a chat. */
export const maxReportedMessages = 5;

/** Whether a channel change came back held for review rather than published. */
export function isHeld(value: object): value is HeldItem {
  return "state" in value && (value as { state?: unknown }).state === "held";
}

/**
 * The messages a reporter chose to attach, as this device decrypted them: the
 * server never gets a chat's messages otherwise. Only messages `userId` sent
 * (text and captions) qualify; anything else named is refused.
 */
export function reportedMessages(
  history: ChatMessage[],
  userId: string,
  messageIds: string[],
): ReportedMessage[] {
  if (messageIds.length > maxReportedMessages) {
    throw new VeilError("invalid_argument", `At most ${maxReportedMessages} messages`);
  }
  return messageIds.map((id) => {
    const message = history.find((m) => m.id === id && m.senderUserId === userId);
    const text =
      message?.content.type === "text"
        ? message.content.text
        : message?.content.type === "attachment"
          ? message.content.caption
          : null;
    if (!message || text === null) {
      throw new VeilError("invalid_argument", "Attach only messages this person sent here");
    }
    return {
      messageId: id,
      senderUserId: userId,
      sentAt: message.sentAt,
      text: text.slice(0, 4096),
    };
  });
}
