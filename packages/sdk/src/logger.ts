/**
 * Where the SDK reports what it does, pino-style (`logger.warn({ groupId }, "…")`).
 * It logs ids only: never message content, names, phone numbers, keys or tokens.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  warn() {},
};
