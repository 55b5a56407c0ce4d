/** An MLS KeyPackage a device uploaded; one-time ones are deleted when claimed. */
export interface KeyPackagesTable {
  id: string;
  device_id: string;
  data: Buffer;
  /** 1 for the device's last-resort package (reused, never deleted by a claim). */
  last_resort: number;
  created_at: number;
}
