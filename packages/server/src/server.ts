import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import websocket from "@fastify/websocket";
import Fastify, { LogController } from "fastify";
import { Accounts } from "./accounts/accounts.js";
import { accountRoutes } from "./accounts/routes.js";
import { pruneVerifications } from "./accounts/verifications.js";
import { type DeviceLifecycle, pruneDeviceLinks } from "./auth/device-links.js";
import { pruneChallenges } from "./auth/device-proof.js";
import { authRoutes } from "./auth/routes.js";
import { Businesses } from "./business/businesses.js";
import { businessRoutes } from "./business/routes.js";
import { callRoutes } from "./calls/routes.js";
import { Channels } from "./channels/channels.js";
import { ChannelMediaFiles } from "./channels/media.js";
import { ChannelPosts } from "./channels/posts.js";
import { channelRoutes } from "./channels/routes.js";
import { Communities } from "./communities/communities.js";
import { CommunityGroups } from "./communities/community-groups.js";
import { CommunityInvites } from "./communities/invites.js";
import { communityRoutes } from "./communities/routes.js";
import { type AppContext, closeContext } from "./context.js";
import { VeilError } from "./errors.js";
import { Gateway } from "./gateway/gateway.js";
import { answerClientError, answerFrameworkError, registerErrorHandling } from "./http/errors.js";
import type { App } from "./http/route-kit.js";
import { pruneLimits } from "./limits/fixed-window.js";
import { Attachments } from "./media/attachments.js";
import { mediaRoutes } from "./media/routes.js";
import { Delivery, type GroupHooks } from "./messaging/delivery.js";
import { GroupAdmin } from "./messaging/group-admin.js";
import { GroupMembership } from "./messaging/group-membership.js";
import { KeyPackages } from "./messaging/key-packages.js";
import { Mailbox } from "./messaging/mailbox.js";
import { messagingRoutes } from "./messaging/routes.js";
import { AccountAbuse } from "./moderation/abuse.js";
import { Appeals } from "./moderation/appeals.js";
import { ChannelModerationView } from "./moderation/channel-moderation.js";
import { ModerationGate } from "./moderation/holds.js";
import { Reports } from "./moderation/reports.js";
import { ModerationReview } from "./moderation/review.js";
import { moderationRoutes } from "./moderation/routes.js";
import { Strikes } from "./moderation/strikes.js";
import { opsRoutes } from "./ops/routes.js";
import { ProfileReader } from "./privacy/profiles.js";
import { webRoutes } from "./web/routes.js";

export interface VeilServer {
  app: App;
  /** Every route registered (method and URL pattern), e.g. to check a rule holds on each. */
  routes: ReadonlyArray<{ method: string; url: string }>;
  gateway: Gateway;
  context: AppContext;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Graceful shutdown: stop accepting, close sockets, finish requests, close backends. */
  close(): Promise<void>;
  /** Deletes what has expired (run every 10 minutes; callable at will). */
  prune(): Promise<void>;
}

const version = "0.1.0";
const pruneEveryMs = 10 * 60_000;

