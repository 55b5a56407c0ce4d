/** The Cloud API's webhook shapes, as this gateway fills them. */

export interface Metadata {
  display_phone_number: string;
  phone_number_id: string;
}

export type InboundMessage = {
  from: string;
  id: string;
  timestamp: string;
  context?: { from: string; id: string };
} & (
  | { type: "text"; text: { body: string }; veil_insights?: Record<string, unknown> }
  | { type: "reaction"; reaction: { message_id: string; emoji: string } }
);

export interface StatusUpdate {
  id: string;
  status: "sent" | "delivered" | "read";
  timestamp: string;
  recipient_id: string;
}

const seconds = (ms: number): string => String(Math.floor(ms / 1000));

function envelope(metadata: Metadata, value: Record<string, unknown>) {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: metadata.phone_number_id,
        changes: [
          { field: "messages", value: { messaging_product: "whatsapp", metadata, ...value } },
        ],
      },
    ],
  };
}

/** The payload of one incoming message: text, a reaction, or media (src/media/media-payloads.ts). */
export function messagesPayload(
  metadata: Metadata,
  contact: { waId: string; name: string },
  message: { from: string; id: string; timestamp: string; type: string },
) {
  return envelope(metadata, {
    contacts: [{ profile: { name: contact.name }, wa_id: contact.waId }],
    messages: [message],
  });
}

export function statusesPayload(metadata: Metadata, status: StatusUpdate) {
  return envelope(metadata, { statuses: [status] });
}

export const unixSeconds = seconds;
