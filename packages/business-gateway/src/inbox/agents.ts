import { randomBytes } from "node:crypto";
import { CloudError } from "../cloud-errors.js";
import { randomId, sha256Hex } from "../ids.js";
import type { Database, Db } from "../store/database.js";
import { type Actor, audit } from "./audit.js";
import { conflictOnDuplicate } from "./conflicts.js";
import { decoyHash, hashPassword, verifyPassword } from "./passwords.js";
import { sessionPrefix, teamIdsOf } from "./principals.js";

export const invitationTtlMs = 7 * 24 * 3600_000;
export const sessionTtlMs = 30 * 24 * 3600_000;

export interface Agent {
  id: string;
  name: string;
  email: string;
  roleId: string;
  active: boolean;
  teamIds: string[];
  createdAt: number;
}

type AgentRow = {
  id: string;
  name: string;
  email: string;
  role_id: string;
  active: number;
  created_at: number;
};

const agentColumns = ["id", "name", "email", "role_id", "active", "created_at"] as const;

async function toAgent(db: Db, row: AgentRow): Promise<Agent> {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    roleId: row.role_id,
    active: row.active === 1,
    teamIds: await teamIdsOf(db, row.id),
    createdAt: row.created_at,
  };
}

export async function getAgent(db: Db, id: string): Promise<Agent | null> {
  const row = await db
    .selectFrom("inbox_agents")
    .select(agentColumns)
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? toAgent(db, row) : null;
}

export async function listAgents(db: Db): Promise<Agent[]> {
  const rows = await db
    .selectFrom("inbox_agents")
    .select(agentColumns)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return Promise.all(rows.map((row) => toAgent(db, row)));
}

async function requireRole(db: Db, roleId: string): Promise<void> {
  const role = await db
    .selectFrom("inbox_roles")
    .select("id")
    .where("id", "=", roleId)
    .executeTakeFirst();
  if (!role) throw new CloudError("parameter_invalid", "roleId is not a known role");
}

async function requireTeams(db: Db, teamIds: readonly string[]): Promise<void> {
  if (teamIds.length === 0) return;
  const found = await db
    .selectFrom("inbox_teams")
    .select("id")
    .where("id", "in", [...teamIds])
    .execute();
  if (found.length !== new Set(teamIds).size)
    throw new CloudError("parameter_invalid", "teamIds has an unknown team");
}

const newToken = (prefix: string) => `${prefix}${randomBytes(32).toString("base64url")}`;

/** A new agent with a one-time invitation (the token is returned once; its SHA-256 is kept). */
export async function createAgent(
  database: Database,
  actor: Actor,
  input: { name: string; email: string; roleId: string; teamIds?: string[] },
): Promise<{ agent: Agent; invitation: { token: string; expiresAt: number } }> {
  const db = database.db;
  const email = input.email.trim().toLowerCase();
  await requireRole(db, input.roleId);
  const teamIds = [...new Set(input.teamIds ?? [])];
  await requireTeams(db, teamIds);
  const now = Date.now();
  const id = randomId("agt_", 9);
  const token = newToken("vii_");
  const expiresAt = now + invitationTtlMs;
  try {
    await database.transaction(async (tx) => {
      await tx.db
        .insertInto("inbox_agents")
        .values({
          id,
          name: input.name.trim(),
          email,
          role_id: input.roleId,
          password_hash: null,
          active: 1,
          created_at: now,
          updated_at: now,
        })
        .execute();
      for (const teamId of teamIds)
        await tx.db
          .insertInto("inbox_team_members")
          .values({ team_id: teamId, agent_id: id, created_at: now })
          .execute();
      await tx.db
        .insertInto("inbox_invitations")
        .values({
          token_hash: sha256Hex(token),
          agent_id: id,
          expires_at: expiresAt,
          used_at: null,
        })
        .execute();
      await audit(tx.db, actor, "agent.created", id, { roleId: input.roleId, teamIds }, now);
    });
  } catch (error) {
    conflictOnDuplicate(database, error, "an agent with this email exists");
  }
  return { agent: (await getAgent(db, id)) as Agent, invitation: { token, expiresAt } };
}

/** Sends a fresh invitation (the old ones stop working). */
export async function reinvite(
  database: Database,
  actor: Actor,
  agentId: string,
): Promise<{ token: string; expiresAt: number }> {
  const token = newToken("vii_");
  const now = Date.now();
  const expiresAt = now + invitationTtlMs;
  await database.transaction(async (tx) => {
    await tx.db
      .updateTable("inbox_invitations")
      .set({ used_at: now })
      .where("agent_id", "=", agentId)
      .where("used_at", "is", null)
      .execute();
    await tx.db
      .insertInto("inbox_invitations")
      .values({
        token_hash: sha256Hex(token),
        agent_id: agentId,
        expires_at: expiresAt,
        used_at: null,
      })
      .execute();
    await audit(tx.db, actor, "agent.invited", agentId, {}, now);
  });
  return { token, expiresAt };
}

async function createSession(db: Db, agentId: string, now: number) {
  const token = newToken(sessionPrefix);
  const expiresAt = now + sessionTtlMs;
  await db
    .insertInto("inbox_sessions")
    .values({
      token_hash: sha256Hex(token),
      agent_id: agentId,
      created_at: now,
      expires_at: expiresAt,
    })
    .execute();
  return { token, expiresAt };
}

