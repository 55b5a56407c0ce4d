import { createHash } from "node:crypto";
import type { AuthContext } from "../auth/sessions.js";
import { VeilError } from "../errors.js";
import type { Delivery } from "../messaging/delivery.js";
import type { Database } from "../store/database.js";
import type { BlobStore } from "./blob-store.js";

/**
 * Attachments: the client encrypts each file with a fresh key and sends the
 * key and hash inside the MLS message; the server stores the opaque bytes
 * once by hash and serves them only to members of a group they were shared in.
 */
export class Attachments {
  constructor(
    private readonly database: Database,
    private readonly store: BlobStore,
    private readonly delivery: Delivery,
    private readonly now: () => number = Date.now,
  ) {}

  async upload(
    auth: AuthContext,
    groupId: string,
    bytes: Buffer,
  ): Promise<{ id: string; size: number }> {
    // Members who may post only (group_not_found for others, as for no group).
    this.delivery.checkMaySend(await this.delivery.membership(auth, groupId));
    const id = createHash("sha256").update(bytes).digest("base64url");
    await this.store.put(id, bytes);
    const now = this.now();
    await this.database.transaction(async (tx) => {
      await tx.db
        .insertInto("blobs")
        .values({ id, size: bytes.length, created_at: now })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await tx.db
        .insertInto("blob_grants")
        .values({ blob_id: id, group_id: groupId, created_at: now })
        .onConflict((oc) => oc.doNothing())
        .execute();
    });
    return { id, size: bytes.length };
  }

  async download(auth: AuthContext, blobId: string) {
    const granted = await this.database.db
      .selectFrom("blob_grants")
      .innerJoin("group_members", "group_members.group_id", "blob_grants.group_id")
      .select("blob_grants.blob_id")
      .where("blob_grants.blob_id", "=", blobId)
      .where("group_members.device_id", "=", auth.deviceId)
      .executeTakeFirst();
    const blob = granted ? await this.store.get(blobId) : null;
    if (!blob) throw new VeilError("blob_not_found");
    return blob;
  }
}
