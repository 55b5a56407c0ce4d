import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { FormatRegistry } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  type BusinessCard,
  type CommunityRole,
  type ErrorCode,
  errorRegistry,
  type GroupKind,
  type PrivacyAudience,
  type PrivacySettings,
  type ServerFrame,
  VisibleProfile,
} from "@veil/protocol";
import type { LiveSocket, TestUser } from "./client.js";

// Value.Check needs the formats the schemas use.
if (!FormatRegistry.Has("date-time")) {
  FormatRegistry.Set(
    "date-time",
    (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v)),
  );
}

/*
 * The privacy audit harness: a world model, an oracle written from the rule
 * table of /work/shared/PRIVACY-MODEL.md (never from src/privacy/policy.ts),
 * a collector of everything each user receives, and an auditor that checks
 * every person named in it against the oracle.
 *
 *   World      what the server should hold: users, contacts, blocks, phone
 *              lookups, groups (ordinary, 1:1, key channels, announcement),
 *              communities with roles, requests and suggestions. A test's
 *              driver changes it in step with each request it makes, then
 *              calls `world.commit()`: every committed state is kept, so a
 *              frame can be judged against the states around its arrival.
 *   oracle     `grantedFields(privacy, facts)`: the fields the rules grant V
 *              of S, from the facts `world.facts(v, s)` derives.
 *   Collector  records every HTTP reply a user gets (`collector.request`) and
 *              every WebSocket frame (`collector.listen`), each with the
 *              range of world states it may reflect.
 *   Auditor    walks every delivery: any id, device id, phone, name,
 *              username, photo id or about of another user found anywhere
 *              in it (values, object keys, and the bytes of MLS messages)
 *              must be granted to that viewer by the oracle (invariant 1);
 *              profile objects must equal what the rules grant.
 *   auditReads every read route for one viewer (`readRoutes`): profiles of
 *              every user (hidden ones must answer byte for byte like an id
 *              nobody has), photos, key package claims, contacts, blocks,
 *              communities and their sub-routes, every group, the mailbox.
 *
 * Adding a space (channels R7-R10, business accounts R11-R12):
 *   1. Record its facts in World (a map like `communities`), and derive the
 *      pair facts in `World.facts` (`coChannelAdmins`, `customerOfViewerBusiness`
 *      exist already; add e.g. `viewerAdminsSubjectsChannel`).
 *   2. Add the row to `grantedFields`. Rules that grant only inside one
 *      context (R8: a follower's name and photo beside their reaction; R13:
 *      the answer to a lookup) go in `AuditOptions.contextGrants`, keyed by
 *      the delivery's `where`, never in the general table.
 *   3. Add a `ReadRoute` for its read routes (see `communityRoute`): one
 *      probe per route and object, with what the answer must be, including
 *      `hidden` for anything the viewer may not know exists.
 *   4. Frames need nothing: every frame is collected and walked. A new kind
 *      of per-user identifier (an id that reaches a follower's device, say)
 *      gets a token in `Auditor.tokens` so the walker can find it.
 *
 * Use (privacy-communities.test.ts is the full example):
 *
 *   const world = new World();
 *   const collector = new Collector(world, server.url);
 *   world.addUser({ id, client, deviceIds, name, ... }); collector.listen(0, socket);
 *   world.commit();
 *   // each step: ask as a user, change the world the same way, commit.
 *   await collector.request(0, "PATCH", "/v1/me", { about: "A[1]" });
 *   world.user(0).about = "A[1]";
 *   world.commit();
 *   // then: every read as every user, and everything anyone received.
 *   collector.quiet = true;
 *   const violations = [
 *     ...(await auditReads(world, collector, 0, freshMissingIds())),
 *     ...new Auditor(world).inspectAll(collector),
 *   ];
 */

// ---------------------------------------------------------------------------
// The rule table

export type ProfileField = keyof VisibleProfile;
export const profileFields: readonly ProfileField[] = [
  "id",
  "name",
  "phone",
  "username",
  "photo",
  "about",
  "presence",
  "business",
];
type Guarded = "phone" | "photo" | "about" | "presence";

/**
 * How V relates to S, one flag per fact the rule table tests. Named after
 * the table, not after policy.ts (the oracle must not copy the code it checks).
 */
export interface PairFacts {
  /** R1: V is S. */
  self: boolean;
  /** S has V in S's address book: what `contacts` settings test. */
  subjectHasViewerAsContact: boolean;
  /** R2: S is V's contact. */
  viewerHasSubjectAsContact: boolean;
  /** R2: V and S have a 1:1 chat (both are in it). */
  directChat: boolean;
  /** R2: V found S by S's current number. */
  foundByPhone: boolean;
  /** R3: both are members of one ordinary group (in a community or not). */
  sharedGroup: boolean;
  /** R4: both are members of one community. Grants nothing: kept for reports. */
  sameCommunity: boolean;
  /** R5: S is an admin (or the owner) of a community V belongs to. */
  subjectAdminsViewersCommunity: boolean;
  /** R6: V is an admin (or the owner) of a community S belongs to. */
  viewerAdminsSubjectsCommunity: boolean;
  /**
   * RJ: S asked to join a space, waits, and V decides on it: a group V
   * administers, or any group V is in when it does not approve new members
   * (then any member may add), or a community V administers. Id, name, photo
   * if allowed (as R5), so whoever decides can see who asks; a member who
   * cannot decide sees nothing of S through it (invariant 3).
   * docs/privacy-model.md has this row; the normative table
   * (/work/shared/PRIVACY-MODEL.md) does not yet.
   */
  askedToJoinViewersSpace: boolean;
  /** R10: both administer (owner or admin) one channel. */
  coChannelAdmins: boolean;
  /** R8: V administers a channel S follows. Grants only beside S's reaction or vote (`channelInteractionContext`). */
  viewerAdminsSubjectsChannel: boolean;
  /** R9: S administers a channel V follows. Grants nothing. */
  subjectAdminsViewersChannel: boolean;
  /** R7: V and S follow one channel. Grants nothing. */
  coFollowers: boolean;
  /** R11: V is a business and S wrote to it (S opened their 1:1 chat, and both are in it). */
  customerOfViewerBusiness: boolean;
  /**
   * S is a business account: the rules relate it like any account; where they
   * show it at all, V also sees its card and its business name as `name`.
   */
  subjectIsBusiness: boolean;
  /** B: S has blocked V. */
  blockedBySubject: boolean;
}

export const noFacts: PairFacts = {
  self: false,
  subjectHasViewerAsContact: false,
  viewerHasSubjectAsContact: false,
  directChat: false,
  foundByPhone: false,
  sharedGroup: false,
  sameCommunity: false,
  subjectAdminsViewersCommunity: false,
  viewerAdminsSubjectsCommunity: false,
  askedToJoinViewersSpace: false,
  coChannelAdmins: false,
  viewerAdminsSubjectsChannel: false,
  subjectAdminsViewersChannel: false,
  coFollowers: false,
  customerOfViewerBusiness: false,
  subjectIsBusiness: false,
  blockedBySubject: false,
};

/** allowed(setting): `contacts` tests whether S has V in S's address book. */
export function admits(audience: PrivacyAudience, subjectHasViewerAsContact: boolean): boolean {
  if (audience === "everyone") return true;
  if (audience === "contacts") return subjectHasViewerAsContact;
  return false;
}

/** What the rules grant V of S, given S's settings and the facts between them. */
export type Oracle = (privacy: PrivacySettings, facts: PairFacts) => Set<ProfileField>;

/** The rule table of PRIVACY-MODEL.md, field by field. */
export const grantedFields: Oracle = (privacy, f) => {
  // R1
  if (f.self) return new Set(profileFields);
  const ok = (field: Guarded) => admits(privacy[field], f.subjectHasViewerAsContact);
  // R2, and R11 which grants as R2 (an added grant: it takes nothing away).
  // A business account, as V or as S, is related by the rules like any account.
  const r2 =
    f.directChat || f.viewerHasSubjectAsContact || f.foundByPhone || f.customerOfViewerBusiness;
  const r3 = f.sharedGroup;
  const r5 = f.subjectAdminsViewersCommunity;
  const r6 = f.viewerAdminsSubjectsCommunity;
  const rj = f.askedToJoinViewersSpace;
  const r10 = f.coChannelAdmins;
  // R4, R7, R9, R12 grant nothing (R12's agents are not users at all); R8 and R13 only in context (AuditOptions.contextGrants).
  const any = r2 || r3 || r5 || r6 || rj || r10;
  const granted: Record<ProfileField, boolean> = {
    id: any,
    name: any,
    username: r2 || r3,
    phone: (r2 && (ok("phone") || f.foundByPhone)) || r3 || r6 || r10,
    photo: any && ok("photo"),
    about: (r2 || r3) && ok("about"),
    presence: (r2 || r3) && ok("presence"),
    // A business's card is public business information: shown wherever S is shown.
    business: any && f.subjectIsBusiness,
  };
  // B: S blocked V: at most id and name.
  if (f.blockedBySubject) {
    for (const field of profileFields)
      if (field !== "id" && field !== "name") granted[field] = false;
  }
  return new Set(profileFields.filter((field) => granted[field]));
};

/** R13: a lookup by S's exact number, when S is discoverable, adds id, name and photo-if-allowed. */
export function lookupGrants(
  privacy: PrivacySettings,
  facts: PairFacts,
  oracle: Oracle = grantedFields,
): Set<ProfileField> {
  const granted = oracle(privacy, facts);
  if (!privacy.discoverableByPhone) return granted;
  granted.add("id").add("name");
  if (facts.subjectIsBusiness && !facts.blockedBySubject) granted.add("business");
  if (!facts.blockedBySubject && admits(privacy.photo, facts.subjectHasViewerAsContact))
    granted.add("photo");
  return granted;
}

