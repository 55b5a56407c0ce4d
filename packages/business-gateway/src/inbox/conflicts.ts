import { CloudError } from "../cloud-errors.js";
import type { Database } from "../store/database.js";

/** A unique-constraint violation as the inbox's 409 `conflict` (with `message`); anything else rethrown. */
export function conflictOnDuplicate(database: Database, error: unknown, message: string): never {
  if (database.isUniqueViolation(error)) throw new CloudError("conflict", message);
  throw error;
}
