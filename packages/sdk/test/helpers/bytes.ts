export { isVeilError } from "@veil/sdk";

export function fromBase64UrlForTest(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}
