/** A JSON value, as records are kept. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A record is JSON or raw bytes (serialised MLS groups). */
export type StoreValue = Json | Uint8Array;

export type StoreOp =
  | { type: "put"; ns: string; key: string; value: StoreValue }
  | { type: "delete"; ns: string; key: string };

export interface StoreEntry {
  key: string;
  value: StoreValue;
}

/**
 * Where a client keeps its device key, session, MLS group states, private key
 * packages, cursors and outbox. Records live in namespaces; `write` applies a
 * batch atomically (all of it or none, even across a crash), which is what
 * keeps an MLS state and the cursor that goes with it in step.
 *
 * The records hold private keys: keep the store where only the user can read it.
 */
export interface VeilStore {
  get(ns: string, key: string): Promise<StoreValue | undefined>;
  /** Records of a namespace whose key starts with `prefix`, in key order. */
  list(ns: string, prefix?: string): Promise<StoreEntry[]>;
  /** Applies every operation, or none of them. */
  write(ops: readonly StoreOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Names must stay file-name and key safe: letters, digits and `-`. */
export const namespacePattern = /^[a-z][a-z0-9-]{0,31}$/;

export function checkNamespace(ns: string): void {
  if (!namespacePattern.test(ns)) throw new TypeError(`Bad store namespace: ${ns}`);
}

/** A deep copy, so that callers cannot change a stored record by accident. */
export function cloneValue(value: StoreValue): StoreValue {
  if (value instanceof Uint8Array) return value.slice();
  return structuredClone(value);
}
