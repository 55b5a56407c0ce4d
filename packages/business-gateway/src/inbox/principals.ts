import { timingSafeEqual } from "node:crypto";
import { bearer } from "../api-keys.js";
import { CloudError } from "../cloud-errors.js";
import { sha256Hex } from "../ids.js";
import type { Db } from "../store/database.js";
import {
  abilityFor,
  type InboxAbility,
  type Permission,
  permissions,
  type SubjectType,
} from "./permissions.js";

/** Session tokens carry a prefix, so a bearer token is recognisably one. */
export const sessionPrefix = "vis_";

export interface AgentPrincipal {
  kind: "agent";
  actor: string;
  agentId: string;
  roleId: string;
  permissions: string[];
  teamIds: string[];
  ability: InboxAbility;
}

/** Who is calling, resolved from the bearer token. */
export type Principal =
  | { kind: "admin-key"; actor: "admin-key"; ability: InboxAbility }
  | { kind: "api-key"; actor: string; keyId: string; scopes: string[] }
  | AgentPrincipal;

const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(Buffer.from(sha256Hex(a), "hex"), Buffer.from(sha256Hex(b), "hex"));

const everything = abilityFor({ id: "admin-key", teamIds: [] }, [...permissions]);

/** The teams an agent belongs to. */
export async function teamIdsOf(db: Db, agentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("inbox_team_members")
    .select("team_id")
    .where("agent_id", "=", agentId)
    .orderBy("team_id")
    .execute();
  return rows.map((r) => r.team_id);
}

/** An active agent's principal (its role and teams read now). */
export async function agentPrincipal(db: Db, agentId: string): Promise<AgentPrincipal | null> {
  const row = await db
    .selectFrom("inbox_agents as a")
    .innerJoin("inbox_roles as r", "r.id", "a.role_id")
    .select(["a.id", "a.active", "a.role_id", "r.permissions"])
    .where("a.id", "=", agentId)
    .executeTakeFirst();
  if (row?.active !== 1) return null;
  const granted = JSON.parse(row.permissions) as string[];
  const teamIds = await teamIdsOf(db, row.id);
  return {
    kind: "agent",
    actor: row.id,
    agentId: row.id,
    roleId: row.role_id,
    permissions: granted,
    teamIds,
    ability: abilityFor({ id: row.id, teamIds }, granted),
  };
}

/**
 * Resolves a bearer token: the admin key, an agent's session (live, its agent
 * active), or an API key (live). Anything else is the Cloud API's 190.
 */
export async function identify(
  db: Db,
  adminKey: string,
  header: string | undefined,
  now = Date.now(),
): Promise<Principal> {
  const token = bearer(header);
  if (token === null) throw new CloudError("invalid_token", "An access token is required");
  if (sameSecret(token, adminKey))
    return { kind: "admin-key", actor: "admin-key", ability: everything };
  if (token.startsWith(sessionPrefix)) {
    const session = await db
      .selectFrom("inbox_sessions")
      .select(["agent_id", "expires_at"])
      .where("token_hash", "=", sha256Hex(token))
      .executeTakeFirst();
    const principal =
      session && session.expires_at > now ? await agentPrincipal(db, session.agent_id) : null;
    if (!principal) throw new CloudError("invalid_token", "The session is not valid");
    return principal;
  }
  const key = await db
    .selectFrom("api_keys")
    .select(["id", "scopes", "revoked_at"])
    .where("key_hash", "=", sha256Hex(token))
    .executeTakeFirst();
  if (!key || key.revoked_at !== null)
    throw new CloudError("invalid_token", "The access token is not valid");
  return {
    kind: "api-key",
    actor: `api-key:${key.id}`,
    keyId: key.id,
    scopes: JSON.parse(key.scopes) as string[],
  };
}

/** The subject a management permission guards. */
const guarded: Record<string, { action: "manage" | "read"; subject: SubjectType }> = {
  "agents:manage": { action: "manage", subject: "Agent" },
  "teams:manage": { action: "manage", subject: "Team" },
  "roles:manage": { action: "manage", subject: "Role" },
  "api-keys:manage": { action: "manage", subject: "ApiKey" },
  "webhooks:manage": { action: "manage", subject: "Webhook" },
  "intents:manage": { action: "manage", subject: "Intent" },
  "audit:read": { action: "read", subject: "AuditLog" },
};

/** Whether a principal holds a permission (API keys never hold inbox permissions). */
export function holds(principal: Principal, permission: Permission): boolean {
  if (principal.kind === "api-key") return false;
  const rule = guarded[permission];
  if (rule) return principal.ability.can(rule.action, rule.subject);
  return principal.kind === "admin-key" || principal.permissions.includes(permission);
}

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!holds(principal, permission))
    throw new CloudError("permission_denied", `This requires the ${permission} permission`);
}
