import type { BusinessCategory } from "@veil/protocol";
import type { Generated } from "kysely";

/** An account that is a business, and the profile its customers see (0013). */
export interface BusinessProfilesTable {
  user_id: string;
  name: string;
  description: string;
  category: BusinessCategory;
  email: string | null;
  website: string | null;
  address: string | null;
  /** 1: a platform admin verified that the name is the business's. */
  verified: Generated<number>;
  created_at: number;
  updated_at: number;
}
