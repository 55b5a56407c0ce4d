import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { VeilError } from "../errors.js";

/**
 * Normalises a phone number typed in international form ("+44 20 7946 0958")
 * to E.164 ("+442079460958"), or fails with `phone_invalid`.
 */
export function normalizePhone(input: string): string {
  const parsed = parsePhoneNumberFromString(input.trim());
  if (!parsed?.isValid()) throw new VeilError("phone_invalid");
  return parsed.number;
}
