import { IndexedDbStore, VeilClient } from "@veil/sdk";

/** The IndexedDB database this browser profile keeps its device in. */
const storeName = "veil-device";

/**
 * Opens this browser's device: keys and MLS state stay in IndexedDB and never
 * leave the browser; the server is the page's own origin.
 */
export async function openDevice(): Promise<VeilClient> {
  const store = await IndexedDbStore.open(storeName);
  return VeilClient.open({ serverUrl: window.location.origin, store });
}
