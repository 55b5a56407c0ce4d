import type { OwnProfile, PrivacySettings } from "@veil/protocol";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useClient } from "../device/context.js";
import type { Person } from "../device/people.js";
import { Avatar, EmptyState, ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";
import { PhoneForm } from "../ui/phone-form.js";
import { useAction } from "../ui/use-action.js";
import { useImage } from "../ui/use-image.js";

type Audience = PrivacySettings["phone"];
const audiences: Array<{ value: Audience; label: string }> = [
  { value: "everyone", label: "Everyone" },
  { value: "contacts", label: "My contacts" },
  { value: "nobody", label: "Nobody" },
];

/** Profile, privacy, contacts and blocks, and this account's devices. */
export function SettingsView() {
  const client = useClient();
  const [me, setMe] = useState<OwnProfile | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.api
      .me()
      .then(setMe)
      .catch((e: unknown) => setError(describeError(e)));
  }, [client]);

  if (!me)
    return <div className="page">{error ? <ErrorNote error={error} /> : <p>Loading…</p>}</div>;
  return (
    <div className="page">
      <h1 className="visually-hidden">Settings</h1>
      <Profile me={me} onChange={setMe} />
      <Privacy me={me} onChange={setMe} />
      <Contacts />
      <Devices />
    </div>
  );
}

function Profile({ me, onChange }: { me: OwnProfile; onChange: (p: OwnProfile) => void }) {
  const client = useClient();
  const [name, setName] = useState(me.name);
  const [about, setAbout] = useState(me.about);
  const [username, setUsername] = useState(me.username ?? "");
  const photoUrl = useImage(me.photo, () => client.api.userPhoto(me.id));
  const { busy, error, done, run } = useAction();

  const save = (event: FormEvent) => {
    event.preventDefault();
    void run(
      async () =>
        onChange(
          await client.api.updateProfile({
            name: name.trim(),
            about,
            username: username.trim() ? username.trim() : null,
          }),
        ),
      "Saved.",
    );
  };
  const photo = (file: File | undefined) => {
    if (!file) return;
    void run(
      async () =>
        onChange(await client.api.setPhoto(new Uint8Array(await file.arrayBuffer()), file.type)),
      "Photo saved.",
    );
  };

  return (
    <section className="item" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <form onSubmit={save} className="card" aria-label="Profile">
        <div className="row">
          <Avatar name={me.name} size={56} src={photoUrl} />
          <span>
            {me.phone ?? "No phone number"}
            <br />
            <span className="muted">Your id: {me.id}</span>
          </span>
        </div>
        <label>
          Name
          <input required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Username <span className="hint">(optional)</span>
          <input maxLength={64} value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          About
          <input maxLength={140} value={about} onChange={(e) => setAbout(e.target.value)} />
        </label>
        <label>
          Photo <span className="hint">(PNG, JPEG or WebP)</span>
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp"
            onChange={(e) => photo(e.target.files?.[0])}
          />
        </label>
        {me.photo && (
          <button
            type="button"
            onClick={() => void run(async () => onChange(await client.api.removePhoto()))}
          >
            Remove photo
          </button>
        )}
        <ErrorNote error={error} />
        <p className="muted" aria-live="polite">
          {done}
        </p>
        <button type="submit" className="primary" disabled={busy || !name.trim()}>
          Save profile
        </button>
      </form>
    </section>
  );
}

function Privacy({ me, onChange }: { me: OwnProfile; onChange: (p: OwnProfile) => void }) {
  const client = useClient();
  const { error, done, run } = useAction();
  const set = (change: Partial<PrivacySettings>) =>
    void run(async () => onChange(await client.api.updatePrivacy(change)), "Saved.");
  const fields: Array<{
    key: "phone" | "photo" | "about" | "presence";
    label: string;
    hint: string;
  }> = [
    {
      key: "phone",
      label: "Phone number",
      hint: "In groups, members always see each other's number.",
    },
    { key: "photo", label: "Profile photo", hint: "" },
    { key: "about", label: "About", hint: "" },
    { key: "presence", label: "Online and last seen", hint: "" },
  ];
  return (
    <section className="item" aria-labelledby="privacy-heading">
      <h2 id="privacy-heading">Privacy</h2>
      <p className="muted">Who can see each part of your profile.</p>
      <div className="card">
        {fields.map((field) => (
          <label key={field.key}>
            {field.label}
            <select
              value={me.privacy[field.key]}
              onChange={(e) => set({ [field.key]: e.target.value as Audience })}
            >
              {audiences.map((a) => (
                <option key={a.value} value={a.value}>
                  {a.label}
                </option>
              ))}
            </select>
            {field.hint && <span className="hint">{field.hint}</span>}
          </label>
        ))}
        <label className="check">
          <input
            type="checkbox"
            checked={me.privacy.discoverableByPhone}
            onChange={(e) => set({ discoverableByPhone: e.target.checked })}
          />
          People who know my number can find me
        </label>
        <ErrorNote error={error} />
        <p className="muted" aria-live="polite">
          {done}
        </p>
      </div>
    </section>
  );
}

