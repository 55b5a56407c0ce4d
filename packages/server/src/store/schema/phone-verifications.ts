/** A code sent to a phone number; consumed when used. */
export interface PhoneVerificationsTable {
  id: string;
  phone: string;
  code_hash: string;
  attempts: number;
  expires_at: number;
}
