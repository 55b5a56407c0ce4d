/** At most one direct chat per pair of users (user_low < user_high). */
export interface DirectChatsTable {
  user_low: string;
  user_high: string;
  group_id: string;
}
