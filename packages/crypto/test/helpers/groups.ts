import {
  createGroup,
  type Group,
  generateKeyPackage,
  joinGroup,
  type MlsSuite,
} from "@veil/crypto";

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A credential id shaped like the server's device ids. */
export const deviceId = (name: string): string => `d_${name}`;

/** A group made by `ids[0]` that adds everyone else in one commit; every member joined. */
export async function groupOf(suite: MlsSuite, groupId: string, ids: string[]): Promise<Group[]> {
  const [creator, ...rest] = ids;
  if (creator === undefined) throw new Error("A group needs a creator");
  const bundles = await Promise.all(rest.map((id) => generateKeyPackage(suite, id)));
  const first = await createGroup(suite, groupId, creator);
  if (bundles.length === 0) return [first];
  const { welcome, next } = await first.add(bundles.map((b) => b.publicKeyPackage));
  const joined = await Promise.all(
    bundles.map((b) => joinGroup(suite, welcome, b.privateKeyPackage, b.publicKeyPackage)),
  );
  return [next, ...joined];
}

/** Every member in `groups` except `except` processes `message`; returns the new groups. */
export async function deliver(
  groups: Group[],
  message: Uint8Array,
  except: number,
): Promise<Group[]> {
  return Promise.all(
    groups.map(async (g, i) => (i === except ? g : (await g.process(message)).next)),
  );
}
