/** A profile photo. Served only to viewers whom the owner's photo setting allows. */
export interface PhotosTable {
  id: string;
  user_id: string;
  content_type: string;
  bytes: Buffer;
  created_at: number;
}
