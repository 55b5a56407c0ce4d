import { AbilityBuilder, createMongoAbility, type MongoAbility, subject } from "@casl/ability";
import { rulesToQuery } from "@casl/ability/extra";

/** The permission vocabulary of roles (documented in docs/business.md, "Team inbox"). */
export const permissions = [
  "conversations:read:all",
  "conversations:read:team",
  "conversations:read:assigned",
  "conversations:reply",
  "conversations:assign",
  "conversations:status",
  "notes:write",
  "agents:manage",
  "teams:manage",
  "roles:manage",
  "api-keys:manage",
  "webhooks:manage",
  "intents:manage",
  "audit:read",
] as const;
export type Permission = (typeof permissions)[number];

export const isPermission = (value: string): value is Permission =>
  (permissions as readonly string[]).includes(value);

export const builtinRoleIds = ["admin", "supervisor", "agent"] as const;

/** What a permission lets one do, as CASL actions on subjects. */
export type Action = "read" | "reply" | "assign" | "status" | "note" | "manage";
export type SubjectType =
  | "Conversation"
  | "Agent"
  | "Team"
  | "Role"
  | "ApiKey"
  | "Webhook"
  | "Intent"
  | "AuditLog";

/** The fields of a conversation the conditions look at. */
export interface ConversationFields {
  teamId: string | null;
  assigneeId: string | null;
}

export type InboxAbility = MongoAbility<[Action, SubjectType | ReturnType<typeof conversation>]>;

const managed: Partial<Record<Permission, SubjectType>> = {
  "agents:manage": "Agent",
  "teams:manage": "Team",
  "roles:manage": "Role",
  "api-keys:manage": "ApiKey",
  "webhooks:manage": "Webhook",
  "intents:manage": "Intent",
};

/**
 * The abilities of an agent: its role's permissions, with the read
 * conditions bound to its teams and its id. Visibility is checked on the
 * conversation itself; the other conversation actions are then type-level.
 */
export function abilityFor(
  agent: { id: string; teamIds: readonly string[] },
  granted: readonly string[],
): InboxAbility {
  const { can, build } = new AbilityBuilder<InboxAbility>(createMongoAbility);
  const has = (p: Permission) => granted.includes(p);
  if (has("conversations:read:all")) can("read", "Conversation");
  if (has("conversations:read:team"))
    can("read", "Conversation", { teamId: { $in: [...agent.teamIds] } });
  if (has("conversations:read:assigned")) can("read", "Conversation", { assigneeId: agent.id });
  if (has("conversations:reply")) can("reply", "Conversation");
  if (has("conversations:assign")) can("assign", "Conversation");
  if (has("conversations:status")) can("status", "Conversation");
  if (has("notes:write")) can("note", "Conversation");
  if (has("audit:read")) can("read", "AuditLog");
  for (const [permission, target] of Object.entries(managed))
    if (has(permission as Permission)) can("manage", target);
  return build();
}

/** A conversation as a CASL subject. */
export const conversation = (fields: ConversationFields) => subject("Conversation", { ...fields });

/**
 * Which conversations an ability may read, for filtering lists in SQL:
 * null (none), "all", or the union of the allowed team ids and assignee ids.
 */
export type ReadScope = null | "all" | { teamIds: string[]; assigneeIds: string[] };

export function readScope(ability: InboxAbility): ReadScope {
  const query = rulesToQuery(ability, "read", "Conversation", (rule) => {
    if (rule.inverted) throw new Error("inverted conversation rules are not supported");
    return rule.conditions ?? {};
  });
  if (query === null) return null;
  const parts = (query.$or ?? []) as Array<Record<string, unknown>>;
  if (Object.keys(query).length === 0 || parts.some((p) => Object.keys(p).length === 0))
    return "all";
  const scope = { teamIds: [] as string[], assigneeIds: [] as string[] };
  for (const part of parts) {
    const team = part.teamId as { $in?: string[] } | undefined;
    if (team?.$in) scope.teamIds.push(...team.$in);
    if (typeof part.assigneeId === "string") scope.assigneeIds.push(part.assigneeId);
  }
  return scope;
}
