/** A device gone from a group's member list whose leaf an MLS commit must still remove. */
export interface PendingRemovalsTable {
  group_id: string;
  device_id: string;
}