/** Everything a rule could show of a user (presence is the server's, so it is not modelled). */
export interface SubjectValues {
  id: string;
  name: string;
  phone: string | null;
  username: string | null;
  photo: string | null;
  about: string;
  privacy: PrivacySettings;
  /** The business profile when the user is a business (R12). */
  business?: BusinessCard | null;
}

const noPresence = { online: false, lastSeenAt: null };

/** The profile built from granted fields; a field S has no value for is absent. */
export function profileOf(
  subject: SubjectValues,
  granted: ReadonlySet<ProfileField>,
  presence: VisibleProfile["presence"] = noPresence,
): VisibleProfile | null {
  if (!granted.has("id")) return null;
  const p: VisibleProfile = { id: subject.id };
  if (granted.has("name")) p.name = subject.business?.name ?? subject.name;
  if (granted.has("phone") && subject.phone !== null) p.phone = subject.phone;
  if (granted.has("username") && subject.username !== null) p.username = subject.username;
  if (granted.has("photo") && subject.photo !== null) p.photo = subject.photo;
  if (granted.has("about")) p.about = subject.about;
  if (granted.has("presence")) p.presence = presence;
  if (granted.has("business") && subject.business) p.business = subject.business;
  return p;
}

/** A profile with presence reduced to "present": its value is the server's, not the model's. */
export function comparable(p: unknown): unknown {
  if (p === null || typeof p !== "object") return p;
  const { presence, ...rest } = p as VisibleProfile;
  return presence === undefined ? rest : { ...rest, presence: "present" };
}

// ---------------------------------------------------------------------------
// The world

export interface WorldUser extends SubjectValues {
  readonly index: number;
  /** "U3": how reports name the user. */
  readonly label: string;
  readonly client: TestUser;
  /** Every device of the user: a device id identifies its user as much as the user id. */
  readonly deviceIds: string[];
  /** The bytes of the photo, for GET /v1/users/:id/photo. */
  photoBytes: Buffer | null;
}

export interface WorldGroup {
  id: string;
  kind: GroupKind;
  /** The community it is in now; an announcement group keeps its community's id. */
  communityId: string | null;
  /** Member users (each with all its devices). Unused for announcement groups: see `membersOf`. */
  members: Set<number>;
  /** Users who asked to join and wait. */
  requests: Set<number>;
  /**
   * Group admins as the server last reported them (`World.groups` is
   * refreshed by the driver after every change of them): who may read and
   * answer the requests, and so, when the group approves new members, who
   * sees the askers (RJ).
   */
  admins: Set<number>;
  approveMembers: boolean;
  /** A 1:1 chat or key channel: its two users (the second may not be in it yet). */
  pair?: [number, number];
  /** Who opened it: a 1:1 chat a customer opens with a business is R11's "wrote to". */
  createdBy?: number;
}

export interface WorldCommunity {
  id: string;
  announcementGroupId: string;
  active: boolean;
  roles: Map<number, CommunityRole>;
  /** Users waiting for an admin's approval to join. */
  requests: Set<number>;
  /** groupId → the user who suggested it. */
  suggestions: Map<string, number>;
  approveMembers: boolean;
  groupAddPolicy: "members" | "admins";
  invite: string | null;
}

/** One committed state of the world, with what every viewer may see of every subject. */
export interface WorldState {
  /** When it was committed (Date.now()). */
  at: number;
  values: SubjectValues[];
  facts: PairFacts[][];
  granted: Array<Array<Set<ProfileField>>>;
  /** Invariant 3's pairs (`World.separatedInCommunity`), for labelling reports. */
  separated: boolean[][];
  /** Channels by id. */
  channels: Map<string, ChannelSnapshot>;
}

/** A channel: owner and admins, invitations, followers, posts and their reactions. */
export interface WorldChannel {
  id: string;
  handle: string;
  name: string;
  inviteCode: string;
  /** owner / admin, by user. */
  admins: Map<number, "owner" | "admin">;
  /** Pending invitations to administer. */
  invited: Set<number>;
  /** Followers and whether each muted the channel. */
  followers: Map<number, { muted: boolean }>;
  /**
   * Every per-channel follower handle each user ever had here (a new follow
   * after an unfollow gets a new one): the last is current. The driver reads
   * them from the server's store; nothing shows them to the follower.
   */
  handles: Map<number, string[]>;
  reactionPolicy: "any" | "default" | "none";
  lastSeq: number;
  /** Posts by seq: text, edited, and each user's reaction (kept when the user unfollows). */
  posts: Map<number, WorldPost>;
  /** The owner deleted it: it answers like a channel that never existed, and relates no one. */
  deleted: boolean;
}

/** A post of a channel, its reactions and its poll. */
export interface WorldPost {
  id: string;
  text: string;
  edited: boolean;
  /** Each user's reaction (kept when the user unfollows). */
  reactions: Map<number, string>;
  poll: WorldPoll | null;
}

/** A poll: its options, and each user's vote as sorted option indexes (kept on unfollow). */
export interface WorldPoll {
  question: string;
  options: string[];
  multiple: boolean;
  votes: Map<number, number[]>;
}

/** What one committed state holds of a live channel, for R8 (context) and invariant 2. */
export interface ChannelSnapshot {
  admins: Set<number>;
  /** The owner: the only admin shown pending invitations. */
  owner: number | null;
  /** Pending invitations to administer. */
  invited: Set<number>;
  followers: Set<number>;
  /** seq → users whose reaction an admin may see beside it (they react and follow). */
  reactors: Map<number, Set<number>>;
  /** seq → users whose vote an admin may see beside it (they vote and follow). */
  voters: Map<number, Set<number>>;
}

export const pairKey = (a: number, b: number) => `${a}>${b}`;
const isAdminRole = (role: CommunityRole | undefined) => role === "owner" || role === "admin";

/** What the server should hold, and every state it went through. */
export class World {
  readonly users: WorldUser[] = [];
  /** pairKey(owner, contact): `owner` has `contact` in its address book. */
  readonly contacts = new Set<string>();
  /** pairKey(blocker, blocked). */
  readonly blocks = new Set<string>();
  /** pairKey(viewer, subject) → the number the viewer last found the subject by. */
  readonly discoveries = new Map<string, string>();
  readonly groups = new Map<string, WorldGroup>();
  readonly communities = new Map<string, WorldCommunity>();
  readonly channels = new Map<string, WorldChannel>();
  /** A word in the name of every channel of this world: the directory probe searches it. */
  channelTag: string | null = null;
  readonly states: WorldState[] = [];
  private readonly ids = new Map<string, number>();

  constructor(readonly oracle: Oracle = grantedFields) {}

  /** The index of the last committed state (-1 before the first commit). */
  get step(): number {
    return this.states.length - 1;
  }

  /** The state that was current at time `t` (-1 if none was committed yet). */
  stepAt(t: number): number {
    let i = this.step;
    while (i >= 0 && (this.states[i] as WorldState).at > t) i--;
    return i;
  }

  addUser(user: Omit<WorldUser, "index" | "label">): WorldUser {
    const index = this.users.length;
    const full: WorldUser = { ...user, index, label: `U${index}` };
    this.users.push(full);
    this.ids.set(user.id, index);
    for (const d of user.deviceIds) this.ids.set(d, index);
    return full;
  }

  user(i: number): WorldUser {
    const u = this.users[i];
    if (!u) throw new Error(`no user ${i}`);
    return u;
  }

  /** The user a user id or device id belongs to. */
  indexOf(id: string): number | undefined {
    return this.ids.get(id);
  }

  values(s: number): SubjectValues {
    const { id, name, phone, username, photo, about, privacy, business } = this.user(s);
    return {
      id,
      name,
      phone,
      username,
      photo,
      about,
      privacy: { ...privacy },
      business: business ? { ...business, contact: { ...business.contact } } : null,
    };
  }

  ownerOf(phone: string): number | null {
    const i = this.users.findIndex((u) => u.phone === phone);
    return i < 0 ? null : i;
  }

  /** Member users of a group now: an announcement group holds its active community's members. */
  membersOf(group: WorldGroup): Set<number> {
    if (group.kind !== "announcement") return group.members;
    const c = group.communityId ? this.communities.get(group.communityId) : undefined;
    return c?.active ? new Set(c.roles.keys()) : new Set();
  }

  /** Ordinary groups currently in a community. */
  groupsOf(communityId: string): WorldGroup[] {
    return [...this.groups.values()].filter(
      (g) => g.kind === "group" && g.communityId === communityId,
    );
  }

  activeCommunities(): WorldCommunity[] {
    return [...this.communities.values()].filter((c) => c.active);
  }

