import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { bearer } from "../api-keys.js";
import type { BusinessEndpoint } from "../business-endpoint.js";
import { CloudError } from "../cloud-errors.js";
import type { Database } from "../store/database.js";
import {
  acceptInvitation,
  createAgent,
  endSession,
  getAgent,
  listAgents,
  reinvite,
  type SignInLimiter,
  signIn,
  updateAgent,
} from "./agents.js";
import { listAudit } from "./audit.js";
import {
  addNote,
  conversationHasMedia,
  getConversation,
  listConversations,
  recordReply,
  statuses,
  timeline,
  updateConversation,
  visibleConversation,
} from "./conversations.js";
import { decodeCursor, encodeCursor } from "./cursors.js";
import type { IntentRegistry } from "./intents.js";
import { type Permission, permissions, readScope } from "./permissions.js";
import { type Principal, requirePermission } from "./principals.js";
import { createRole, deleteRole, getRole, listRoles, updateRole } from "./roles.js";
import {
  addMember,
  createTeam,
  deleteTeam,
  getSettings,
  listTeams,
  removeMember,
  updateSettings,
  updateTeam,
} from "./teams.js";

const Id = Type.String({ minLength: 1, maxLength: 256 });
const IdParams = Type.Object({ id: Id });
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: "\\S" });
const Email = Type.String({ minLength: 3, maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" });
const Routing = Type.Union([Type.Literal("manual"), Type.Literal("round_robin")]);
const StatusSchema = Type.Union(statuses.map((s) => Type.Literal(s)));
const PermissionList = Type.Array(Type.String({ maxLength: 64 }), { maxItems: permissions.length });
const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};
const strict = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

const principals = new WeakMap<FastifyRequest, Principal>();

/** The caller, as resolved by the route's preValidation hook. */
function principalOf(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new CloudError("invalid_token");
  return principal;
}

/** What the routes take from the inbox that registers them. */
export interface InboxRouteDeps {
  readonly database: Database;
  readonly intents: IntentRegistry;
  readonly limiter: SignInLimiter;
  identify(header: string | undefined): Promise<Principal>;
}

/** The team inbox's HTTP API under /api/inbox (see docs/business.md, "Team inbox"). */
export function registerInboxRoutes(
  app: FastifyInstance,
  inbox: InboxRouteDeps,
  endpoint: BusinessEndpoint,
): void {
  const database = inbox.database;
  const db = database.db;

  /** Any inbox principal (the admin key or a live agent session); API keys are refused. */
  const signedIn =
    (permission?: Permission) =>
    async (request: FastifyRequest): Promise<void> => {
      const principal = await inbox.identify(request.headers.authorization);
      if (principal.kind === "api-key")
        throw new CloudError("permission_denied", "API keys do not open the inbox");
      if (permission) requirePermission(principal, permission);
      principals.set(request, principal);
    };
  const session = async (request: FastifyRequest): Promise<void> => {
    await signedIn()(request);
    if (principalOf(request).kind !== "agent")
      throw new CloudError("permission_denied", "This needs an agent's session");
  };
  const tags = ["inbox"];

  // --- accounts ----------------------------------------------------------------

  const CreateAgent = strict({
    name: Name,
    email: Email,
    roleId: Id,
    teamIds: Type.Optional(Type.Array(Id, { maxItems: 100 })),
  });
  app.post(
    "/api/inbox/agents",
    {
      schema: {
        tags,
        summary: "Create an agent and its invitation (the token is shown once)",
        body: CreateAgent,
      },
      preValidation: signedIn("agents:manage"),
    },
    async (request, reply) => {
      const body = request.body as Static<typeof CreateAgent>;
      return reply.status(201).send(await createAgent(database, principalOf(request).actor, body));
    },
  );

  app.get(
    "/api/inbox/agents",
    { schema: { tags, summary: "The agents (for assignment pickers)" }, preValidation: signedIn() },
    async () => ({ agents: await listAgents(db) }),
  );

  const UpdateAgent = strict({
    name: Type.Optional(Name),
    roleId: Type.Optional(Id),
    active: Type.Optional(Type.Boolean()),
  });
  app.patch(
    "/api/inbox/agents/:id",
    {
      schema: {
        tags,
        summary: "Rename, change the role, (de)activate an agent",
        params: IdParams,
        body: UpdateAgent,
      },
      preValidation: signedIn("agents:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const agent = await updateAgent(
        database,
        principalOf(request).actor,
        id,
        request.body as Static<typeof UpdateAgent>,
      );
      return { agent };
    },
  );

  app.post(
    "/api/inbox/agents/:id/invitation",
    {
      schema: {
        tags,
        summary: "A fresh invitation for an agent (the old ones stop working)",
        params: IdParams,
      },
      preValidation: signedIn("agents:manage"),
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (!(await getAgent(db, id))) throw new CloudError("not_found", "no such agent");
      return reply
        .status(201)
        .send({ invitation: await reinvite(database, principalOf(request).actor, id) });
    },
  );

  const Accept = strict({
    token: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: 10, maxLength: 256 }),
  });
  app.post(
    "/api/inbox/invitations/accept",
    {
      schema: {
        tags,
        summary: "Set a password from an invitation; answers a session",
        body: Accept,
        security: [],
      },
    },
    async (request) => {
      const { token, password } = request.body as Static<typeof Accept>;
      const session = await acceptInvitation(database, token, password);
      return {
        token: session.token,
        expiresAt: session.expiresAt,
        agent: await getAgent(db, session.agentId),
      };
    },
  );

  const SignIn = strict({
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  });
  app.post(
    "/api/inbox/sessions",
    { schema: { tags, summary: "Sign in with email and password", body: SignIn, security: [] } },
    async (request) => {
      const { email, password } = request.body as Static<typeof SignIn>;
      const session = await signIn(database, inbox.limiter, email, password);
      return {
        token: session.token,
        expiresAt: session.expiresAt,
        agent: await getAgent(db, session.agentId),
      };
    },
  );

  app.delete(
    "/api/inbox/sessions/current",
    { schema: { tags, summary: "Sign out (ends this session)" }, preValidation: session },
    async (request) => {
      const principal = principalOf(request);
      const token = bearer(request.headers.authorization) ?? "";
      await endSession(db, principal.actor, token);
      return { success: true };
    },
  );

  app.get(
    "/api/inbox/me",
    {
      schema: { tags, summary: "The caller: agent, role, permissions" },
      preValidation: signedIn(),
    },
    async (request) => {
      const principal = principalOf(request);
      if (principal.kind !== "agent")
        return { agent: null, role: await getRole(db, "admin"), permissions: [...permissions] };
      return {
        agent: await getAgent(db, principal.agentId),
        role: await getRole(db, principal.roleId),
        permissions: principal.permissions,
      };
    },
  );

  // --- roles -------------------------------------------------------------------

  const CreateRole = strict({ name: Name, permissions: PermissionList });
  app.post(
    "/api/inbox/roles",
    {
      schema: { tags, summary: "Create a custom role", body: CreateRole },
      preValidation: signedIn("roles:manage"),
    },
    async (request, reply) =>
      reply.status(201).send({
        role: await createRole(
          database,
          principalOf(request).actor,
          request.body as Static<typeof CreateRole>,
        ),
      }),
  );
  app.get(
    "/api/inbox/roles",
    { schema: { tags, summary: "Built-in and custom roles" }, preValidation: signedIn() },
    async () => ({ roles: await listRoles(db) }),
  );
  const UpdateRole = strict({
    name: Type.Optional(Name),
    permissions: Type.Optional(PermissionList),
  });
  app.patch(
    "/api/inbox/roles/:id",
    {
      schema: { tags, summary: "Change a custom role", params: IdParams, body: UpdateRole },
      preValidation: signedIn("roles:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return {
        role: await updateRole(
          database,
          principalOf(request).actor,
          id,
          request.body as Static<typeof UpdateRole>,
        ),
      };
    },
  );
  app.delete(
    "/api/inbox/roles/:id",
    {
      schema: {
        tags,
        summary: "Delete a custom role (refused while agents hold it)",
        params: IdParams,
      },
      preValidation: signedIn("roles:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      await deleteRole(database, principalOf(request).actor, id);
      return { success: true };
    },
  );

  // --- teams and settings ------------------------------------------------------

  const CreateTeam = strict({ name: Name, routing: Routing });
  app.post(
    "/api/inbox/teams",
    {
      schema: { tags, summary: "Create a team", body: CreateTeam },
      preValidation: signedIn("teams:manage"),
    },
    async (request, reply) =>
      reply.status(201).send({
        team: await createTeam(
          database,
          principalOf(request).actor,
          request.body as Static<typeof CreateTeam>,
        ),
      }),
  );
  app.get(
    "/api/inbox/teams",
    { schema: { tags, summary: "The teams and their members" }, preValidation: signedIn() },
    async () => ({ teams: await listTeams(db) }),
  );
  const UpdateTeam = strict({ name: Type.Optional(Name), routing: Type.Optional(Routing) });
  app.patch(
    "/api/inbox/teams/:id",
    {
      schema: {
        tags,
        summary: "Rename a team or change its routing",
        params: IdParams,
        body: UpdateTeam,
      },
      preValidation: signedIn("teams:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return {
        team: await updateTeam(
          database,
          principalOf(request).actor,
          id,
          request.body as Static<typeof UpdateTeam>,
        ),
      };
    },
  );
  app.delete(
    "/api/inbox/teams/:id",
    {
      schema: {
        tags,
        summary: "Delete a team (its conversations keep their assignee)",
        params: IdParams,
      },
      preValidation: signedIn("teams:manage"),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      await deleteTeam(database, principalOf(request).actor, id);
      return { success: true };
    },
  );
  const MemberParams = Type.Object({ id: Id, agentId: Id });
  app.put(
    "/api/inbox/teams/:id/members/:agentId",
    {
      schema: { tags, summary: "Add an agent to a team", params: MemberParams },
      preValidation: signedIn("teams:manage"),
    },
    async (request) => {
      const { id, agentId } = request.params as Static<typeof MemberParams>;
      return { team: await addMember(database, principalOf(request).actor, id, agentId) };
    },
  );
  app.delete(
    "/api/inbox/teams/:id/members/:agentId",
    {
      schema: { tags, summary: "Take an agent out of a team", params: MemberParams },
      preValidation: signedIn("teams:manage"),
    },
    async (request) => {
      const { id, agentId } = request.params as Static<typeof MemberParams>;
      return { team: await removeMember(database, principalOf(request).actor, id, agentId) };
    },
  );

  app.get(
    "/api/inbox/settings",
    {
      schema: { tags, summary: "Inbox settings (the default team of new conversations)" },
      preValidation: signedIn(),
    },
    async () => getSettings(db),
  );
  const Settings = strict({ defaultTeamId: Type.Union([Id, Type.Null()]) });
  app.put(
    "/api/inbox/settings",
    {
      schema: { tags, summary: "Set the default team of new conversations", body: Settings },
      preValidation: signedIn("teams:manage"),
    },
    async (request) =>
      updateSettings(database, principalOf(request).actor, request.body as Static<typeof Settings>),
  );

  // --- conversations -----------------------------------------------------------

  const ListQuery = strict({
    status: Type.Optional(StatusSchema),
    team: Type.Optional(Id),
    assignee: Type.Optional(Id),
    ...Paging,
  });
  app.get(
    "/api/inbox/conversations",
    {
      schema: {
        tags,
        summary: "The conversations the caller may see, newest activity first",
        querystring: ListQuery,
      },
      preValidation: signedIn(),
    },
    async (request) => {
      const q = request.query as Static<typeof ListQuery>;
      return listConversations(db, principalOf(request), {
        ...(q.status ? { status: q.status } : {}),
        ...(q.team ? { team: q.team } : {}),
        ...(q.assignee ? { assignee: q.assignee } : {}),
        limit: q.limit ?? 50,
        cursor: decodeCursor(q.cursor),
      });
    },
  );

  app.get(
    "/api/inbox/conversations/:id",
    { schema: { tags, summary: "One conversation", params: IdParams }, preValidation: signedIn() },
    async (request) => {
      const { id } = request.params as { id: string };
      return { conversation: await getConversation(db, principalOf(request), id) };
    },
  );

  const TimelineQuery = strict({
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  });
  app.get(
    "/api/inbox/conversations/:id/timeline",
    {
      schema: {
        tags,
        summary: "Messages (with insights) and internal notes, oldest first",
        params: IdParams,
        querystring: TimelineQuery,
      },
      preValidation: signedIn(),
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const row = await visibleConversation(db, principalOf(request), id);
      const { limit } = request.query as Static<typeof TimelineQuery>;
      return { items: await timeline(db, row.group_id, limit ?? 200) };
    },
  );

  /** Images a browser may show inline; everything else downloads. */
  const inlineTypes = new Set(["image/jpeg", "image/png", "image/webp"]);
  app.get(
    "/api/inbox/conversations/:id/media/:mediaId",
    {
      schema: {
        tags,
        summary: "An attachment's bytes (a media file of one of the conversation's messages)",
        params: Type.Object({ id: Id, mediaId: Id }),
        produces: ["application/octet-stream"],
      },
      preValidation: signedIn(),
    },
    async (request, reply) => {
      const { id, mediaId } = request.params as { id: string; mediaId: string };
      const row = await visibleConversation(db, principalOf(request), id);
      // Media of another conversation, or gone, answers like a missing conversation.
      const hidden = () => new CloudError("not_found", "no such conversation");
      if (!(await conversationHasMedia(db, row.group_id, mediaId))) throw hidden();
      const media = await endpoint.media.get(mediaId);
      const bytes = media ? await endpoint.media.read(media) : null;
      if (!media || !bytes) throw hidden();
      const name = media.filename ?? media.id;
      const disposition = inlineTypes.has(media.mimeType) ? "inline" : "attachment";
      return reply
        .header("content-type", media.mimeType)
        .header("content-length", String(bytes.length))
        .header(
          "content-disposition",
          `${disposition}; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
        )
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox")
        .header("cache-control", "private, no-store")
        .send(bytes);
    },
  );

  const Reply = strict({
    text: Type.String({ minLength: 1, maxLength: 4096 }),
    replyTo: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  });
  app.post(
    "/api/inbox/conversations/:id/messages",
    {
      schema: {
        tags,
        summary: "Reply as the business (the customer never sees the agent)",
        params: IdParams,
        body: Reply,
      },
      preValidation: signedIn(),
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params as { id: string };
      const row = await visibleConversation(db, principal, id);
      requireConversation(principal, "reply");
      const body = request.body as Static<typeof Reply>;
      const messageId = await endpoint.sendText(
        row.customer_user_id,
        body.text,
        body.replyTo ?? null,
      );
      await recordReply(db, principal.actor, row.group_id, messageId);
      return reply.status(201).send({ id: messageId });
    },
  );

  const Update = strict({
    status: Type.Optional(StatusSchema),
    teamId: Type.Optional(Type.Union([Id, Type.Null()])),
    assigneeId: Type.Optional(Type.Union([Id, Type.Null()])),
  });
  app.patch(
    "/api/inbox/conversations/:id",
    {
      schema: { tags, summary: "Change status, team or assignee", params: IdParams, body: Update },
      preValidation: signedIn(),
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params as { id: string };
      const row = await visibleConversation(db, principal, id);
      const changes = request.body as Static<typeof Update>;
      if (changes.status !== undefined) requireConversation(principal, "status");
      if (changes.teamId !== undefined || changes.assigneeId !== undefined) {
        requireConversation(principal, "assign");
        await checkAssignment(principal, changes);
      }
      await updateConversation(database, principal.actor, row.group_id, changes);
      return { conversation: await getConversation(db, principal, row.group_id).catch(() => null) };
    },
  );

  const Note = strict({ body: Type.String({ minLength: 1, maxLength: 4096 }) });
  app.post(
    "/api/inbox/conversations/:id/notes",
    {
      schema: {
        tags,
        summary: "An internal note (never sent to the customer, never in webhooks)",
        params: IdParams,
        body: Note,
      },
      preValidation: signedIn(),
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params as { id: string };
      const row = await visibleConversation(db, principal, id);
      requireConversation(principal, "note");
      const { body } = request.body as Static<typeof Note>;
      return reply
        .status(201)
        .send({ note: await addNote(database, principal.actor, row.group_id, body) });
    },
  );

  /** Who may be given a conversation: anyone with read:all; otherwise within the caller's teams. */
  async function checkAssignment(
    principal: Principal,
    changes: { teamId?: string | null; assigneeId?: string | null },
  ): Promise<void> {
    if (principal.kind === "api-key") throw new CloudError("permission_denied");
    const { teamId, assigneeId } = changes;
    if (typeof teamId === "string") {
      const team = await db
        .selectFrom("inbox_teams")
        .select("id")
        .where("id", "=", teamId)
        .executeTakeFirst();
      if (!team) throw new CloudError("parameter_invalid", "teamId is not a known team");
    }
    if (typeof assigneeId === "string") {
      const agent = await db
        .selectFrom("inbox_agents")
        .select("active")
        .where("id", "=", assigneeId)
        .executeTakeFirst();
      if (agent?.active !== 1)
        throw new CloudError("parameter_invalid", "assigneeId is not an active agent");
    }
    if (principal.kind !== "agent" || readScope(principal.ability) === "all") return;
    const own = principal.teamIds;
    if (typeof teamId === "string" && !own.includes(teamId))
      throw new CloudError(
        "permission_denied",
        "You may only move conversations to your own teams",
      );
    if (typeof assigneeId === "string" && assigneeId !== principal.agentId) {
      const shared =
        own.length > 0 &&
        (await db
          .selectFrom("inbox_team_members")
          .select("agent_id")
          .where("agent_id", "=", assigneeId)
          .where("team_id", "in", own)
          .executeTakeFirst());
      if (!shared)
        throw new CloudError(
          "permission_denied",
          "You may only assign yourself or your teams' agents",
        );
    }
  }

  // --- audit and intents -------------------------------------------------------

  const AuditQuery = strict(Paging);
  app.get(
    "/api/inbox/audit",
    {
      schema: { tags, summary: "The audit log, newest first", querystring: AuditQuery },
      preValidation: signedIn("audit:read"),
    },
    async (request) => {
      const q = request.query as Static<typeof AuditQuery>;
      const limit = q.limit ?? 50;
      const entries = await listAudit(db, { limit: limit + 1, cursor: decodeCursor(q.cursor) });
      const page = entries.slice(0, limit);
      const last = page.at(-1);
      return {
        entries: page,
        nextCursor: entries.length > limit && last ? encodeCursor(last.at, last.id) : null,
      };
    },
  );

  const Intents = strict({
    examples: Type.Array(
      strict({
        intent: Type.String({ minLength: 1, maxLength: 64 }),
        text: Type.String({ minLength: 1, maxLength: 1000 }),
      }),
      { minItems: 1, maxItems: 5000 },
    ),
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  });
  app.put(
    "/api/inbox/intents",
    {
      schema: {
        tags,
        summary: "Train the intent model from examples (replaces the previous ones)",
        body: Intents,
      },
      preValidation: signedIn("intents:manage"),
    },
    async (request) => {
      const body = request.body as Static<typeof Intents>;
      return inbox.intents.replace(principalOf(request).actor, body.examples, body.threshold);
    },
  );
  app.get(
    "/api/inbox/intents",
    {
      schema: { tags, summary: "The intent model's intents, threshold and number of examples" },
      preValidation: signedIn("intents:manage"),
    },
    async () => inbox.intents.info(),
  );
}

function requireConversation(
  principal: Principal,
  action: "reply" | "assign" | "status" | "note",
): void {
  const permission = {
    reply: "conversations:reply",
    assign: "conversations:assign",
    status: "conversations:status",
    note: "notes:write",
  }[action];
  if (principal.kind === "api-key" || !principal.ability.can(action, "Conversation"))
    throw new CloudError("permission_denied", `This requires the ${permission} permission`);
}
