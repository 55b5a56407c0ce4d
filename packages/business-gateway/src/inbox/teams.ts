import { CloudError } from "../cloud-errors.js";
import { randomId } from "../ids.js";
import type { Database, Db } from "../store/database.js";
import { type Actor, audit } from "./audit.js";
import { conflictOnDuplicate } from "./conflicts.js";

export type Routing = "manual" | "round_robin";

export interface Team {
  id: string;
  name: string;
  routing: Routing;
  memberIds: string[];
  createdAt: number;
}

const columns = ["id", "name", "routing", "created_at"] as const;

async function toTeam(
  db: Db,
  row: { id: string; name: string; routing: string; created_at: number },
): Promise<Team> {
  const members = await db
    .selectFrom("inbox_team_members")
    .select("agent_id")
    .where("team_id", "=", row.id)
    .orderBy("agent_id")
    .execute();
  return {
    id: row.id,
    name: row.name,
    routing: row.routing as Routing,
    memberIds: members.map((m) => m.agent_id),
    createdAt: row.created_at,
  };
}

export async function getTeam(db: Db, id: string): Promise<Team | null> {
  const row = await db
    .selectFrom("inbox_teams")
    .select(columns)
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? toTeam(db, row) : null;
}

export async function listTeams(db: Db): Promise<Team[]> {
  const rows = await db
    .selectFrom("inbox_teams")
    .select(columns)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return Promise.all(rows.map((row) => toTeam(db, row)));
}

