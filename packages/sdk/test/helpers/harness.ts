import {
  type ChatMessage,
  type CommunityEvent,
  type ErrorEvent,
  type JoinRequestEvent,
  type Logger,
  type MembershipEvent,
  MemoryStore,
  nodeWebSocket,
  type ReactionCountsEvent,
  type ReceiptEvent,
  type TypingEvent,
  VeilClient,
  type VeilClientOptions,
  type VeilStore,
} from "@veil/sdk/node";
import type { TestServer } from "../../../server/test/helpers/test-server.js";

export { backends } from "../../../server/test/helpers/backends.js";
export {
  noRateLimits,
  startTestServer,
  type TestServer,
} from "../../../server/test/helpers/test-server.js";

let phoneCounter = 1000 + Math.floor(Math.random() * 4000);
export const nextPhone = (): string => `+1415555${phoneCounter++}`;

/** Everything a client emitted, to assert on "exactly once". */
export class Recorder {
  readonly messages: ChatMessage[] = [];
  readonly receipts: ReceiptEvent[] = [];
  readonly typing: TypingEvent[] = [];
  readonly membership: MembershipEvent[] = [];
  readonly errors: ErrorEvent[] = [];
  readonly community: CommunityEvent[] = [];
  readonly joinRequests: JoinRequestEvent[] = [];
  readonly reactions: ReactionCountsEvent[] = [];
  readonly log: string[] = [];

  constructor(client: VeilClient) {
    this.attach(client);
  }

  attach(client: VeilClient): void {
    client.on("message", (m) => this.messages.push(m));
    client.on("receipt", (r) => this.receipts.push(r));
    client.on("typing", (t) => this.typing.push(t));
    client.on("membership", (m) => this.membership.push(m));
    client.on("error", (e) => this.errors.push(e));
    client.on("community", (e) => this.community.push(e));
    client.on("join-request", (e) => this.joinRequests.push(e));
    client.on("reactions", (e) => this.reactions.push(e));
  }

  texts(groupId?: string): string[] {
    return this.messages
      .filter((m) => groupId === undefined || m.groupId === groupId)
      .flatMap((m) => (m.content.type === "text" ? [m.content.text] : []));
  }

  logger(): Logger {
    return {
      debug: (_fields, message) => this.log.push(message),
      warn: (_fields, message) => this.log.push(message),
    };
  }
}

export interface Person {
  name: string;
  phone: string;
  client: VeilClient;
  store: VeilStore;
  seen: Recorder;
  userId: string;
}

export function clientOptions(
  t: TestServer,
  store: VeilStore,
  extra: Partial<VeilClientOptions> = {},
): VeilClientOptions {
  return {
    serverUrl: t.url,
    store,
    webSocket: nodeWebSocket,
    keyPackageTarget: 12,
    reconnect: { minDelayMs: 50, maxDelayMs: 400 },
    linkPollMs: 100,
    ...extra,
  };
}

/** A registered, connected user with one device (a real key, real MLS, a real socket). */
export async function person(
  t: TestServer,
  name: string,
  options: {
    store?: VeilStore;
    start?: boolean;
    client?: Partial<VeilClientOptions>;
    username?: string;
  } = {},
): Promise<Person> {
  const store = options.store ?? new MemoryStore();
  const seen = { current: null as Recorder | null };
  const client = await VeilClient.open(clientOptions(t, store, options.client));
  seen.current = new Recorder(client);
  const phone = nextPhone();
  const verification = await client.requestPhoneVerification(phone);
  const code = t.verifier.codes.get(verification.verificationId);
  if (!code) throw new Error("no verification code captured");
  await client.register({
    name,
    phone: { verificationId: verification.verificationId, code },
    ...(options.username ? { username: options.username } : {}),
  });
  if (options.start !== false) await client.start();
  return { name, phone, client, store, seen: seen.current, userId: client.userId as string };
}

/** `a` finds `b` by number, as a real client would before starting a chat. */
export async function introduce(a: Person, b: Person): Promise<void> {
  await a.client.api.addContact({ phone: b.phone });
}

/** Polls until `check` passes (or throws its last failure). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Every value the server stored in these tables, as one text (bytes as latin1), to search for leaks. */
export async function storedText(t: TestServer, tables: readonly string[]): Promise<string> {
  const db = t.server.context.database.db;
  const out: string[] = [];
  for (const table of tables) {
    const rows = await db
      .selectFrom(table as "group_log")
      .selectAll()
      .execute();
    for (const row of rows) {
      for (const value of Object.values(row)) {
        out.push(
          value instanceof Uint8Array ? Buffer.from(value).toString("latin1") : String(value),
        );
      }
    }
  }
  return out.join("\n");
}