  /** The facts between V and S now, from the world's own records. */
  facts(v: number, s: number): PairFacts {
    const phone = this.user(s).phone;
    const both = (g: WorldGroup) => {
      const m = this.membersOf(g);
      return m.has(v) && m.has(s);
    };
    const groups = [...this.groups.values()];
    const communities = this.activeCommunities();
    // A deleted channel relates no one any more (R10 ends with it).
    const channels = [...this.channels.values()].filter((c) => !c.deleted);
    return {
      ...noFacts,
      self: v === s,
      subjectHasViewerAsContact: this.contacts.has(pairKey(s, v)),
      viewerHasSubjectAsContact: this.contacts.has(pairKey(v, s)),
      directChat: groups.some((g) => g.kind === "direct" && both(g)),
      foundByPhone: phone !== null && this.discoveries.get(pairKey(v, s)) === phone,
      sharedGroup: groups.some((g) => g.kind === "group" && both(g)),
      sameCommunity: communities.some((c) => c.roles.has(v) && c.roles.has(s)),
      subjectAdminsViewersCommunity: communities.some(
        (c) => c.roles.has(v) && isAdminRole(c.roles.get(s)),
      ),
      viewerAdminsSubjectsCommunity: communities.some(
        (c) => isAdminRole(c.roles.get(v)) && c.roles.has(s),
      ),
      askedToJoinViewersSpace:
        groups.some(
          (g) =>
            g.kind === "group" &&
            g.requests.has(s) &&
            g.members.has(v) &&
            (!g.approveMembers || g.admins.has(v)),
        ) || communities.some((c) => c.requests.has(s) && isAdminRole(c.roles.get(v))),
      coChannelAdmins: channels.some((c) => c.admins.has(v) && c.admins.has(s)),
      viewerAdminsSubjectsChannel: channels.some((c) => c.admins.has(v) && c.followers.has(s)),
      subjectAdminsViewersChannel: channels.some((c) => c.admins.has(s) && c.followers.has(v)),
      coFollowers: channels.some((c) => c.followers.has(v) && c.followers.has(s)),
      customerOfViewerBusiness:
        !!this.user(v).business &&
        groups.some((g) => g.kind === "direct" && g.createdBy === s && both(g)),
      subjectIsBusiness: !!this.user(s).business,
      blockedBySubject: this.blocks.has(pairKey(s, v)),
    };
  }

  /** Who owns, administers, is invited, follows, reacts and votes (as an admin may see) now. */
  channelSnapshot(c: WorldChannel): ChannelSnapshot {
    const reactors = new Map<number, Set<number>>();
    const voters = new Map<number, Set<number>>();
    const following = (users: Iterable<number>) =>
      new Set([...users].filter((u) => c.followers.has(u)));
    for (const [seq, post] of c.posts) {
      reactors.set(seq, following(post.reactions.keys()));
      if (post.poll) voters.set(seq, following(post.poll.votes.keys()));
    }
    return {
      admins: new Set(c.admins.keys()),
      owner: [...c.admins].find(([, role]) => role === "owner")?.[0] ?? null,
      invited: new Set(c.invited),
      followers: new Set(c.followers.keys()),
      reactors,
      voters,
    };
  }

  granted(v: number, s: number): Set<ProfileField> {
    return this.oracle(this.user(s).privacy, this.facts(v, s));
  }

  /** What V should get for GET /v1/users/:S now, or null (answered like an id nobody has). */
  expected(v: number, s: number): VisibleProfile | null {
    return profileOf(this.values(s), this.granted(v, s));
  }

  /**
   * Invariant 3's pair: V and S share a community, V is in one of its groups
   * and S in another, they share no ordinary group, and S is no admin of it.
   */
  separatedInCommunity(v: number, s: number): boolean {
    if (v === s) return false;
    return this.activeCommunities().some((c) => {
      if (!c.roles.has(v) || !c.roles.has(s) || isAdminRole(c.roles.get(s))) return false;
      const groups = this.groupsOf(c.id);
      const vIn = groups.filter((g) => g.members.has(v));
      const sIn = groups.filter((g) => g.members.has(s));
      return vIn.length > 0 && sIn.length > 0 && !vIn.some((g) => g.members.has(s));
    });
  }

  /** Records the current state as the next step and returns its index. */
  commit(): number {
    const facts = this.users.map((_, v) => this.users.map((_, s) => this.facts(v, s)));
    this.states.push({
      at: Date.now(),
      values: this.users.map((_, s) => this.values(s)),
      facts,
      granted: facts.map((row) => row.map((f, s) => this.oracle(this.user(s).privacy, f))),
      separated: this.users.map((_, v) =>
        this.users.map((_, s) => this.separatedInCommunity(v, s)),
      ),
      channels: new Map(
        [...this.channels]
          .filter(([, c]) => !c.deleted)
          .map(([id, c]) => [id, this.channelSnapshot(c)]),
      ),
    });
    return this.step;
  }
}

// ---------------------------------------------------------------------------
// The collector

export interface RawReply {
  status: number;
  type: string | null;
  bytes: Buffer;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: any;
}

/** One thing delivered to a viewer, with the range of world states it may reflect. */
export interface Delivered {
  viewer: number;
  /** "GET /v1/users/u_…", "frame mailbox.item", …: where it came from, for reports. */
  where: string;
  from: number;
  to: number;
  body: unknown;
}

/**
 * Records every reply and frame each user gets. Replies and frames during
 * the run may reflect the state before or after the action in progress, and
 * a frame may trail its action: they are judged against the states within
 * `slack` steps of their arrival, and any state current in the last `lagMs`
 * (fan-out is asynchronous). Replies made while nothing changes (the final
 * audit) are judged against that one state.
 */
export class Collector {
  readonly delivered: Delivered[] = [];
  /** The window of the first push of each mailbox item ("viewer:seq") and log entry ("group:seq"). */
  private readonly firstSeen = new Map<string, { from: number; to: number }>();
  private lastFrameAt = 0;
  /** While set, replies are judged against this one state. */
  quiet = false;

  constructor(
    readonly world: World,
    readonly base: string,
    readonly slack = 2,
    readonly lagMs = 250,
  ) {}

  private window(): { from: number; to: number } {
    const at = this.world.step;
    return this.quiet ? { from: at, to: at } : this.around(at);
  }

  private around(at: number): { from: number; to: number } {
    const lagged = this.world.stepAt(Date.now() - this.lagMs);
    return { from: Math.min(at - this.slack, lagged - 1), to: at + this.slack };
  }

