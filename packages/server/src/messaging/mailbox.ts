import type { MailboxItem } from "@veil/protocol";
import type { AuthContext } from "../auth/sessions.js";
import type { Bus } from "../bus/bus.js";
import type { Database, Db, Tx } from "../store/database.js";
import type { MailboxTable } from "../store/schema/mailbox.js";
import { mailboxRows, maxPage, toMailboxItem } from "./entries.js";

/**
 * Each device's mailbox: what is not a group log entry (welcomes, low
 * key-package stock, devices linked or to remove, removal from a group).
 */
export class Mailbox {
  constructor(
    private readonly database: Database,
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
  ) {}

  private get db(): Db {
    return this.database.db;
  }

  /** Puts an item in a device's mailbox, inside the caller's transaction. */
  async notify(
    tx: Tx,
    deviceId: string,
    item: Partial<
      Pick<MailboxTable, "group_id" | "data" | "joined_seq" | "device_ref" | "welcome_id">
    > &
      Pick<MailboxTable, "kind">,
  ): Promise<void> {
    const row = await tx.db
      .updateTable("devices")
      .set((eb) => ({ mailbox_seq: eb("mailbox_seq", "+", 1) }))
      .where("id", "=", deviceId)
      .returning("mailbox_seq")
      .executeTakeFirstOrThrow();
    await tx.db
      .insertInto("mailbox")
      .values({
        device_id: deviceId,
        seq: row.mailbox_seq,
        created_at: this.now(),
        group_id: null,
        data: null,
        joined_seq: null,
        device_ref: null,
        welcome_id: null,
        ...item,
      })
      .execute();
    tx.onCommit(() =>
      this.bus.publish({ type: "mailbox.appended", deviceId, seq: row.mailbox_seq }),
    );
  }

  async list(auth: AuthContext, after: number): Promise<MailboxItem[]> {
    const rows = await mailboxRows(this.db, auth.deviceId)
      .where("mailbox.seq", ">", after)
      .limit(maxPage)
      .execute();
    return rows.map(toMailboxItem);
  }

  /** Drops Welcomes no mailbox points at any more. */
  async prune(now: number): Promise<void> {
    await this.db
      .deleteFrom("welcomes")
      .where("created_at", "<", now - 60 * 60_000)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("mailbox")
              .select("mailbox.seq")
              .whereRef("mailbox.welcome_id", "=", "welcomes.id"),
          ),
        ),
      )
      .execute();
  }

  async ack(auth: AuthContext, upTo: number): Promise<void> {
    await this.db
      .deleteFrom("mailbox")
      .where("device_id", "=", auth.deviceId)
      .where("seq", "<=", upTo)
      .execute();
  }
}