function Contacts() {
  const client = useClient();
  const [contacts, setContacts] = useState<Person[] | null>(null);
  const [blocked, setBlocked] = useState<Person[]>([]);
  const { busy, error, run } = useAction();

  const load = useCallback(async () => {
    const [c, b] = await Promise.all([client.api.contacts(), client.api.blocks()]);
    setContacts(c as Person[]);
    setBlocked(b as Person[]);
  }, [client]);
  useEffect(() => {
    void load().catch(() => undefined);
  }, [load]);

  const add = (phone: string) =>
    run(async () => {
      await client.api.addContact({ phone });
      await load();
    }, "Contact added.");

  return (
    <section className="item" aria-labelledby="contacts-heading">
      <h2 id="contacts-heading">Contacts and blocked people</h2>
      <PhoneForm
        name="Add a contact"
        label="Add a contact by phone number"
        button="Add"
        busy={busy}
        onSubmit={add}
      />
      <ErrorNote error={error} />
      {contacts === null ? (
        <p>Loading…</p>
      ) : contacts.length === 0 ? (
        <EmptyState title="No contacts yet" />
      ) : (
        <ul className="list" aria-label="Contacts">
          {contacts.map((c) => (
            <li key={c.id} className="row">
              <Avatar name={c.name ?? "?"} size={32} />
              <span className="grow">
                {c.name ?? "Someone"} {c.phone && <span className="muted">{c.phone}</span>}
              </span>
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await client.api.removeContact(c.id);
                    await load();
                  })
                }
              >
                Remove
              </button>
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await client.api.block(c.id);
                    await load();
                  }, "Blocked.")
                }
              >
                Block
              </button>
            </li>
          ))}
        </ul>
      )}
      {blocked.length > 0 && (
        <>
          <h3>Blocked</h3>
          <ul className="list" aria-label="Blocked people">
            {blocked.map((b) => (
              <li key={b.id} className="row">
                <span className="grow">{b.name ?? "Someone"}</span>
                <button
                  type="button"
                  onClick={() =>
                    void run(async () => {
                      await client.api.unblock(b.id);
                      await load();
                    })
                  }
                >
                  Unblock
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Devices() {
  const client = useClient();
  const [devices, setDevices] = useState<Array<{ id: string; name: string }> | null>(null);
  const [code, setCode] = useState("");
  const { busy, error, done, run } = useAction();
  const load = useCallback(async () => {
    setDevices((await client.api.devices()) as Array<{ id: string; name: string }>);
  }, [client]);
  useEffect(() => {
    void load().catch(() => undefined);
  }, [load]);

  const approve = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const linked = await client.approveDevice(code.trim());
      setCode("");
      await load();
      return linked;
    }, "Device linked. Its fingerprint must match the one it shows.");
  };

  return (
    <section className="item" aria-labelledby="devices-heading">
      <h2 id="devices-heading">Devices</h2>
      <ul className="list" aria-label="Devices">
        {devices?.map((d) => (
          <li key={d.id} className="row">
            <span className="grow">
              {d.name || "Device"} {d.id === client.deviceId && <strong>(this browser)</strong>}
            </span>
            {d.id !== client.deviceId && (
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await client.api.removeDevice(d.id);
                    await load();
                  })
                }
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={approve} aria-label="Link a device">
        <label>
          Link a device: the code or link it shows
          <input value={code} onChange={(e) => setCode(e.target.value)} />
        </label>
        <button type="submit" disabled={busy || !code.trim()}>
          Link
        </button>
      </form>
      <ErrorNote error={error} />
      <p className="muted" aria-live="polite">
        {done}
      </p>
    </section>
  );
}