  /** Records every frame `viewer`'s socket receives from now on. */
  listen(viewer: number, socket: LiveSocket): void {
    socket.ws.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      const at = this.around(this.world.step);
      this.lastFrameAt = Date.now();
      if (frame.type === "mailbox.item") this.seen(`${viewer}:${frame.item.seq}`, at);
      if (frame.type === "group.entry") this.seen(`${frame.entry.groupId}:${frame.entry.seq}`, at);
      this.delivered.push({ viewer, where: `frame ${frame.type}`, ...at, body: frame });
    });
  }

  private seen(key: string, at: { from: number; to: number }): void {
    if (!this.firstSeen.has(key)) this.firstSeen.set(key, at);
  }

  /** Resolves once no frame has arrived for `idleMs` (or after `maxMs`). */
  async settle(idleMs = 15, maxMs = 500): Promise<void> {
    const start = Date.now();
    for (;;) {
      const now = Date.now();
      if (now - Math.max(this.lastFrameAt, start) >= idleMs || now - start >= maxMs) return;
      await new Promise((resolve) => setTimeout(resolve, idleMs / 3));
    }
  }

  /** An HTTP request as `viewer`, recorded as delivered to it. */
  async request(
    viewer: number,
    method: string,
    path: string,
    body?: unknown,
    raw?: { bytes: Buffer; contentType: string },
  ): Promise<RawReply> {
    const window = this.window();
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.world.user(viewer).client.token}`,
    };
    let payload: string | Buffer | undefined;
    if (raw) {
      payload = raw.bytes;
      headers["content-type"] = raw.contentType;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const response = await fetch(`${this.base}${path}`, { method, headers, body: payload });
    const bytes = Buffer.from(await response.arrayBuffer());
    const type = response.headers.get("content-type");
    let parsed: unknown;
    if ((type ?? "").includes("json") && bytes.length > 0) parsed = JSON.parse(bytes.toString());
    const where = `${method} ${path}`;
    this.record(
      viewer,
      where,
      parsed ?? (type?.startsWith("text") ? bytes.toString() : null),
      window,
    );
    return { status: response.status, type, bytes, body: parsed };
  }

  /**
   * Mailbox items and log entries are history: each is judged against the
   * states around its first push over a socket (when it was created), not
   * the state at the time of reading.
   */
  private record(
    viewer: number,
    where: string,
    body: unknown,
    window: { from: number; to: number },
  ): void {
    const history = (items: unknown[], key: (item: any) => string) => {
      for (const item of items) {
        const at = this.firstSeen.get(key(item));
        const seen = at === undefined ? window : { from: at.from, to: at.to };
        this.delivered.push({ viewer, where, ...seen, body: item });
      }
    };
    const b = body as { items?: unknown[]; entries?: unknown[] } | null;
    if (/^GET \/v1\/mailbox/.test(where) && Array.isArray(b?.items)) {
      history(b.items, (i: { seq: number }) => `${viewer}:${i.seq}`);
      return;
    }
    if (/^GET \/v1\/groups\/[^/]+\/log/.test(where) && Array.isArray(b?.entries)) {
      history(b.entries, (e: { groupId: string; seq: number }) => `${e.groupId}:${e.seq}`);
      return;
    }
    this.delivered.push({ viewer, where, ...window, body });
  }
}

// ---------------------------------------------------------------------------
// The auditor

export interface Violation {
  /** `leak`: a field no rule grants; `mismatch`: the answer differs from what the world says. */
  kind: "leak" | "mismatch";
  /**
   * 3 when V and S are a member of group A only and a member of group B only;
   * 2 for a channel follower's identity in a channel delivery (`Auditor.channelRule`).
   */
  invariant: 1 | 2 | 3;
  viewer: string;
  subject: string | null;
  where: string;
  field: string | null;
  detail: string;
}

/**
 * Fields a rule grants only inside one kind of delivery (R13: a lookup's
 * answer; R8: a reactor's name beside the reaction), given the state judged.
 */
export type ContextGrants = (
  d: Delivered,
  state: WorldState,
  subject: number,
  oracle: Oracle,
) => ReadonlySet<ProfileField>;

/** R13: the answer to a lookup by number (alone, or adding a contact by number). */
export const lookupContext: ContextGrants = (d, state, s, oracle) => {
  if (!/^POST \/v1\/(lookup\/phone|contacts)$/.test(d.where)) return new Set();
  const facts = state.facts[d.viewer]?.[s];
  const values = state.values[s];
  return facts && values ? lookupGrants(values.privacy, facts, oracle) : new Set();
};

/**
 * GET /v1/channels/:id/posts/:seq/reactions and …/votes: where R8 grants, and
 * the users shown there in a state (who reacted, or voted, and follows).
 */
const interactionsWhere = /^GET \/v1\/channels\/([^/?]+)\/posts\/(\d+)\/(reactions|votes)$/;
function interaction(
  where: string,
): { channelId: string; shown: (c: ChannelSnapshot) => Set<number> | undefined } | null {
  const m = interactionsWhere.exec(where);
  if (!m) return null;
  const seq = Number(m[2]);
  const list = m[3] === "votes" ? "voters" : "reactors";
  return { channelId: m[1] as string, shown: (c) => c[list].get(seq) };
}
/** GET /v1/channels/:id/admins: where R10 lists the co-admins, and the owner its invitations. */
const adminsWhere = /^GET \/v1\/channels\/([^/?]+)\/admins$/;
/** Replies of the channel routes and channel frames: where invariant 2 holds. */
const channelWhere =
  /^([A-Z]+ \/v1\/(channels|me\/channels|channel-invites)([/?]|$)|frame channel\.)/;

/**
 * R8: beside S's reaction to (or vote on) a post of channel C, in the list of
 * reactions (or votes) an admin V of C reads: S's name, and S's photo if
 * allowed (never to one S blocked, B). S must react (vote) and follow in the
 * state judged.
 */
export const channelInteractionContext: ContextGrants = (d, state, s) => {
  const at = interaction(d.where);
  const c = at ? state.channels.get(at.channelId) : undefined;
  if (!at || !c?.admins.has(d.viewer) || !at.shown(c)?.has(s)) return new Set();
  const granted = new Set<ProfileField>(["name"]);
  const facts = state.facts[d.viewer]?.[s];
  const values = state.values[s];
  if (facts && values && !facts.blockedBySubject)
    if (admits(values.privacy.photo, facts.subjectHasViewerAsContact)) granted.add("photo");
  return granted;
};

/** The context grants the auditor applies unless told otherwise: R13 and R8. */
export const defaultContextGrants: ContextGrants = (d, state, s, oracle) => {
  const lookup = lookupContext(d, state, s, oracle);
  const r8 = channelInteractionContext(d, state, s, oracle);
  return r8.size === 0 ? lookup : new Set([...lookup, ...r8]);
};

export interface AuditOptions {
  /** Context-limited grants; R13 for lookups and R8 beside reactions by default. */
  contextGrants?: ContextGrants;
}

interface TokenHit {
  subject: number;
  field: ProfileField;
  /** The states in which the subject had this value; null: always (ids). */
  steps: Set<number> | null;
}

/** Keys whose string values are MLS bytes (base64url): scanned for device ids inside. */
const mlsKeys = new Set(["data", "keyPackage"]);
/** Keys beside a `userId` that describe that user (a JoinRequest's name and photo). */
const describing = new Set<ProfileField>([
  "name",
  "phone",
  "username",
  "photo",
  "about",
  "presence",
]);

const isCount = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
const keysAre = (value: unknown, keys: readonly string[]) =>
  value !== null &&
  typeof value === "object" &&
  isDeepStrictEqual(Object.keys(value).sort(), [...keys].sort());

/**
 * Invariant 2 for what a channel pushes to every follower: counts only. A
 * `channel.counts` frame is the post's emoji counts and, for a poll, votes by
 * option and voters; a `channel.post` frame's poll is the question, options
 * with counts, and no one's vote. Returns what is wrong.
 */
function countsOnly(body: unknown): string[] {
  const frame = body as Record<string, unknown>;
  const problems: string[] = [];
  const pollOk = (poll: unknown, keys: readonly string[]) =>
    poll === null || poll === undefined || keysAre(poll, keys);
  if (frame.type === "channel.counts") {
    const poll = frame.poll as { votes?: unknown; voters?: unknown } | undefined;
    const counts = frame.counts as Record<string, unknown> | undefined;
    if (!keysAre(frame, ["type", "channelId", "seq", "counts", ...(poll ? ["poll"] : [])]))
      problems.push(`frame keys ${JSON.stringify(Object.keys(frame))}`);
    if (!counts || typeof counts !== "object" || !Object.values(counts).every(isCount))
      problems.push(`counts ${JSON.stringify(counts)}`);
    if (
      poll !== undefined &&
      !(
        pollOk(poll, ["votes", "voters"]) &&
        Array.isArray(poll.votes) &&
        poll.votes.every(isCount) &&
        isCount(poll.voters)
      )
    )
      problems.push(`poll ${JSON.stringify(poll)}`);
    return problems;
  }
  const post = frame.post as Record<string, unknown> | undefined;
  if (!post) return problems;
  const extra = Object.keys(post).filter((k) => !postKeys.includes(k) || k.startsWith("my"));
  if (extra.length > 0) problems.push(`post keys ${JSON.stringify(extra)}`);
  const poll = post.poll as { options?: unknown[]; myVote?: unknown[] } | null | undefined;
  const pollKeys = ["question", "options", "multiple", "voters", "closesAt", "closed", "myVote"];
  if (
    !pollOk(poll, pollKeys) ||
    (poll &&
      (!poll.options?.every((o) => keysAre(o, ["text", "votes"])) || poll.myVote?.length !== 0))
  )
    problems.push(`poll ${JSON.stringify(poll)}`);
  return problems;
}

/** Walks deliveries for invariant 1 (and labels invariant 3's pairs). */
export class Auditor {
  private exact = new Map<string, TokenHit[]>();
  private contained = new Map<string, TokenHit[]>();
  /** Per-channel follower handles (R8's pseudonyms): handle → its follower and channel. */
  private handles = new Map<string, { subject: number; channelId: string }>();
  private indexed = -1;

  constructor(
    readonly world: World,
    readonly options: AuditOptions = {},
  ) {}

  /**
   * Identifiers found by substring (ids, device ids, phones, photo ids: all
   * distinctive), and values found by equality (names, usernames, abouts).
   */
  private tokens(): void {
    if (this.indexed === this.world.step) return;
    this.exact = new Map();
    this.contained = new Map();
    this.handles = new Map();
    for (const c of this.world.channels.values()) {
      for (const [subject, list] of c.handles)
        for (const h of list) this.handles.set(h, { subject, channelId: c.id });
    }
    const add = (map: Map<string, TokenHit[]>, token: string, hit: TokenHit) => {
      const hits = map.get(token) ?? [];
      const same = hits.find((h) => h.subject === hit.subject && h.field === hit.field);
      if (same?.steps && hit.steps) for (const s of hit.steps) same.steps.add(s);
      else if (!same) hits.push(hit);
      map.set(token, hits);
    };
    for (const u of this.world.users) {
      for (const id of [u.id, ...u.deviceIds])
        add(this.contained, id, { subject: u.index, field: "id", steps: null });
    }
    this.world.states.forEach((state, step) => {
      state.values.forEach((v, subject) => {
        const at = new Set([step]);
        if (v.phone) add(this.contained, v.phone, { subject, field: "phone", steps: at });
        if (v.photo) add(this.contained, v.photo, { subject, field: "photo", steps: at });
        for (const field of ["name", "username", "about"] as const) {
          const value = v[field];
          if (value && value.length >= 3)
            add(this.exact, value, { subject, field, steps: new Set(at) });
        }
      });
    });
    this.indexed = this.world.step;
  }

  private grantedAt(d: Delivered, step: number, subject: number): ReadonlySet<ProfileField> {
    const state = this.world.states[step];
    const base = state?.granted[d.viewer]?.[subject] ?? new Set();
    const context = this.options.contextGrants ?? defaultContextGrants;
    const extra = state ? context(d, state, subject, this.world.oracle) : undefined;
    return extra && extra.size > 0 ? new Set([...base, ...extra]) : base;
  }

  private steps(d: Delivered): number[] {
    const out: number[] = [];
    for (let s = Math.max(0, d.from); s <= Math.min(this.world.step, d.to); s++) out.push(s);
    return out;
  }

  private violation(
    d: Delivered,
    kind: Violation["kind"],
    subject: number | null,
    field: string | null,
    detail: string,
  ): Violation {
    const separated =
      subject !== null &&
      this.steps(d).some((s) => this.world.states[s]?.separated[d.viewer]?.[subject] === true);
    return {
      kind,
      invariant: separated ? 3 : 1,
      viewer: this.world.user(d.viewer).label,
      subject: subject === null ? null : this.world.user(subject).label,
      where: d.where,
      field,
      detail,
    };
  }

  /** The channels of the states `steps`, with `id`. */
  private channelAt(steps: number[], id: string | undefined): ChannelSnapshot[] {
    if (id === undefined) return [];
    return steps.flatMap((s) => {
      const c = this.world.states[s]?.channels.get(id);
      return c ? [c] : [];
    });
  }

  /**
   * Invariant 2, in a channel delivery: a follower S of any channel shows to
   * V only as R8 and R10 allow, whatever other rules grant elsewhere: a name
   * and photo beside S's reaction to a post of a channel V administers, and
   * S's id, name, phone and photo in the admin list of a channel both
   * administer; S's id and name in the pending invitations the owner V sent
   * S (invariant 1 then asks a rule to grant them: the owner invites only
   * someone it sees). Never a username, about or presence; never to a
   * non-admin; an invitee never to the other admins.
   */
  private channelRule(
    d: Delivered,
    hit: TokenHit,
    steps: number[],
    path: string,
    shown: string,
    out: Violation[],
  ): void {
    const s = hit.subject;
    const follows = steps.some((step) =>
      [...(this.world.states[step]?.channels.values() ?? [])].some((c) => c.followers.has(s)),
    );
    if (!follows) return;
    const beside = interaction(d.where);
    const admins = adminsWhere.exec(d.where);
    const ok =
      (beside !== null &&
        (hit.field === "name" || hit.field === "photo") &&
        this.channelAt(steps, beside.channelId).some(
          (c) => c.admins.has(d.viewer) && beside.shown(c)?.has(s),
        )) ||
      (admins !== null &&
        !path.includes(".invited[") &&
        (["id", "name", "phone", "photo"] as ProfileField[]).includes(hit.field) &&
        this.channelAt(steps, admins[1]).some((c) => c.admins.has(d.viewer) && c.admins.has(s))) ||
      (admins !== null &&
        path.includes(".invited[") &&
        (hit.field === "id" || hit.field === "name") &&
        this.channelAt(steps, admins[1]).some((c) => c.owner === d.viewer && c.invited.has(s)));
    if (!ok) {
      out.push({
        ...this.violation(
          d,
          "leak",
          s,
          hit.field,
          `${path} = ${JSON.stringify(shown).slice(0, 120)}`,
        ),
        invariant: 2,
      });
    }
  }

  /** A follower handle: only in the reactions and votes of its channel, to that channel's admins. */
  private handleRule(
    d: Delivered,
    handle: string,
    steps: number[],
    path: string,
    out: Violation[],
  ) {
    const owner = this.handles.get(handle);
    if (!owner || owner.subject === d.viewer) return;
    const ok =
      interaction(d.where)?.channelId === owner.channelId &&
      this.channelAt(steps, owner.channelId).some((c) => c.admins.has(d.viewer));
    if (!ok) {
      out.push({
        ...this.violation(
          d,
          "leak",
          owner.subject,
          "handle",
          `${path} = ${JSON.stringify(handle)}`,
        ),
        invariant: 2,
      });
    }
  }

  /** Invariants 1 and 2 over one delivery. */
  inspect(d: Delivered): Violation[] {
    this.tokens();
    const out: Violation[] = [];
    const steps = this.steps(d);
    const inChannel = channelWhere.test(d.where);
    const checkHits = (hits: TokenHit[], path: string, shown: string) => {
      if (hits.some((h) => h.subject === d.viewer)) return; // the viewer's own value
      if (inChannel) {
        const inWindow = hits.filter(
          (h) => h.steps === null || steps.some((step) => h.steps?.has(step)),
        );
        for (const h of inWindow.length > 0 ? inWindow : hits.slice(0, 1))
          this.channelRule(d, h, steps, path, shown, out);
      }
      const ok = hits.some((h) =>
        steps.some(
          (s) =>
            (h.steps === null || h.steps.has(s)) && this.grantedAt(d, s, h.subject).has(h.field),
        ),
      );
      if (ok) return;
      const h = hits[0] as TokenHit;
      out.push(
        this.violation(
          d,
          "leak",
          h.subject,
          h.field,
          `${path} = ${JSON.stringify(shown).slice(0, 120)}`,
        ),
      );
    };
    const scan = (text: string, path: string, exactToo: boolean) => {
      for (const [token, hits] of this.contained) {
        if (text.includes(token)) checkHits(hits, path, text);
      }
      for (const handle of this.handles.keys()) {
        if (text.includes(handle)) this.handleRule(d, handle, steps, path, out);
      }
      if (!exactToo) return;
      const hits = this.exact.get(text);
      if (hits) checkHits(hits, path, text);
    };
    const walk = (value: unknown, path: string, key: string | null): void => {
      if (typeof value === "string") {
        scan(value, path, true);
        if (key !== null && mlsKeys.has(key) && /^[A-Za-z0-9_-]{16,}$/.test(value)) {
          scan(Buffer.from(value, "base64url").toString("latin1"), `${path} (MLS bytes)`, false);
        }
        return;
      }
      if (Array.isArray(value)) {
        for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`, key);
        return;
      }
      if (value === null || typeof value !== "object") return;
      const obj = value as Record<string, unknown>;
      this.structure(d, obj, path, steps, out);
      for (const [k, v] of Object.entries(obj)) {
        scan(k, `${path} (key)`, false);
        walk(v, `${path}.${k}`, k);
      }
    };
    walk(d.body, "body", null);
    if (d.where === "frame channel.counts" || d.where === "frame channel.post")
      for (const problem of countsOnly(d.body)) {
        out.push({ ...this.violation(d, "leak", null, "counts", problem), invariant: 2 });
      }
    return out;
  }

  /** Profile objects must equal a granted profile; fields beside a user id are that user's. */
  private structure(
    d: Delivered,
    obj: Record<string, unknown>,
    path: string,
    steps: number[],
    out: Violation[],
  ): void {
    const keys = Object.keys(obj);
    const id = typeof obj.id === "string" ? this.world.indexOf(obj.id) : undefined;
    const isProfile =
      id !== undefined &&
      obj.id === this.world.user(id).id &&
      keys.every((k) => (profileFields as readonly string[]).includes(k));
    if (isProfile && id !== d.viewer) {
      for (const k of keys) {
        if (!steps.some((s) => this.grantedAt(d, s, id).has(k as ProfileField))) {
          out.push(this.violation(d, "leak", id, k, `${path}.${k} in ${JSON.stringify(obj)}`));
        }
      }
      const matches = steps.some((s) => {
        const state = this.world.states[s] as WorldState;
        const expected = profileOf(state.values[id] as SubjectValues, this.grantedAt(d, s, id));
        return isDeepStrictEqual(comparable(expected), comparable(obj));
      });
      if (!matches) {
        const s = steps.at(-1) ?? this.world.step;
        const state = this.world.states[s] as WorldState;
        const expected = profileOf(state.values[id] as SubjectValues, this.grantedAt(d, s, id));
        out.push(
          this.violation(
            d,
            "mismatch",
            id,
            null,
            `${path}: got ${JSON.stringify(comparable(obj))}, the rules give ${JSON.stringify(comparable(expected))}`,
          ),
        );
      }
    }
    {
      const ref = "userId";
      const value = obj[ref];
      const s = typeof value === "string" ? this.world.indexOf(value) : undefined;
      if (s === undefined || s === d.viewer || value !== this.world.user(s).id) return;
      for (const k of keys) {
        if (!describing.has(k as ProfileField)) continue;
        const field = k as ProfileField;
        const ok = steps.some((step) => {
          if (!this.grantedAt(d, step, s).has(field)) return false;
          if (field === "presence") return true;
          const had = (this.world.states[step] as WorldState).values[s] as SubjectValues;
          // A business is named by its business name, its public identity.
          if (field === "name") return (had.business?.name ?? had.name) === obj[k];
          if (field === "business") return isDeepStrictEqual(had.business, obj[k]);
          return (had as unknown as Record<string, unknown>)[field] === obj[k];
        });
        if (!ok) out.push(this.violation(d, "leak", s, field, `${path}.${k} beside ${ref}`));
      }
    }
  }

  /** Every delivery the collector holds, from `start` on. */
  inspectAll(collector: Collector, start = 0): Violation[] {
    return collector.delivered.slice(start).flatMap((d) => this.inspect(d));
  }
}

