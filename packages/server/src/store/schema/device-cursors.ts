/** How far a device has read a group's log. */
export interface DeviceCursorsTable {
  device_id: string;
  group_id: string;
  seq: number;
}
