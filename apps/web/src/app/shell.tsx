import type { OwnProfile } from "@veil/protocol";
import { useEffect, useState } from "react";
import { CallOverlay } from "../calls/call-overlay.js";
import { callManager } from "../calls/use-calls.js";
import { ChannelsView } from "../channels/channels-view.js";
import { ChatsView } from "../chats/chats-view.js";
import { receiptBook } from "../chats/receipts.js";
import { CommunitiesView } from "../communities/communities-view.js";
import { useClient, useClientEvent } from "../device/context.js";
import { ModerationView } from "../moderation/moderation-view.js";
import { SettingsView } from "../settings/settings-view.js";
import { href, useRoute } from "../ui/router.js";

const sections = [
  { id: "chats", label: "Chats" },
  { id: "communities", label: "Communities" },
  { id: "channels", label: "Channels" },
  { id: "settings", label: "Settings" },
];
/** Only for the platform's moderators and admins (the server checks it again on every call). */
const moderation = { id: "moderation", label: "Moderation" };

/** The platform role of the signed-in user, once the own profile is loaded. */
function usePlatformRole(): OwnProfile["platformRole"] {
  const client = useClient();
  const [role, setRole] = useState<OwnProfile["platformRole"]>(null);
  useEffect(() => {
    let live = true;
    client.api.me().then(
      (me) => live && setRole(me.platformRole ?? null),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [client]);
  return role;
}

/** The signed-in app: navigation, the connection state, and the section the route names. */
export function Shell() {
  const client = useClient();
  const route = useRoute();
  const section = route[0] ?? "chats";
  const [connection, setConnection] = useState(client.connected ? "connected" : "connecting");
  // Receipts arrive for chats that are not open: keep them from the start.
  receiptBook(client);
  // A call may ring on any screen: follow call events from the start.
  callManager(client);
  useClientEvent("connection", (event) => setConnection(event.state));
  const role = usePlatformRole();
  const shown = role === "moderator" || role === "admin" ? [...sections, moderation] : sections;

  return (
    <div className="shell">
      {/* A button, not a link: the hash is the route, so focus moves without navigating. */}
      <button
        type="button"
        className="skip"
        onClick={() => document.getElementById("main")?.focus()}
      >
        Skip to content
      </button>
      <header className="topbar">
        <span className="brand">Veil</span>
        <nav aria-label="Sections">
          {shown.map((s) => (
            <a key={s.id} href={href(s.id)} aria-current={section === s.id ? "page" : undefined}>
              {s.label}
            </a>
          ))}
        </nav>
        <span className={`status status-${connection}`} role="status" aria-live="polite">
          {connection === "connected"
            ? "Online"
            : connection === "stopped"
              ? "Offline"
              : "Connecting…"}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Section name={section} rest={route.slice(1)} />
      </main>
      <CallOverlay />
    </div>
  );
}

function Section({ name, rest }: { name: string; rest: string[] }) {
  switch (name) {
    case "chats":
      return <ChatsView selected={rest[0] ?? null} sub={rest[1] ?? null} />;
    case "communities":
      return <CommunitiesView route={rest} />;
    case "channels":
      return <ChannelsView route={rest} />;
    case "settings":
      return <SettingsView />;
    case "moderation":
      return <ModerationView route={rest} />;
    default:
      return <ChatsView selected={null} sub={null} />;
  }
}
