import type { LogEntry, MailboxItem } from "@veil/protocol";
import type { Db } from "../store/database.js";
import type { GroupLogTable } from "../store/schema/group-log.js";
import type { MailboxTable } from "../store/schema/mailbox.js";

/** The most log entries or mailbox items one read returns. */
export const maxPage = 500;

export function toLogEntry(row: GroupLogTable): LogEntry {
  return {
    groupId: row.group_id,
    seq: row.seq,
    kind: row.kind,
    epoch: row.epoch,
    senderDeviceId: row.sender_device_id,
    id: row.client_id,
    data: Buffer.from(row.data).toString("base64url"),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Mailbox rows with the shared Welcome they point at, newest last. */
export function mailboxRows(db: Db, deviceId: string) {
  return db
    .selectFrom("mailbox")
    .leftJoin("welcomes", "welcomes.id", "mailbox.welcome_id")
    .selectAll("mailbox")
    .select("welcomes.data as welcome_data")
    .where("mailbox.device_id", "=", deviceId)
    .orderBy("mailbox.seq");
}

export function toMailboxItem(row: MailboxTable & { welcome_data: Buffer | null }): MailboxItem {
  const data = row.welcome_data ?? row.data;
  return {
    seq: row.seq,
    kind: row.kind,
    groupId: row.group_id,
    data: data ? Buffer.from(data).toString("base64url") : null,
    joinedSeq: row.joined_seq,
    deviceId: row.device_ref,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
