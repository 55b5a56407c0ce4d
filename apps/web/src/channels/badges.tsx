/** The verified badge a platform admin gives a channel. */
export function VerifiedBadge() {
  return (
    <span className="verified-badge" title="Verified">
      <span aria-hidden="true">✔</span>
      <span className="visually-hidden">verified</span>
    </span>
  );
}

/** "1 follower", "1,024 followers". */
export function followers(count: number): string {
  return `${count.toLocaleString()} ${count === 1 ? "follower" : "followers"}`;
}