// ---------------------------------------------------------------------------
// Read routes

/** One request, and what its answer must be. */
export interface Probe {
  /** The route, for reports ("GET /v1/users/:id"). */
  route: string;
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  /** The user the probe is about, for reports. */
  subject?: number;
  /**
   * `hidden`: the viewer may not know the thing exists: the answer must be
   * byte for byte the answer to `like`, the same request about something
   * that does not exist. Otherwise the status, then `check` on the body.
   */
  expect:
    | { hidden: { path: string; body?: unknown } }
    | { status: number; check?: (body: any) => string[]; bytes?: Buffer };
}

/** A family of read routes: the probes one viewer makes, given the world now. */
export interface ReadRoute {
  name: string;
  probes(world: World, v: number, missing: MissingIds): Probe[];
}

/** Ids nobody has, for the "answers like something that does not exist" comparisons. */
export interface MissingIds {
  user: string;
  community: string;
  group: string;
}

const entityId = (prefix: string) => `${prefix}_${randomBytes(16).toString("base64url")}`;
export const freshMissingIds = (): MissingIds => ({
  user: entityId("u"),
  community: entityId("c"),
  group: entityId("g"),
});

const sorted = (ids: Iterable<string>) => [...ids].sort();
const sameSet = (what: string, got: Iterable<string>, want: Iterable<string>): string[] =>
  isDeepStrictEqual(sorted(got), sorted(want))
    ? []
    : [`${what}: got ${JSON.stringify(sorted(got))}, want ${JSON.stringify(sorted(want))}`];
const idsOf = (w: World, users: Iterable<number>) => [...users].map((u) => w.user(u).id);

