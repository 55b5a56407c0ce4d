/** A user who administers a group (all of the user's devices act as admin). */
export interface GroupAdminsTable {
  group_id: string;
  user_id: string;
}
