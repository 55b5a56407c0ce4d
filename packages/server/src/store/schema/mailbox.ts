/** Per-device items that are not group log entries: welcomes, low key-package stock. */
export interface MailboxTable {
  device_id: string;
  seq: number;
  kind:
    | "welcome"
    | "key_packages_low"
    | "device_linked"
    | "remove_device"
    | "removed_from_group"
    | "join_request"
    | "announcement_joined";
  group_id: string | null;
  data: Buffer | null;
  joined_seq: number | null;
  /** welcome: the shared Welcome (`data` is then null). */
  welcome_id: string | null;
  /** device_linked, remove_device: the device concerned. */
  device_ref: string | null;
  created_at: number;
}
