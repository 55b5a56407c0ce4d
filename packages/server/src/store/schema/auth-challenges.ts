/** A one-time challenge a device signs to prove it holds its private key. */
export interface AuthChallengesTable {
  id: string;
  challenge: string;
  expires_at: number;
}
