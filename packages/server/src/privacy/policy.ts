import type {
  BusinessCard,
  Presence,
  PrivacyAudience,
  PrivacySettings,
  VisibleProfile,
} from "@veil/protocol";

/**
 * The privacy model (docs/privacy-model.md) as one
 * family of pure functions. Every read of another user's profile, anywhere
 * in the server, goes through `visibleProfile`.
 */

/** Everything about the subject that a rule could reveal. */
export interface Subject {
  id: string;
  name: string;
  phone: string | null;
  username: string | null;
  photo: string | null;
  about: string;
  presence: Presence;
  privacy: PrivacySettings;
  /**
   * The business profile when S is a business account, else null. It adds to
   * what the rules grant (the card, and the business name as `name`); it never
   * changes which rules hold. R12 concerns the business's agents, who are not
   * Veil users (they live in the business's own gateway), so nothing here
   * could name them.
   */
  business: BusinessCard | null;
}

/**
 * How viewer V relates to subject S. Each flag is a fact the stores
 * establish; the policy alone decides what the facts reveal.
 */
export interface Relations {
  /** V is S (R1). */
  self: boolean;
  /** S has V in S's address book: what `contacts` settings test. */
  subjectHasViewerAsContact: boolean;
  /** V has S in V's address book (R2). */
  viewerHasSubjectAsContact: boolean;
  /** V and S share a 1:1 chat (R2). */
  directChat: boolean;
  /** V found S by looking up S's current phone number (R2). */
  foundByPhone: boolean;
  /** V and S are both members of one ordinary group (R3). */
  sharedGroup: boolean;
  /** S is an admin of a community V belongs to (R5). */
  subjectAdminsViewersCommunity: boolean;
  /** V is an admin of a community S belongs to (R6). */
  viewerAdminsSubjectsCommunity: boolean;
  /**
   * S asked to join a space and V decides on the request: a group V
   * administers, or any group V is in when it does not approve new members
   * (then any member may add), or a community V administers. V sees what R5
   * shows (id, name, photo if allowed). S chose to ask; S sees nothing more of V.
   */
  askedToJoinViewersSpace: boolean;
  /** V and S are both admins of one channel (R10). */
  coChannelAdmins: boolean;
  /**
   * V is a business (or its agent) and S wrote to it (R11). It grants as R2,
   * in addition to every other rule: it never takes a grant away.
   */
  customerOfViewerBusiness: boolean;
  /** S has blocked V (B). */
  blockedBySubject: boolean;
}

/** No relation at all (R13). Relations that R4, R7, R9 and R12 describe grant nothing. */
export const noRelations: Relations = {
  self: false,
  subjectHasViewerAsContact: false,
  viewerHasSubjectAsContact: false,
  directChat: false,
  foundByPhone: false,
  sharedGroup: false,
  subjectAdminsViewersCommunity: false,
  viewerAdminsSubjectsCommunity: false,
  askedToJoinViewersSpace: false,
  coChannelAdmins: false,
  customerOfViewerBusiness: false,
  blockedBySubject: false,
};

type Field = Exclude<keyof VisibleProfile, "id" | "business">;
type Grant = Set<Field | "id">;

/** allowed(setting) of PRIVACY-MODEL.md. */
export function allowed(audience: PrivacyAudience, relations: Relations): boolean {
  switch (audience) {
    case "everyone":
      return true;
    case "contacts":
      return relations.subjectHasViewerAsContact;
    case "nobody":
      return false;
  }
}

