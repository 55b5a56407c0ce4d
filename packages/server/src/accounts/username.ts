import { VeilError } from "../errors.js";

const pattern = /^[a-z][a-z0-9._]{2,31}$/;

/** Lowercases and checks a username, or fails with `username_invalid`. */
export function normalizeUsername(input: string): string {
  const username = input.trim().toLowerCase();
  if (!pattern.test(username)) throw new VeilError("username_invalid");
  return username;
}
