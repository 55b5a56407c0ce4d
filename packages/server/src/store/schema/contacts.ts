/** owner_id has contact_id in its address book ("contact_id is owner_id's contact"). */
export interface ContactsTable {
  owner_id: string;
  contact_id: string;
  created_at: number;
}
