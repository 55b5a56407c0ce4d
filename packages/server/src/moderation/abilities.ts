import {
  AbilityBuilder,
  createMongoAbility,
  type ForcedSubject,
  type MongoAbility,
  subject,
} from "@casl/ability";
import type { FastifyReply, FastifyRequest } from "fastify";
import { isPlatformRole, type PlatformRole } from "../accounts/platform-roles.js";
import { caller } from "../auth/require-auth.js";
import { VeilError } from "../errors.js";
import type { Db } from "../store/database.js";

/**
 * Who may do what in moderation. Platform moderators and admins work the
 * queue (read, claim, note, decide), decide appeals and read the audit log;
 * everyone signed in may report; a channel's owner may appeal a decision
 * about that channel. Kept in one place, as data, so the routes ask "may
 * this caller …" and never compare role names themselves.
 */
export type ModerationAction = "read" | "claim" | "note" | "decide" | "create";

/** What the actions apply to; an appeal being opened carries its channel's owner. */
export type ModerationSubject =
  | "Case"
  | "Appeal"
  | "AuditLog"
  | "Report"
  | (AppealDraft & ForcedSubject<"Appeal">);

export interface AppealDraft {
  /** The owner of the channel the appealed decision is about. */
  channelOwnerId: string;
}

export type ModerationAbility = MongoAbility<[ModerationAction, ModerationSubject]>;

/** The abilities of one user, from their platform role (null: an ordinary user). */
export function abilityFor(userId: string, role: PlatformRole | null): ModerationAbility {
  const { can, build } = new AbilityBuilder<ModerationAbility>(createMongoAbility);
  can("create", "Report");
  can("create", "Appeal", { channelOwnerId: userId });
  if (role === "moderator" || role === "admin") {
    can(["read", "claim", "note", "decide"], "Case");
    can(["read", "decide"], "Appeal");
    can("read", "AuditLog");
  }
  return build();
}

/** The caller's abilities, read from `users.platform_role` (granted by `veil admin grant`). */
export async function loadAbility(db: Db, userId: string): Promise<ModerationAbility> {
  const row = await db
    .selectFrom("users")
    .select("platform_role")
    .where("id", "=", userId)
    .executeTakeFirst();
  const role = row?.platform_role ?? null;
  return abilityFor(userId, role !== null && isPlatformRole(role) ? role : null);
}

/** A subject for checking who may appeal: `ability.can("create", appealOf(ownerId))`. */
export const appealOf = (channelOwnerId: string) => subject("Appeal", { channelOwnerId });

/**
 * A preValidation hook for the moderators' routes, after `requireAuth`:
 * anyone without the ability gets `not_moderator` before the request's
 * parameters and body are even validated (nothing about a case leaks to them).
 */
export function requireAbility(
  db: Db,
  action: ModerationAction,
  target: "Case" | "Appeal" | "AuditLog",
) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const ability = await loadAbility(db, caller(request).userId);
    if (!ability.can(action, target)) throw new VeilError("not_moderator");
  };
}
