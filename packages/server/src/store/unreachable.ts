/** Socket errors, and PostgreSQL's connection-exception and operator-intervention classes. */
const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
]);
const unreachableStates = /^(08|57P0[1-3])/;
const unreachableMessages = /^(Connection terminated|timeout exceeded when trying to connect)/;

/**
 * True when a request failed because the database could not be reached (down,
 * restarting, a network cut): the client may retry, and the pool reconnects by itself.
 */
export function unreachableStorage(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (unreachableCodes.has(code) || unreachableStates.test(code))) {
    return true;
  }
  return typeof message === "string" && unreachableMessages.test(message);
}
