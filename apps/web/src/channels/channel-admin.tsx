import type { UpdateChannelRequest } from "@veil/protocol";
import { type ChannelView, type HeldItem, isHeld } from "@veil/sdk";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import { ErrorNote } from "../ui/components.js";
import { isRejection, rejectionText } from "../ui/errors.js";
import { heldNote } from "../ui/guidelines.js";
import { PhoneForm } from "../ui/phone-form.js";
import { navigate } from "../ui/router.js";
import { useAction } from "../ui/use-action.js";

type AdminList = Awaited<ReturnType<ReturnType<typeof useClient>["channelAdmins"]>>;

/** The channel's settings and its admins (co-admins see each other as R10 allows). */
export function ChannelAdminPanel(props: {
  channel: ChannelView;
  onChange: (c: ChannelView) => void;
}) {
  const { channel } = props;
  const client = useClient();
  const isOwner = channel.role === "owner";
  const [admins, setAdmins] = useState<AdminList | null>(null);
  const [name, setName] = useState(channel.name);
  const [description, setDescription] = useState(channel.description);
  const [held, setHeld] = useState(false);
  const { busy, error, done, run } = useAction();

  const load = useCallback(
    async () => setAdmins(await client.channelAdmins(channel.id)),
    [client, channel.id],
  );
  useEffect(() => {
    void run(load);
  }, [load, run]);

  // A new name or description is checked first: refused, or held until a moderator releases it.
  const update = async (changes: UpdateChannelRequest): Promise<HeldItem | null> => {
    try {
      const result = await client.updateChannel(channel.id, changes);
      if (isHeld(result)) return result;
      props.onChange(result);
      return null;
    } catch (e) {
      throw isRejection(e) ? new Error(rejectionText(e.category, "it was not saved")) : e;
    }
  };
  const save = (event: FormEvent) => {
    event.preventDefault();
    setHeld(false);
    void run(async () => {
      const heldItem = await update({ name: name.trim(), description });
      if (heldItem) setHeld(true);
    }, "Saved.");
  };
  const invite = (phone: string) =>
    run(async () => {
      const person = await client.api.lookupPhone(phone);
      await client.inviteChannelAdmin(channel.id, person.id);
      await load();
    }, "Invitation sent: it expires in 7 days.");

  return (
    <section className="item" aria-labelledby="channel-admin-heading">
      <h2 id="channel-admin-heading">Channel settings</h2>
      <p className="muted">
        Followers see posts as from {channel.name}: never who among the admins wrote them. Invite
        link: <code>veil-channel:{channel.inviteCode}</code>
      </p>
      <form className="card" onSubmit={save} aria-label="Channel settings">
        <label>
          Name
          <input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          Reactions
          <select
            value={channel.reactionPolicy}
            onChange={(e) =>
              void run(() =>
                update({ reactionPolicy: e.target.value as ChannelView["reactionPolicy"] }),
              )
            }
          >
            <option value="any">Any emoji</option>
            <option value="default">A default set</option>
            <option value="none">No reactions</option>
          </select>
        </label>
        <button type="submit" disabled={busy || !name.trim()}>
          Save settings
        </button>
      </form>

      <h3>Admins</h3>
      <ul className="list" aria-label="Channel admins">
        {admins?.admins.map((a) => (
          <li key={a.id} className="row">
            <span className="grow">
              {a.name ?? "Admin"} {a.phone && <span className="muted">{a.phone}</span>}{" "}
              <span className="muted">· {a.role}</span>
            </span>
            {isOwner && a.role === "admin" && (
              <>
                <button
                  type="button"
                  onClick={() =>
                    void run(async () => {
                      await client.removeChannelAdmin(channel.id, a.id);
                      await load();
                    })
                  }
                >
                  Remove
                </button>
                <button
                  type="button"
                  onClick={() =>
                    window.confirm(`Hand ${channel.name} to ${a.name ?? "this admin"}?`) &&
                    void run(async () =>
                      props.onChange(await client.transferChannel(channel.id, a.id)),
                    )
                  }
                >
                  Make owner
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      {isOwner && (
        <PhoneForm
          name="Invite an admin"
          label="Invite an admin by phone number"
          button="Invite"
          busy={busy}
          onSubmit={invite}
        />
      )}
      <ErrorNote error={error} />
      <p className="muted" aria-live="polite">
        {held ? `The new name or description: ${heldNote}` : done}
      </p>
      {isOwner && (
        <button
          type="button"
          className="danger"
          onClick={() =>
            window.confirm(`Delete ${channel.name} and all its posts?`) &&
            void run(async () => {
              await client.deleteChannel(channel.id);
              navigate("channels");
            })
          }
        >
          Delete channel
        </button>
      )}
    </section>
  );
}
