import type { PrivacyAudience } from "@veil/protocol";

/** An account. Times are Unix milliseconds. */
export interface UsersTable {
  id: string;
  name: string;
  /** E.164, unique when set. */
  phone: string | null;
  /** Lowercase, unique when set. */
  username: string | null;
  about: string;
  photo_id: string | null;
  privacy_phone: PrivacyAudience;
  privacy_photo: PrivacyAudience;
  privacy_about: PrivacyAudience;
  privacy_presence: PrivacyAudience;
  /** 1 or 0. */
  discoverable_by_phone: number;
  /** A platform role granted with `veil admin grant`: admin or moderator. */
  platform_role: string | null;
  created_at: number;
  updated_at: number;
}
