/** An MLS Welcome, stored once however many added devices' mailboxes point at it. */
export interface WelcomesTable {
  id: string;
  data: Buffer;
  created_at: number;
}
