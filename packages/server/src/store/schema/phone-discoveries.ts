/**
 * viewer_id found subject_id by looking up `phone`. Rule R2 holds while the
 * subject still has that number.
 */
export interface PhoneDiscoveriesTable {
  viewer_id: string;
  subject_id: string;
  phone: string;
  created_at: number;
}
