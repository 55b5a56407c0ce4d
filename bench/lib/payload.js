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

// Group messages (relay-1to1, group-fanout): the client's message id carries
// the event number, in fixed width, so that every frame has the same size.
const messagePrefix = "msg-";
const messageDigits = 8;
const entryStart = '{"type":"group.entry",';
const idKey = `"id":"${messagePrefix}`;

/** The client id of message `seq` (`POST /v1/groups/:id/messages`). */
export function messageIdFor(seq) {
  return `${messagePrefix}${String(seq).padStart(messageDigits, "0")}`;
}

/** The event number of a `group.entry` frame (text), or -1. */
export function entrySeqOf(text) {
  if (!text.startsWith(entryStart)) return -1;
  const at = text.indexOf(idKey);
  if (at < 0) return -1;
  const from = at + idKey.length;
  const seq = Number(text.slice(from, from + messageDigits));
  return Number.isInteger(seq) ? seq : -1;
}

/**
 * The bare servers' frame for message `seq`: a `group.entry` frame Veil sent
 * (`template`, its text, carrying `templateSeq`) with the message id swapped.
 */
export function entryFrame(template, templateSeq, seq) {
  const from = `"id":"${messageIdFor(templateSeq)}"`;
  if (!template.includes(from)) throw new Error("the template frame has no message id");
  return template.replace(from, `"id":"${messageIdFor(seq)}"`);
}
