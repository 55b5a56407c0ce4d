/** A group whose members may download a blob (it was shared there). */
export interface BlobGrantsTable {
  blob_id: string;
  group_id: string;
  created_at: number;
}
