// The event payload, shared by the harness and the bare server so that both
// servers deliver frames of exactly the same size.

const prefix = "bench-";
const seqDigits = 6;

/** The `about` text of event `seq`: fixed width, so every frame has the same size. */
export function aboutFor(seq, bytes) {
  const head = `${prefix}${String(seq).padStart(seqDigits, "0")}-`;
  return head + "x".repeat(Math.max(0, bytes - head.length));
}

/** The event number carried in an `about` text, or -1. */
export function seqOf(about) {
  if (typeof about !== "string" || !about.startsWith(prefix)) return -1;
  const seq = Number(about.slice(prefix.length, prefix.length + seqDigits));
  return Number.isInteger(seq) ? seq : -1;
}

/**
 * The bare server's frame for event `seq`: Veil's `profile.updated` frame as
 * observed by a client, with the event's `about`. `template` is
 * `{ profile, aboutBytes }`.
 */
export function profileFrame(template, seq) {
  const profile = { ...template.profile, about: aboutFor(seq, template.aboutBytes) };
  return JSON.stringify({ type: "profile.updated", profile });
}