export async function createTeam(
  database: Database,
  actor: Actor,
  input: { name: string; routing: Routing },
): Promise<Team> {
  const id = randomId("team_", 9);
  const now = Date.now();
  try {
    await database.transaction(async (tx) => {
      await tx.db
        .insertInto("inbox_teams")
        .values({
          id,
          name: input.name.trim(),
          routing: input.routing,
          rr_last_agent_id: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await audit(
        tx.db,
        actor,
        "team.created",
        id,
        { name: input.name.trim(), routing: input.routing },
        now,
      );
    });
  } catch (error) {
    conflictOnDuplicate(database, error, "a team with this name exists");
  }
  return (await getTeam(database.db, id)) as Team;
}

export async function updateTeam(
  database: Database,
  actor: Actor,
  id: string,
  changes: { name?: string; routing?: Routing },
): Promise<Team> {
  if (!(await getTeam(database.db, id))) throw new CloudError("not_found", "no such team");
  const now = Date.now();
  try {
    await database.transaction(async (tx) => {
      await tx.db
        .updateTable("inbox_teams")
        .set({
          updated_at: now,
          ...(changes.name !== undefined ? { name: changes.name.trim() } : {}),
          ...(changes.routing !== undefined ? { routing: changes.routing } : {}),
        })
        .where("id", "=", id)
        .execute();
      await audit(
        tx.db,
        actor,
        "team.updated",
        id,
        { ...changes, ...(changes.name ? { name: changes.name.trim() } : {}) },
        now,
      );
    });
  } catch (error) {
    conflictOnDuplicate(database, error, "a team with this name exists");
  }
  return (await getTeam(database.db, id)) as Team;
}

/** Deletes a team: its conversations keep their assignee and lose the team; the default goes too. */
export async function deleteTeam(database: Database, actor: Actor, id: string): Promise<void> {
  if (!(await getTeam(database.db, id))) throw new CloudError("not_found", "no such team");
  await database.transaction(async (tx) => {
    await tx.db
      .updateTable("inbox_conversation_state")
      .set({ team_id: null })
      .where("team_id", "=", id)
      .execute();
    await tx.db
      .deleteFrom("inbox_settings")
      .where("key", "=", "defaultTeamId")
      .where("value", "=", id)
      .execute();
    await tx.db.deleteFrom("inbox_team_members").where("team_id", "=", id).execute();
    await tx.db.deleteFrom("inbox_teams").where("id", "=", id).execute();
    await audit(tx.db, actor, "team.deleted", id);
  });
}

async function requireTeamAndAgent(db: Db, teamId: string, agentId: string): Promise<void> {
  if (!(await getTeam(db, teamId))) throw new CloudError("not_found", "no such team");
  const agent = await db
    .selectFrom("inbox_agents")
    .select("id")
    .where("id", "=", agentId)
    .executeTakeFirst();
  if (!agent) throw new CloudError("not_found", "no such agent");
}

export async function addMember(
  database: Database,
  actor: Actor,
  teamId: string,
  agentId: string,
): Promise<Team> {
  await requireTeamAndAgent(database.db, teamId, agentId);
  await database.transaction(async (tx) => {
    const member = await tx.db
      .selectFrom("inbox_team_members")
      .select("agent_id")
      .where("team_id", "=", teamId)
      .where("agent_id", "=", agentId)
      .executeTakeFirst();
    if (member) return;
    await tx.db
      .insertInto("inbox_team_members")
      .values({ team_id: teamId, agent_id: agentId, created_at: Date.now() })
      .execute();
    await audit(tx.db, actor, "team.member_added", teamId, { agentId });
  });
  return (await getTeam(database.db, teamId)) as Team;
}

export async function removeMember(
  database: Database,
  actor: Actor,
  teamId: string,
  agentId: string,
): Promise<Team> {
  await requireTeamAndAgent(database.db, teamId, agentId);
  await database.transaction(async (tx) => {
    const removed = await tx.db
      .deleteFrom("inbox_team_members")
      .where("team_id", "=", teamId)
      .where("agent_id", "=", agentId)
      .executeTakeFirst();
    if (Number(removed.numDeletedRows) > 0)
      await audit(tx.db, actor, "team.member_removed", teamId, { agentId });
  });
  return (await getTeam(database.db, teamId)) as Team;
}

export interface Settings {
  defaultTeamId: string | null;
}

export async function getSettings(db: Db): Promise<Settings> {
  const row = await db
    .selectFrom("inbox_settings")
    .select("value")
    .where("key", "=", "defaultTeamId")
    .executeTakeFirst();
  return { defaultTeamId: row?.value ?? null };
}

export async function updateSettings(
  database: Database,
  actor: Actor,
  settings: Settings,
): Promise<Settings> {
  const teamId = settings.defaultTeamId;
  if (teamId !== null && !(await getTeam(database.db, teamId)))
    throw new CloudError("parameter_invalid", "defaultTeamId is not a known team");
  await database.transaction(async (tx) => {
    await tx.db.deleteFrom("inbox_settings").where("key", "=", "defaultTeamId").execute();
    if (teamId !== null)
      await tx.db
        .insertInto("inbox_settings")
        .values({ key: "defaultTeamId", value: teamId })
        .execute();
    await audit(tx.db, actor, "settings.updated", null, { defaultTeamId: teamId });
  });
  return getSettings(database.db);
}

/**
 * The next active member of a round-robin team after the team's cursor (in
 * agent-id order, wrapping), moving the cursor; run inside the transaction
 * that assigns, so the order survives restarts.
 */
export async function nextRoundRobinAgent(db: Db, teamId: string): Promise<string | null> {
  const team = await db
    .selectFrom("inbox_teams")
    .select(["routing", "rr_last_agent_id"])
    .where("id", "=", teamId)
    .executeTakeFirst();
  if (team?.routing !== "round_robin") return null;
  const members = await db
    .selectFrom("inbox_team_members as m")
    .innerJoin("inbox_agents as a", "a.id", "m.agent_id")
    .select("a.id")
    .where("m.team_id", "=", teamId)
    .where("a.active", "=", 1)
    .orderBy("a.id")
    .execute();
  if (members.length === 0) return null;
  const last = team.rr_last_agent_id;
  const next = (last === null ? undefined : members.find((m) => m.id > last)) ?? members[0];
  if (!next) return null;
  await db
    .updateTable("inbox_teams")
    .set({ rr_last_agent_id: next.id })
    .where("id", "=", teamId)
    .execute();
  return next.id;
}