/** The fields each rule grants V; their union is what V sees. */
function grants(subject: Subject, r: Relations): Grant {
  const granted: Grant = new Set();
  const grant = (...fields: Array<Field | "id">) => {
    for (const f of fields) granted.add(f);
  };
  const ifAllowed = (field: "phone" | "photo" | "about" | "presence") => {
    if (allowed(subject.privacy[field], r)) grant(field);
  };

  if (r.self) {
    grant("id", "name", "phone", "username", "photo", "about", "presence");
    return granted;
  }
  // A business account (as subject or as viewer) is related by R1-R13 like any
  // account: "when several rules hold, V sees the union of what each grants".
  // R2, and R11 which grants as R2.
  if (r.directChat || r.viewerHasSubjectAsContact || r.foundByPhone || r.customerOfViewerBusiness) {
    grant("id", "name", "username");
    if (r.foundByPhone) grant("phone");
    for (const f of ["phone", "photo", "about", "presence"] as const) ifAllowed(f);
  }
  // R3: co-members of an ordinary group always see each other's number.
  if (r.sharedGroup) {
    grant("id", "name", "phone", "username");
    for (const f of ["photo", "about", "presence"] as const) ifAllowed(f);
  }
  // R5, and a request to join shown to those who decide on it.
  if (r.subjectAdminsViewersCommunity || r.askedToJoinViewersSpace) {
    grant("id", "name");
    ifAllowed("photo");
  }
  // R6
  if (r.viewerAdminsSubjectsCommunity) {
    grant("id", "name", "phone");
    ifAllowed("photo");
  }
  // R10
  if (r.coChannelAdmins) {
    grant("id", "name", "phone");
    ifAllowed("photo");
  }
  // B: a subject who blocked V shows V at most id and name.
  if (r.blockedBySubject) {
    for (const f of granted) if (f !== "id" && f !== "name") granted.delete(f);
  }
  return granted;
}

/**
 * What viewer V may see of subject S, or null when no rule grants V anything
 * of S (V must then be answered exactly as if S did not exist).
 *
 * @example visibleProfile(subject, { ...noRelations, viewerHasSubjectAsContact: true })
 */
export function visibleProfile(subject: Subject, relations: Relations): VisibleProfile | null {
  const granted = grants(subject, relations);
  if (!granted.has("id")) return null;
  const profile: VisibleProfile = { id: subject.id };
  // A business is named by its business name, its public identity, to everyone
  // the rules show it to (its own personal name is in GET /v1/me).
  if (granted.has("name")) profile.name = subject.business?.name ?? subject.name;
  if (granted.has("phone") && subject.phone !== null) profile.phone = subject.phone;
  if (granted.has("username") && subject.username !== null) profile.username = subject.username;
  if (granted.has("photo") && subject.photo !== null) profile.photo = subject.photo;
  if (granted.has("about")) profile.about = subject.about;
  if (granted.has("presence")) profile.presence = subject.presence;
  // The card is public business information: it goes with any visible profile,
  // except to someone the business blocked (B: at most id and name).
  if (subject.business !== null && (relations.self || !relations.blockedBySubject)) {
    profile.business = businessCard(subject.business);
  }
  return profile;
}

/** A copy, so that no caller can change the subject's card through a profile. */
function businessCard(card: BusinessCard): BusinessCard {
  return { ...card, contact: { ...card.contact } };
}

/**
 * R13: the answer to a lookup by S's exact phone number, when S is
 * discoverable: id, name and photo if allowed, plus whatever other rules
 * already grant (the union). After it, V "found S by phone" (R2) for later reads.
 */
export function phoneLookupProfile(subject: Subject, relations: Relations): VisibleProfile | null {
  if (!subject.privacy.discoverableByPhone) return visibleProfile(subject, relations);
  const lookup: VisibleProfile = { id: subject.id, name: subject.business?.name ?? subject.name };
  if (!relations.blockedBySubject && allowed(subject.privacy.photo, relations) && subject.photo) {
    lookup.photo = subject.photo;
  }
  if (subject.business !== null && (relations.self || !relations.blockedBySubject)) {
    lookup.business = businessCard(subject.business);
  }
  return { ...lookup, ...(visibleProfile(subject, relations) ?? {}) };
}

/**
 * R8: a follower as a channel admin sees them, next to their reaction or
 * vote: the per-channel pseudonymous handle, the name, and the photo only if
 * the follower's photo setting allows it to this admin (never to one the
 * follower blocked). Never the phone, the username or the user id.
 */
export function channelFollowerView(
  subject: Subject,
  relations: Relations,
  handle: string,
  photoPath: string,
): { handle: string; name: string; photo?: string } {
  return followerPhotoAllowed(subject, relations)
    ? { handle, name: subject.name, photo: photoPath }
    : { handle, name: subject.name };
}

/**
 * Whether a channel admin may see a follower's photo (R8). The photo is then
 * served under the follower's per-channel handle, never by its own id, which
 * would be the same in every channel and let admins match followers across them.
 */
export function followerPhotoAllowed(subject: Subject, relations: Relations): boolean {
  return (
    subject.photo !== null &&
    !relations.blockedBySubject &&
    allowed(subject.privacy.photo, relations)
  );
}
