/** A device in a group's MLS tree. A user is a member while any of its devices is. */
export interface GroupMembersTable {
  group_id: string;
  device_id: string;
  user_id: string;
  /** The log entry at which the device joined: it reads only what follows. */
  joined_seq: number;
}