/** Sets the agent's password from an invitation and signs it in. */
export async function acceptInvitation(
  database: Database,
  token: string,
  password: string,
): Promise<{ token: string; expiresAt: number; agentId: string }> {
  const now = Date.now();
  const passwordHash = await hashPassword(password);
  const result = await database.transaction(async (tx) => {
    const invitation = await tx.db
      .selectFrom("inbox_invitations as i")
      .innerJoin("inbox_agents as a", "a.id", "i.agent_id")
      .select(["i.token_hash", "i.agent_id", "i.expires_at", "i.used_at", "a.active"])
      .where("i.token_hash", "=", sha256Hex(token))
      .executeTakeFirst();
    if (
      !invitation ||
      invitation.used_at !== null ||
      invitation.expires_at <= now ||
      invitation.active !== 1
    )
      return null;
    const used = await tx.db
      .updateTable("inbox_invitations")
      .set({ used_at: now })
      .where("token_hash", "=", invitation.token_hash)
      .where("used_at", "is", null)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return null;
    await tx.db
      .updateTable("inbox_agents")
      .set({ password_hash: passwordHash, updated_at: now })
      .where("id", "=", invitation.agent_id)
      .execute();
    await audit(tx.db, invitation.agent_id, "invitation.accepted", invitation.agent_id, {}, now);
    const session = await createSession(tx.db, invitation.agent_id, now);
    return { ...session, agentId: invitation.agent_id };
  });
  if (!result) throw new CloudError("sign_in_failed", "The invitation is not valid or has expired");
  return result;
}

/** Failed sign-ins per email within the window (kept in memory: a restart forgets them). */
export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    readonly maxFailures = 10,
    readonly windowMs = 15 * 60_000,
    readonly maxTracked = 10_000,
  ) {}

  private recent(email: string, now: number): number[] {
    const kept = (this.failures.get(email) ?? []).filter((at) => at > now - this.windowMs);
    if (kept.length === 0) this.failures.delete(email);
    else this.failures.set(email, kept);
    return kept;
  }

  blocked(email: string, now: number): boolean {
    return this.recent(email, now).length >= this.maxFailures;
  }

  fail(email: string, now: number): void {
    const recent = this.recent(email, now);
    this.failures.delete(email);
    this.failures.set(email, [...recent, now]);
    // Bounded: past `maxTracked` emails the least recently failed are forgotten first.
    for (const stale of this.failures.keys()) {
      if (this.failures.size <= this.maxTracked) break;
      this.failures.delete(stale);
    }
  }

  succeed(email: string): void {
    this.failures.delete(email);
  }
}

/** Email and password; a wrong email and a wrong password fail alike (and take as long). */
export async function signIn(
  database: Database,
  limiter: SignInLimiter,
  emailInput: string,
  password: string,
): Promise<{ token: string; expiresAt: number; agentId: string }> {
  const db = database.db;
  const email = emailInput.trim().toLowerCase();
  const now = Date.now();
  const row = await db
    .selectFrom("inbox_agents")
    .select(["id", "password_hash", "active"])
    .where("email", "=", email)
    .executeTakeFirst();
  if (limiter.blocked(email, now)) {
    await audit(db, "anonymous", "session.rate_limited", row?.id ?? null, {}, now);
    throw new CloudError("rate_limited", "Too many failed sign-ins; try again later");
  }
  const ok = await verifyPassword(password, row?.password_hash ?? decoyHash);
  if (!row || !ok || row.active !== 1 || row.password_hash === null) {
    limiter.fail(email, now);
    await audit(db, "anonymous", "session.failed", row?.id ?? null, {}, now);
    throw new CloudError("sign_in_failed", "The email or password is not right");
  }
  limiter.succeed(email);
  const session = await database.transaction(async (tx) => {
    const created = await createSession(tx.db, row.id, now);
    await audit(tx.db, row.id, "session.created", row.id, {}, now);
    return created;
  });
  return { ...session, agentId: row.id };
}

export async function endSession(db: Db, agentId: string, token: string): Promise<void> {
  await db.deleteFrom("inbox_sessions").where("token_hash", "=", sha256Hex(token)).execute();
  await audit(db, agentId, "session.ended", agentId);
}

/** Renames, changes the role, (de)activates; deactivating ends every session of the agent. */
export async function updateAgent(
  database: Database,
  actor: Actor,
  id: string,
  changes: { name?: string; roleId?: string; active?: boolean },
): Promise<Agent> {
  if (changes.roleId !== undefined) await requireRole(database.db, changes.roleId);
  const now = Date.now();
  const found = await database.transaction(async (tx) => {
    const row = await tx.db
      .selectFrom("inbox_agents")
      .select("id")
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) return false;
    await tx.db
      .updateTable("inbox_agents")
      .set({
        updated_at: now,
        ...(changes.name !== undefined ? { name: changes.name.trim() } : {}),
        ...(changes.roleId !== undefined ? { role_id: changes.roleId } : {}),
        ...(changes.active !== undefined ? { active: changes.active ? 1 : 0 } : {}),
      })
      .where("id", "=", id)
      .execute();
    if (changes.active === false)
      await tx.db.deleteFrom("inbox_sessions").where("agent_id", "=", id).execute();
    await audit(
      tx.db,
      actor,
      "agent.updated",
      id,
      {
        ...(changes.name !== undefined ? { renamed: true } : {}),
        ...(changes.roleId !== undefined ? { roleId: changes.roleId } : {}),
        ...(changes.active !== undefined ? { active: changes.active } : {}),
      },
      now,
    );
    return true;
  });
  if (!found) throw new CloudError("not_found", "no such agent");
  return (await getAgent(database.db, id)) as Agent;
}
