import type { MlsSuite } from "@veil/crypto";
import type { ApiClient } from "./api-client.js";
import { asVeilError } from "./errors.js";
import type { Emitter, VeilEvents } from "./events.js";
import type { DeviceIdentity } from "./identity.js";
import type { LocalState } from "./local-state.js";
import type { Logger } from "./logger.js";

/** What the parts of a signed-in client share. Internal to the SDK. */
export interface ClientContext {
  api: ApiClient;
  state: LocalState;
  suite: MlsSuite;
  identity: DeviceIdentity;
  userId: string;
  deviceId: string;
  events: Emitter<VeilEvents>;
  logger: Logger;
  keyPackageTarget: number;
  autoDeliveryReceipts: boolean;
  /** True once the client is stopping: background work winds down. */
  closed: () => boolean;
  /** Work started in the background, which `stop()` waits for. */
  track: (work: Promise<unknown>) => void;
}

/** Emits an error event (and logs its code: never content). */
export function reportError(
  context: ClientContext,
  error: unknown,
  where: { groupId?: string | null; seq?: number | null } = {},
): void {
  const veilError = asVeilError(error, "bad_response");
  context.logger.warn(
    { code: veilError.code, groupId: where.groupId ?? null, seq: where.seq ?? null },
    "client error",
  );
  context.events.emit("error", {
    error: veilError,
    groupId: where.groupId ?? null,
    seq: where.seq ?? null,
  });
}