/** Assembles the HTTP and WebSocket server over a context's backends. */
export async function buildServer(context: AppContext): Promise<VeilServer> {
  const { config, database, bus, metrics, now } = context;
  const app = Fastify({
    loggerInstance: context.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy:
      typeof config.trustProxy === "number"
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    return503OnClosing: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  const routes: Array<{ method: string; url: string }> = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  let draining = false;
  const profiles = new ProfileReader(database.db, now);
  const abuse = new AccountAbuse(
    database,
    config.moderation,
    context.logger.child({ component: "moderation" }),
    now,
  );
  const mailbox = new Mailbox(database, bus, now);
  const keyPackages = new KeyPackages(database, profiles, mailbox, now);
  const groupMembership = new GroupMembership(mailbox);
  // Groups come before communities; communities hook into group commits (set below).
  const hooks: GroupHooks = {
    joinedCommunityGroup: (tx, communityId, userIds) =>
      communities.joinedCommunityGroup(tx, communityId, userIds),
    startingChat: (userId, chatKey, peerIds) => abuse.startingChat(userId, chatKey, peerIds),
  };
  const delivery = new Delivery(
    database,
    bus,
    profiles,
    mailbox,
    groupMembership,
    config.limits,
    hooks,
    now,
  );
  const groupAdmin = new GroupAdmin(database, delivery, groupMembership, mailbox, profiles, now);
  const communities = new Communities(database, bus, groupMembership, profiles, config.limits, now);
  const communityInvites = new CommunityInvites(database, communities, profiles, mailbox, now);
  const communityGroups = new CommunityGroups(
    database,
    communities,
    delivery,
    profiles,
    config.limits,
    now,
  );
  // Channels reach moderation only through the ContentGate port, built first;
  // the rest of moderation is built on the channels (it publishes what it
  // releases, takes posts down, suspends): the dependency runs one way.
  const gate = new ModerationGate(
    database,
    context.screening,
    config.moderation.strikeWindowDays,
    now,
  );
  const channels = new Channels(database, bus, profiles, gate, now);
  const channelPosts = new ChannelPosts(
    database,
    channels,
    bus,
    profiles,
    gate,
    config.channelRetentionDays * 24 * 3600 * 1000,
    now,
  );
  const channelMedia = new ChannelMediaFiles(
    database,
    channels,
    context.blobs,
    gate,
    config.channelMediaLimitBytes,
    now,
  );
  const strikes = new Strikes(
    channels,
    config.moderation.strikesToSuspend,
    config.moderation.strikeWindowDays,
    now,
  );
  const review = new ModerationReview(
    database,
    channels,
    channelPosts,
    channelMedia,
    strikes,
    abuse,
    now,
  );
  const reports = new Reports(
    database,
    channels,
    channelPosts,
    context.screening,
    abuse,
    config.moderation.reportsPerHour,
    now,
  );
  const appeals = new Appeals(database, strikes, now);
  const channelModeration = new ChannelModerationView(database, channels, gate, strikes);
  // When a device joins or leaves an account, its groups follow (same transaction).
  const lifecycle: DeviceLifecycle = {
    added: (tx, userId) => groupMembership.deviceAdded(tx, userId),
    removed: (tx, deviceId) => groupMembership.deviceRemoved(tx, deviceId),
    accountDeleted: async (tx, userId) => {
      await communities.accountDeleted(tx, userId);
      await groupMembership.accountDeleted(tx, userId);
    },
  };
  const accounts = new Accounts(database, bus, context.verifier, profiles, config, lifecycle, now);
  const businesses = new Businesses(database, bus, profiles, now);
  const attachments = new Attachments(database, context.blobs, delivery, now);
  const gateway = new Gateway(
    database.db,
    profiles,
    bus,
    metrics,
    context.logger.child({ component: "gateway" }),
    {
      heartbeatMs: config.heartbeatMs,
      authTimeoutMs: config.authTimeoutMs,
      maxBufferedBytes: config.wsMaxBufferedBytes,
    },
    now,
  );
  database.onConnectionLost(() => gateway.resyncWhenReachable());

  registerErrorHandling(app);
  // While draining, refuse new work in the one error shape (health checks still answer).
  app.addHook("onRequest", async (request) => {
    if (draining && !["/healthz", "/readyz", "/metrics"].includes(request.url)) {
      throw new VeilError("shutting_down");
    }
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    request.log.debug(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });

  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      directives: {
        // The web client shows decrypted images as blob: URLs and QR codes as data: URLs.
        "img-src": ["'self'", "data:", "blob:"],
        // TLS is the proxy's business: on plain http (a trial on a LAN) upgrading would break the page.
        "upgrade-insecure-requests": null,
      },
    },
  });
  await app.register(rateLimit, {
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    allowList: (request) => ["/healthz", "/readyz", "/metrics"].includes(request.url),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error("rate limited"), { statusCode: 429, retryAfter: context.after }),
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Veil API",
        version,
        description: "The Veil messaging server. Errors: docs/errors.md.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
  await app.register(websocket, {
    options: { maxPayload: config.wsMaxFrameBytes, perMessageDeflate: false },
    // A client breaking the WebSocket protocol (an oversized frame, bad framing) is
    // the client's problem: note it quietly and drop the socket.
    errorHandler: (error, socket, request) => {
      const code = (error as { code?: string }).code;
      if (code?.startsWith("WS_ERR_")) request.log.debug({ code }, "websocket protocol error");
      else request.log.warn({ err: error }, "websocket error");
      socket.terminate();
    },
  });

  app.get("/v1/ws", { websocket: true, schema: { hide: true } }, (socket) =>
    gateway.accept(socket),
  );
  authRoutes(app, { database, bus, lifecycle, now });
  accountRoutes(app, {
    accounts,
    profiles,
    db: database.db,
    photoLimitBytes: config.photoLimitBytes,
    now,
  });
  businessRoutes(app, { businesses, db: database.db, now });
  messagingRoutes(app, { delivery, groupAdmin, keyPackages, mailbox, db: database.db, now });
  channelRoutes(app, {
    channels,
    posts: channelPosts,
    media: channelMedia,
    db: database.db,
    photoLimitBytes: config.photoLimitBytes,
    now,
  });
  moderationRoutes(app, {
    reports,
    review,
    appeals,
    channelView: channelModeration,
    db: database.db,
    now,
  });
  communityRoutes(app, {
    communities,
    invites: communityInvites,
    groups: communityGroups,
    db: database.db,
    photoLimitBytes: config.photoLimitBytes,
    now,
  });
  mediaRoutes(app, { attachments, db: database.db, now, blobLimitBytes: config.blobLimitBytes });
  opsRoutes(app, { database, bus, metrics, draining: () => draining });
  callRoutes(app, { ice: config.ice, db: database.db, now });
  await webRoutes(app, { dir: config.webDir });

  const pruneAll = async () => {
    const t = now();
    await Promise.all([
      pruneChallenges(database.db, t),
      pruneVerifications(database.db, t),
      pruneDeviceLinks(database.db, t),
      mailbox.prune(t),
      pruneLimits(database.db, 60 * 60_000, t),
      channelPosts.prune(t),
      abuse.prune(t),
    ]);
  };
  const prune = setInterval(() => {
    pruneAll().catch((err) => context.logger.warn({ err }, "pruning failed"));
  }, pruneEveryMs);
  prune.unref();

  let closed: Promise<void> | null = null;
  return {
    app,
    routes,
    gateway,
    context,
    async listen() {
      return app.listen({ host: config.host, port: config.port });
    },
    prune: pruneAll,
    close() {
      closed ??= (async () => {
        draining = true;
        // Let load balancers see /readyz fail before the listener goes away.
        if (config.shutdownDelayMs > 0)
          await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
        clearInterval(prune);
        channelPosts.close();
        await gateway.close();
        await app.close();
        await closeContext(context);
      })();
      return closed;
    },
  };
}