/** GET /v1/users/:id for every user (hidden ones answer like an id nobody has). */
export const profileRoute: ReadRoute = {
  name: "profiles",
  probes: (w, v, missing) =>
    w.users.map((s) => {
      const expected = w.expected(v, s.index);
      const probe: Probe = {
        route: "GET /v1/users/:id",
        method: "GET",
        path: `/v1/users/${s.id}`,
        subject: s.index,
        expect:
          expected === null
            ? { hidden: { path: `/v1/users/${missing.user}` } }
            : {
                status: 200,
                check: (body) =>
                  !Value.Check(VisibleProfile, body)
                    ? [`not a VisibleProfile: ${JSON.stringify(body)}`]
                    : isDeepStrictEqual(comparable(body), comparable(expected))
                      ? []
                      : [
                          `got ${JSON.stringify(comparable(body))}, want ${JSON.stringify(comparable(expected))}`,
                        ],
              },
      };
      return probe;
    }),
};

/**
 * GET /v1/businesses/:id for every user: a business's card (and photo) exactly
 * when the rules R1-R13 show its account to the viewer; a business the viewer
 * may not see, or an account that is no business, answers like an id nobody has. Not in `readRoutes`: worlds with businesses add it.
 */
export const businessRoute: ReadRoute = {
  name: "businesses",
  probes: (w, v, missing) =>
    w.users.map((s) => {
      const expected = w.expected(v, s.index);
      const card = expected?.business;
      const want =
        card === undefined
          ? null
          : { userId: s.id, ...card, ...(expected?.photo ? { photo: expected.photo } : {}) };
      const probe: Probe = {
        route: "GET /v1/businesses/:id",
        method: "GET",
        path: `/v1/businesses/${s.id}`,
        subject: s.index,
        expect:
          want === null
            ? { hidden: { path: `/v1/businesses/${missing.user}` } }
            : {
                status: 200,
                check: (body) =>
                  isDeepStrictEqual(body, want)
                    ? []
                    : [`got ${JSON.stringify(body)}, want ${JSON.stringify(want)}`],
              },
      };
      return probe;
    }),
};

/** GET /v1/users/:id/photo for every user with a photo. */
export const photoRoute: ReadRoute = {
  name: "photos",
  probes: (w, v, missing) =>
    w.users
      .filter((s) => s.photo !== null && s.photoBytes !== null)
      .map((s) => ({
        route: "GET /v1/users/:id/photo",
        method: "GET" as const,
        path: `/v1/users/${s.id}/photo`,
        subject: s.index,
        expect:
          w.expected(v, s.index)?.photo === undefined
            ? { hidden: { path: `/v1/users/${missing.user}/photo` } }
            : { status: 200, bytes: s.photoBytes as Buffer },
      })),
};

/** POST /v1/key-packages/claim for each other user: only users the viewer may see. */
export const keyPackageRoute: ReadRoute = {
  name: "key packages",
  probes: (w, v, missing) =>
    w.users
      .filter((s) => s.index !== v)
      .map((s) => ({
        route: "POST /v1/key-packages/claim",
        method: "POST" as const,
        path: "/v1/key-packages/claim",
        body: { userIds: [s.id] },
        subject: s.index,
        expect:
          w.expected(v, s.index) === null
            ? { hidden: { path: "/v1/key-packages/claim", body: { userIds: [missing.user] } } }
            : {
                status: 200,
                check: (body: { devices: Array<{ userId: string; deviceId: string }> }) =>
                  sameSet(
                    "claimed devices",
                    body.devices.map((d) => d.deviceId),
                    s.deviceIds,
                  ),
              },
      })),
};

const profileList =
  (w: World, v: number, set: Set<string>) =>
  (body: VisibleProfile[]): string[] => {
    const want = w.users
      .filter((s) => set.has(pairKey(v, s.index)))
      .map((s) => w.expected(v, s.index))
      .filter((p): p is VisibleProfile => p !== null);
    const key = (p: VisibleProfile) => JSON.stringify(comparable(p));
    return sameSet("profiles", body.map(key), want.map(key));
  };

/** GET /v1/contacts and GET /v1/blocks: the viewer's own lists, each entry through the rules. */
export const addressBookRoute: ReadRoute = {
  name: "contacts and blocks",
  probes: (w, v) => [
    {
      route: "GET /v1/contacts",
      method: "GET",
      path: "/v1/contacts",
      expect: { status: 200, check: profileList(w, v, w.contacts) },
    },
    {
      route: "GET /v1/blocks",
      method: "GET",
      path: "/v1/blocks",
      expect: { status: 200, check: profileList(w, v, w.blocks) },
    },
  ],
};

