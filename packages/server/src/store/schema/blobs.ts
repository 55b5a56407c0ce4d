/** An encrypted attachment: the server knows its hash and size, never its key or content. */
export interface BlobsTable {
  /** base64url SHA-256 of the (encrypted) bytes. */
  id: string;
  size: number;
  created_at: number;
}
