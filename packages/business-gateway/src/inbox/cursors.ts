import { CloudError } from "../cloud-errors.js";

/** An opaque page cursor: the sort key of the last item, base64url JSON. */
export const encodeCursor = (at: number, id: string): string =>
  Buffer.from(JSON.stringify([at, id]), "utf8").toString("base64url");

export function decodeCursor(cursor: string | undefined): { at: number; id: string } | null {
  if (cursor === undefined) return null;
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === "string"
    )
      return { at: value[0] as number, id: value[1] };
  } catch {}
  throw new CloudError("parameter_invalid", "cursor is not valid");
}