/** Every community (the viewer's or not) and each of its read routes. */
export const communityRoute: ReadRoute = {
  name: "communities",
  probes: (w, v, missing) => {
    const mine = w.activeCommunities().filter((c) => c.roles.has(v));
    const probes: Probe[] = [
      {
        route: "GET /v1/communities",
        method: "GET",
        path: "/v1/communities",
        expect: {
          status: 200,
          check: (body: { communities: Array<{ id: string }> }) =>
            sameSet(
              "communities",
              body.communities.map((c) => c.id),
              mine.map((c) => c.id),
            ),
        },
      },
    ];
    for (const c of w.communities.values()) {
      const role = c.active ? c.roles.get(v) : undefined;
      const admin = isAdminRole(role);
      const base = `/v1/communities/${c.id}`;
      const probe = (
        suffix: string,
        expect: Exclude<Probe["expect"], { hidden: unknown }>,
      ): Probe => ({
        route: `GET /v1/communities/:id${suffix}`,
        method: "GET",
        path: `${base}${suffix}`,
        expect:
          role === undefined
            ? { hidden: { path: `/v1/communities/${missing.community}${suffix}` } }
            : expect,
      });
      const forbidden = { status: 403 };
      const members = [...c.roles.keys()];
      const visibleAdmins = members.filter(
        (s) => isAdminRole(c.roles.get(s)) && w.expected(v, s) !== null,
      );
      probes.push(
        probe("", {
          status: 200,
          check: (body) => [
            ...(body.role === role ? [] : [`role ${body.role}, want ${role}`]),
            ...(body.memberCount === members.length
              ? []
              : [`memberCount ${body.memberCount}, want ${members.length}`]),
            ...sameSet(
              "admins",
              (body.admins as VisibleProfile[]).map((p) => p.id),
              idsOf(w, visibleAdmins),
            ),
          ],
        }),
        probe(
          "/members",
          admin
            ? {
                status: 200,
                check: (body: { members: Array<{ profile: VisibleProfile; role: string }> }) => [
                  ...sameSet(
                    "members",
                    body.members.map((m) => m.profile.id),
                    idsOf(w, members),
                  ),
                  ...body.members
                    .filter((m) => m.role !== c.roles.get(w.indexOf(m.profile.id) ?? -1))
                    .map((m) => `${m.profile.id} listed as ${m.role}`),
                ],
              }
            : forbidden,
        ),
        probe("/groups", {
          status: 200,
          check: (body: {
            groups: Array<{ groupId: string; size: number; joined: boolean; requested: boolean }>;
          }) => {
            const groups = w.groupsOf(c.id);
            const problems = sameSet(
              "directory",
              body.groups.map((g) => g.groupId),
              groups.map((g) => g.id),
            );
            for (const entry of body.groups) {
              const g = w.groups.get(entry.groupId);
              if (!g) continue;
              const want = {
                size: g.members.size,
                joined: g.members.has(v),
                requested: g.requests.has(v),
              };
              const got = { size: entry.size, joined: entry.joined, requested: entry.requested };
              if (!isDeepStrictEqual(got, want))
                problems.push(`${g.id}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
            }
            return problems;
          },
        }),
        probe(
          "/requests",
          admin
            ? {
                status: 200,
                check: (body: { requests: Array<{ userId: string }> }) =>
                  sameSet(
                    "requests",
                    body.requests.map((r) => r.userId),
                    idsOf(
                      w,
                      [...c.requests].filter((s) => w.expected(v, s) !== null),
                    ),
                  ),
              }
            : forbidden,
        ),
        probe(
          "/suggestions",
          admin
            ? {
                status: 200,
                check: (body: { suggestions: Array<{ groupId: string }> }) =>
                  sameSet(
                    "suggestions",
                    body.suggestions.map((s) => s.groupId),
                    [...c.suggestions]
                      .filter(([, by]) => w.expected(v, by) !== null)
                      .map(([g]) => g),
                  ),
              }
            : forbidden,
        ),
      );
      if (c.invite) {
        probes.push({
          route: "GET /v1/invites/:code",
          method: "GET",
          path: `/v1/invites/${c.invite}`,
          expect: c.active ? { status: 200 } : { status: 404 },
        });
      }
    }
    return probes;
  },
};

/** Whether R8 shows an admin a follower's photo beside their reaction or vote. */
function followerPhotoShown(w: World, v: number, s: number): boolean {
  const u = w.user(s);
  const facts = w.facts(v, s);
  if (u.photo === null || facts.blockedBySubject) return false;
  return admits(u.privacy.photo, facts.subjectHasViewerAsContact);
}

/** The counts a post shows everyone: emoji → how many reacted with it. */
function reactionCounts(post: WorldPost): Record<string, number> {
  const out: Record<string, number> = {};
  for (const emoji of post.reactions.values()) out[emoji] = (out[emoji] ?? 0) + 1;
  return out;
}

/** A poll's counts: votes by option, and how many voted (`channel.counts` carries these). */
export function pollCounts(poll: WorldPoll): { votes: number[]; voters: number } {
  const votes = poll.options.map(() => 0);
  for (const chosen of poll.votes.values())
    for (const option of chosen) votes[option] = (votes[option] ?? 0) + 1;
  return { votes, voters: poll.votes.size };
}

/** The poll as viewer `v` reads it in a post: counts and `v`'s own vote, nobody else's. */
function pollView(poll: WorldPoll | null, v: number) {
  if (poll === null) return null;
  const { votes, voters } = pollCounts(poll);
  return {
    question: poll.question,
    options: poll.options.map((text, i) => ({ text, votes: votes[i] })),
    multiple: poll.multiple,
    voters,
    closesAt: null,
    closed: false,
    myVote: poll.votes.get(v) ?? [],
  };
}

/** Every key of a post as followers read it: nothing names who reacted or voted. */
const postKeys = [
  "channelId",
  "seq",
  "id",
  "text",
  "link",
  "media",
  "preview",
  "poll",
  "reactions",
  "myReaction",
  "createdAt",
  "editedAt",
].sort();

/** A channel id, invite code and handle nobody has: a deleted channel answers exactly like them. */
const missingChannel = entityId("h");
const missingInvite = randomBytes(18).toString("base64url");
const missingHandle = `gone_${randomBytes(6).toString("hex")}`;

/** A refusal that says nothing of the channel, post or poll: the registry's bare error. */
const refused = (code: ErrorCode) => ({
  status: errorRegistry[code].status,
  check: (body: unknown): string[] => {
    const want = { error: { code, message: errorRegistry[code].message } };
    return isDeepStrictEqual(body, want)
      ? []
      : [`got ${JSON.stringify(body)?.slice(0, 200)}, want ${JSON.stringify(want)}`];
  },
});

/**
 * Every channel, as the channel (R9), its posts with counts only (R7), its
 * admins (R10, admins only) and pending invitations (the owner only; other
 * admins their number), who reacted to and who voted in each post (R8,
 * admins only; anyone else gets the same bare refusal), and the viewer's
 * lists: the directory (searched by the world's channel tag),
 * GET /v1/me/channels and the invitations to administer. Every channel also by
 * its handle (GET /v1/channels/by-handle/:handle, how a forwarded post's link
 * is opened), answered as by its id. Live channels are public: nothing there is hidden.
 * A deleted channel answers everyone, its admins too, like one that never
 * existed (its handle like a handle nobody has).
 */
export const channelRoute: ReadRoute = {
  name: "channels",
  probes: (w, v) => {
    const everyChannel = [...w.channels.values()];
    const channels = everyChannel.filter((c) => !c.deleted);
    const mine = channels.filter((c) => c.admins.has(v) || c.followers.has(v));
    const ids = (body: { channels: Array<{ id: string }> }) => body.channels.map((c) => c.id);
    const probes: Probe[] = [
      {
        route: "GET /v1/me/channels",
        method: "GET",
        path: "/v1/me/channels",
        expect: {
          status: 200,
          check: (body) =>
            sameSet(
              "my channels",
              ids(body),
              mine.map((c) => c.id),
            ),
        },
      },
      {
        route: "GET /v1/me/channel-invitations",
        method: "GET",
        path: "/v1/me/channel-invitations",
        expect: {
          status: 200,
          check: (body) =>
            sameSet(
              "invitations to administer",
              ids(body),
              channels.filter((c) => c.invited.has(v)).map((c) => c.id),
            ),
        },
      },
    ];
    if (w.channelTag !== null) {
      probes.push({
        route: "GET /v1/channels?q=…",
        method: "GET",
        path: `/v1/channels?q=${encodeURIComponent(w.channelTag)}`,
        expect: {
          status: 200,
          check: (body) =>
            sameSet(
              "directory",
              ids(body),
              channels.map((c) => c.id),
            ),
        },
      });
    }
    for (const c of everyChannel.filter((x) => x.deleted)) {
      const gone = (suffix: string): Probe => ({
        route: `GET /v1/channels/:id${suffix.replace(/\/\d+\//, "/:seq/")} (deleted)`,
        method: "GET",
        path: `/v1/channels/${c.id}${suffix}`,
        expect: { hidden: { path: `/v1/channels/${missingChannel}${suffix}` } },
      });
      const seq = [...c.posts].find(([, p]) => p.poll !== null)?.[0] ?? c.posts.keys().next().value;
      probes.push(gone(""), gone("/posts"), gone("/admins"), {
        route: "GET /v1/channel-invites/:code (deleted)",
        method: "GET",
        path: `/v1/channel-invites/${c.inviteCode}`,
        expect: { hidden: { path: `/v1/channel-invites/${missingInvite}` } },
      });
      if (seq !== undefined) probes.push(gone(`/posts/${seq}/votes`));
      probes.push({
        route: "GET /v1/channels/by-handle/:handle (deleted)",
        method: "GET",
        path: `/v1/channels/by-handle/${c.handle}`,
        expect: { hidden: { path: `/v1/channels/by-handle/${missingHandle}` } },
      });
    }
    const forbidden = refused("not_channel_admin");
    for (const c of channels) {
      const base = `/v1/channels/${c.id}`;
      const admin = c.admins.has(v);
      // A reactor or voter as an admin sees them (R8): handle, name, photo if allowed.
      // The photo comes by the per-channel handle, never by its id (the same in every channel).
      const follower = (u: number) => {
        const handle = c.handles.get(u)?.at(-1) ?? "(unknown handle)";
        return {
          handle,
          name: w.user(u).name,
          ...(followerPhotoShown(w, v, u) ? { photo: `${base}/followers/${handle}/photo` } : {}),
        };
      };
      // The channel as the channel (R9), whether asked for by id or by handle.
      const view = {
        status: 200,
        check: (body: Record<string, unknown>) => {
          const want = {
            id: c.id,
            handle: c.handle,
            name: c.name,
            followerCount: c.followers.size,
            reactionPolicy: c.reactionPolicy,
            role: c.admins.get(v) ?? null,
            following: c.followers.has(v),
            muted: c.followers.get(v)?.muted ?? false,
            lastSeq: c.lastSeq,
          };
          const got = Object.fromEntries(Object.keys(want).map((k) => [k, body[k]]));
          return isDeepStrictEqual(got, want)
            ? []
            : [`got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`];
        },
      };
      probes.push(
        { route: "GET /v1/channels/:id", method: "GET", path: base, expect: view },
        {
          // Handles are matched in any case: a forwarded link may have been retyped.
          route: "GET /v1/channels/by-handle/:handle",
          method: "GET",
          path: `/v1/channels/by-handle/${c.handle.toUpperCase()}`,
          expect: view,
        },
        {
          route: "GET /v1/channel-invites/:code",
          method: "GET",
          path: `/v1/channel-invites/${c.inviteCode}`,
          expect: {
            status: 200,
            check: (body) => (body.id === c.id ? [] : [`opens ${body.id}, want ${c.id}`]),
          },
        },
        {
          route: "GET /v1/channels/:id/posts",
          method: "GET",
          path: `${base}/posts`,
          expect: {
            status: 200,
            check: (body: {
              posts: Array<{
                seq: number;
                text: string;
                reactions: Record<string, number>;
                myReaction: string | null;
                editedAt: string | null;
                poll: unknown;
              }>;
              lastSeq: number;
            }) => {
              const problems = sameSet(
                "posts",
                body.posts.map((p) => String(p.seq)),
                [...c.posts.keys()].map(String),
              );
              if (body.lastSeq !== c.lastSeq) problems.push(`lastSeq ${body.lastSeq}`);
              for (const p of body.posts) {
                const post = c.posts.get(p.seq);
                if (!post) continue;
                // Counts only: the keys a post has, and a poll equal to its counts and own vote.
                const keys = Object.keys(p).sort();
                if (!isDeepStrictEqual(keys, postKeys))
                  problems.push(`post ${p.seq} has keys ${JSON.stringify(keys)}`);
                const want = {
                  text: post.text,
                  edited: post.edited,
                  reactions: reactionCounts(post),
                  myReaction: post.reactions.get(v) ?? null,
                  poll: pollView(post.poll, v),
                };
                const got = {
                  text: p.text,
                  edited: p.editedAt !== null,
                  reactions: p.reactions,
                  myReaction: p.myReaction,
                  poll: p.poll,
                };
                if (!isDeepStrictEqual(got, want))
                  problems.push(
                    `post ${p.seq}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
                  );
              }
              return problems;
            },
          },
        },
        {
          route: "GET /v1/channels/:id/admins",
          method: "GET",
          path: `${base}/admins`,
          expect: admin
            ? {
                status: 200,
                check: (body: {
                  admins: Array<{ id: string; role: string }>;
                  invited: Array<{ userId: string; name?: string }>;
                  invitedCount: number;
                }) => [
                  ...sameSet(
                    "admins",
                    body.admins.map((a) => `${a.id} ${a.role}`),
                    [...c.admins].map(([u, role]) => `${w.user(u).id} ${role}`),
                  ),
                  // The owner sent the invitations and sees whom (as the rules let it now);
                  // the other admins see how many.
                  ...sameSet(
                    "invited",
                    body.invited.map((i) => JSON.stringify([i.userId, i.name])),
                    c.admins.get(v) === "owner"
                      ? [...c.invited]
                          .map((s) => w.expected(v, s))
                          .filter((p): p is VisibleProfile => p !== null)
                          .map((p) => JSON.stringify([p.id, p.name]))
                      : [],
                  ),
                  ...(body.invitedCount === c.invited.size
                    ? []
                    : [`invitedCount ${body.invitedCount}, want ${c.invited.size}`]),
                ],
              }
            : forbidden,
        },
      );
      // Each follower's photo by their handle here: admins only, and only as R8 allows.
      for (const [u, handles] of c.handles) {
        const handle = handles.at(-1);
        const bytes = w.user(u).photoBytes;
        if (handle === undefined || !c.followers.has(u)) continue;
        const shown = admin && followerPhotoShown(w, v, u);
        if (shown && bytes === null) continue;
        probes.push({
          route: "GET /v1/channels/:id/followers/:handle/photo",
          method: "GET",
          path: `${base}/followers/${handle}/photo`,
          expect: !admin
            ? forbidden
            : shown
              ? { status: 200, bytes: bytes as Buffer }
              : { status: 404 },
        });
      }
      for (const [seq, post] of c.posts) {
        probes.push({
          route: "GET /v1/channels/:id/posts/:seq/reactions",
          method: "GET",
          path: `${base}/posts/${seq}/reactions`,
          expect: admin
            ? {
                status: 200,
                check: (body: {
                  reactions: Array<{
                    follower: { handle: string; name: string; photo?: string };
                    emoji: string;
                  }>;
                }) =>
                  sameSet(
                    "reactions",
                    body.reactions.map((r) => JSON.stringify([r.follower, r.emoji])),
                    [...post.reactions]
                      .filter(([u]) => c.followers.has(u))
                      .map(([u, emoji]) => JSON.stringify([follower(u), emoji])),
                  ),
              }
            : forbidden,
        });
        if (post.poll === null) continue;
        const poll = post.poll;
        probes.push({
          route: "GET /v1/channels/:id/posts/:seq/votes",
          method: "GET",
          path: `${base}/posts/${seq}/votes`,
          expect: admin
            ? {
                status: 200,
                check: (body: {
                  votes: Array<{
                    follower: { handle: string; name: string; photo?: string };
                    options: number[];
                  }>;
                }) =>
                  sameSet(
                    "votes",
                    body.votes.map((r) => JSON.stringify([r.follower, r.options])),
                    [...poll.votes]
                      .filter(([u]) => c.followers.has(u))
                      .map(([u, options]) => JSON.stringify([follower(u), options])),
                  ),
              }
            : forbidden,
        });
      }
    }
    return probes;
  },
};

/** Every group in the world (the viewer's or not): its summary and its requests. */
export const groupRoute: ReadRoute = {
  name: "groups",
  probes: (w, v, missing) => {
    const mine = [...w.groups.values()].filter((g) => w.membersOf(g).has(v));
    const probes: Probe[] = [
      {
        route: "GET /v1/groups",
        method: "GET",
        path: "/v1/groups",
        expect: {
          status: 200,
          check: (body: Array<{ id: string }>) =>
            sameSet(
              "groups",
              body.map((g) => g.id),
              mine.map((g) => g.id),
            ),
        },
      },
    ];
    for (const g of w.groups.values()) {
      const members = w.membersOf(g);
      const member = members.has(v);
      const community = g.communityId ? w.communities.get(g.communityId) : undefined;
      const listed =
        g.kind !== "announcement" ||
        isAdminRole(community?.active ? community.roles.get(v) : undefined);
      probes.push({
        route: "GET /v1/groups/:id",
        method: "GET",
        path: `/v1/groups/${g.id}`,
        expect: member
          ? {
              status: 200,
              check: (body: {
                members: Array<{ userId: string }>;
                memberCount: number;
                peerUserId?: string;
                communityId: string | null;
              }) => {
                // The peer is named only while a rule lets V see them.
                const pairPeer = g.pair?.find((u) => u !== v);
                const peer =
                  pairPeer !== undefined && w.granted(v, pairPeer).has("id") ? pairPeer : undefined;
                return [
                  ...sameSet(
                    "members",
                    new Set(body.members.map((m) => m.userId)),
                    listed
                      ? idsOf(
                          w,
                          [...members].filter((u) => u === v || w.granted(v, u).has("id")),
                        )
                      : [],
                  ),
                  ...(body.memberCount === members.size
                    ? []
                    : [`memberCount ${body.memberCount}, want ${members.size}`]),
                  ...(body.peerUserId === (peer === undefined ? undefined : w.user(peer).id)
                    ? []
                    : [`peerUserId ${body.peerUserId}`]),
                  ...(body.communityId === g.communityId
                    ? []
                    : [`communityId ${body.communityId}, want ${g.communityId}`]),
                ];
              },
            }
          : { hidden: { path: `/v1/groups/${missing.group}` } },
      });
      const decides = g.admins.has(v) || !g.approveMembers;
      probes.push({
        route: "GET /v1/groups/:id/requests",
        method: "GET",
        path: `/v1/groups/${g.id}/requests`,
        expect: !member
          ? { hidden: { path: `/v1/groups/${missing.group}/requests` } }
          : g.kind !== "group"
            ? { status: 400 }
            : decides
              ? {
                  status: 200,
                  check: (body: { requests: Array<{ userId: string }> }) =>
                    sameSet(
                      "requests",
                      body.requests.map((r) => r.userId),
                      idsOf(w, g.requests),
                    ),
                }
              : { status: 403 },
      });
    }
    return probes;
  },
};

/** GET /v1/mailbox: each item is judged against the states around its creation. */
export const mailboxRoute: ReadRoute = {
  name: "mailbox",
  probes: () => [
    { route: "GET /v1/mailbox", method: "GET", path: "/v1/mailbox", expect: { status: 200 } },
  ],
};

/** Every read route the server has for the facts the world holds today. */
export const readRoutes: readonly ReadRoute[] = [
  profileRoute,
  photoRoute,
  keyPackageRoute,
  addressBookRoute,
  communityRoute,
  groupRoute,
  mailboxRoute,
  channelRoute,
];

/**
 * Makes every probe of `routes` as viewer `v` against the world as it is
 * (nothing may change meanwhile), and checks each answer's status, its
 * body, and that hidden things answer exactly like missing ones. The
 * replies land in the collector, for `Auditor.inspect` to walk.
 */
export async function auditReads(
  world: World,
  collector: Collector,
  v: number,
  missing: MissingIds,
  routes: readonly ReadRoute[] = readRoutes,
): Promise<Violation[]> {
  const out: Violation[] = [];
  const likeCache = new Map<string, Promise<RawReply>>();
  const viewer = world.user(v).label;
  const label = (s: number | undefined) => (s === undefined ? null : world.user(s).label);
  const separated = (s: number | undefined, probe: Probe) => {
    if (s !== undefined) return world.separatedInCommunity(v, s);
    // A group of a community the viewer is in, that the viewer is not in.
    const groupId = /^\/v1\/groups\/([^/]+)/.exec(probe.path)?.[1];
    const g = groupId ? world.groups.get(groupId) : undefined;
    const c = g?.communityId ? world.communities.get(g.communityId) : undefined;
    return Boolean(c?.active && c.roles.has(v) && g && !world.membersOf(g).has(v));
  };
  const run = async (probe: Probe) => {
    const got = await collector.request(v, probe.method, probe.path, probe.body);
    const fail = (detail: string) =>
      out.push({
        kind: "mismatch",
        invariant: separated(probe.subject, probe) ? 3 : 1,
        viewer,
        subject: label(probe.subject),
        where: `${probe.method} ${probe.path}`,
        field: null,
        detail: `${probe.route}: ${detail}`,
      });
    if ("hidden" in probe.expect) {
      const like = probe.expect.hidden;
      const key = `${probe.method} ${like.path} ${JSON.stringify(like.body ?? null)}`;
      let pending = likeCache.get(key);
      if (!pending) {
        pending = collector.request(v, probe.method, like.path, like.body);
        likeCache.set(key, pending);
      }
      const none = await pending;
      const shape = (r: RawReply) => ({ status: r.status, type: r.type, body: r.bytes.toString() });
      if (!isDeepStrictEqual(shape(got), shape(none))) {
        fail(
          `answers ${JSON.stringify(shape(got)).slice(0, 300)}, not like a missing one: ${JSON.stringify(shape(none))}`,
        );
      }
      return;
    }
    const want = probe.expect;
    if (got.status !== want.status) {
      fail(`status ${got.status} (${got.bytes.toString().slice(0, 200)}), want ${want.status}`);
      return;
    }
    if (want.bytes && !got.bytes.equals(want.bytes)) fail("other bytes");
    for (const problem of want.check?.(got.body) ?? []) fail(problem);
  };
  const probes = routes.flatMap((r) => r.probes(world, v, missing));
  // A few at a time: the server answers in parallel, the report stays in order.
  for (let i = 0; i < probes.length; i += 8) await Promise.all(probes.slice(i, i + 8).map(run));
  return out;
}

/** A readable report of violations, one line each, grouped by invariant. */
export function describeViolations(world: World, violations: readonly Violation[]): string {
  const who = world.users.map((u) => `${u.label}=${u.id}`).join(" ");
  const index = (label: string | null) => world.users.find((u) => u.label === label)?.index;
  const factsNow = (v: number | undefined, s: number | undefined) => {
    if (v === undefined || s === undefined) return "";
    const facts = world.facts(v, s);
    const held = Object.entries(facts)
      .filter(([, on]) => on)
      .map(([k]) => k);
    return ` (facts now: ${held.join(", ") || "none"})`;
  };
  const lines = violations
    .slice(0, 40)
    .map(
      (x) =>
        `[inv ${x.invariant} ${x.kind}] viewer ${x.viewer}${x.subject ? `, subject ${x.subject}` : ""}` +
        `${x.field ? `, field ${x.field}` : ""} in ${x.where}: ${x.detail}` +
        factsNow(index(x.viewer), index(x.subject)),
    );
  const more = violations.length > 40 ? [`… and ${violations.length - 40} more`] : [];
  return [`${violations.length} violation(s); users: ${who}`, ...lines, ...more].join("\n");
}

/** A 1×1 PNG: the photo every test user uploads. */
export const tinyPng = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5a1b5d80000000049454e44ae426082",
  "hex",
);
