/**
 * A chat an account started with people who do not have it as a contact:
 * one row per chat (`direct:<peer>` or `group:<id>`), counted over the last
 * 24 hours. In the database, so every node counts the same.
 */
export interface StrangerChatsTable {
  user_id: string;
  chat_key: string;
  at: number;
}
