import { MlsError } from "@veil/crypto";
import { fromBase64Url } from "./encoding.js";
import { VeilError } from "./errors.js";
import type { Member } from "./events.js";
import type { Groups, LoadedGroup, PlannedCommit } from "./groups.js";

export interface ClaimedPackage {
  userId: string;
  deviceId: string;
  keyPackage: string;
}

/** A commit adding the claimed devices that are not members yet; null when all are. */
export async function planAdd(
  groups: Groups,
  loaded: LoadedGroup,
  claimed: readonly ClaimedPackage[],
): Promise<PlannedCommit | null> {
  const present = new Set(loaded.group.members().map((m) => m.credentialId));
  const toAdd = claimed.filter((c) => !present.has(c.deviceId));
  if (toAdd.length === 0) return null;
  const packages = toAdd.map((c) => {
    const bytes = fromBase64Url(c.keyPackage);
    if (!bytes) throw new VeilError("bad_response", "A claimed key package is not base64url");
    return bytes;
  });
  try {
    const { commit, next, welcome } = await groups.mls(() => loaded.group.add(packages));
    return {
      commit,
      next,
      welcome,
      addDevices: toAdd.map((c) => ({ userId: c.userId, deviceId: c.deviceId })),
      removeDevices: [],
    };
  } catch (err) {
    if (err instanceof MlsError && err.code === "invalid_key_package") {
      throw new VeilError("key_packages_unavailable", "A claimed key package cannot be used", {
        cause: err,
      });
    }
    throw err;
  }
}

/** A commit removing those of `deviceIds` still in the tree; null when none is. */
export async function planRemove(
  loaded: LoadedGroup,
  deviceIds: readonly string[],
): Promise<PlannedCommit | null> {
  const present = new Set(loaded.group.members().map((m) => m.credentialId));
  const toRemove = deviceIds.filter((d) => present.has(d) && d !== loaded.group.myCredentialId);
  if (toRemove.length === 0) return null;
  const { commit, next } = await loaded.group.remove(toRemove);
  const removeDevices: Member[] = toRemove.map((d) => ({
    userId: loaded.meta.members[d] ?? null,
    deviceId: d,
  }));
  return { commit, next, addDevices: [], removeDevices };
}
