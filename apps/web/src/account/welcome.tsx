import { linkFingerprint, type VeilClient } from "@veil/sdk";
import { type FormEvent, useState } from "react";
import { ErrorNote } from "../ui/components.js";
import { describeError } from "../ui/errors.js";

/** Sign-up on this browser, or linking it as another device of an existing account. */
export function Welcome({ client, onReady }: { client: VeilClient; onReady: () => void }) {
  const [mode, setMode] = useState<"register" | "link">("register");
  return (
    <main className="welcome">
      <h1>Veil</h1>
      <p className="lead">
        Private messaging. Your keys are made in this browser and never leave it; the server only
        ever sees encrypted messages.
      </p>
      <div className="tabs" role="tablist" aria-label="How to start">
        <button
          type="button"
          role="tab"
          aria-selected={mode === "register"}
          onClick={() => setMode("register")}
        >
          Create an account
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === "link"}
          onClick={() => setMode("link")}
        >
          Use an existing account
        </button>
      </div>
      {mode === "register" ? (
        <Register client={client} onReady={onReady} />
      ) : (
        <LinkDevice client={client} onReady={onReady} />
      )}
    </main>
  );
}

function Register({ client, onReady }: { client: VeilClient; onReady: () => void }) {
  const [name, setName] = useState("");
  const [username, setUsername] = useState("");
  const [phone, setPhone] = useState("");
  const [verificationId, setVerificationId] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      if (phone.trim() && !verificationId) {
        const sent = await client.requestPhoneVerification(phone.trim());
        setVerificationId(sent.verificationId);
        return;
      }
      await client.register({
        name: name.trim(),
        ...(username.trim() ? { username: username.trim() } : {}),
        ...(verificationId ? { phone: { verificationId, code: code.trim() } } : {}),
        deviceName: browserName(),
      });
      onReady();
    });
  };

  return (
    <form onSubmit={submit} className="card" aria-label="Create an account">
      <label>
        Your name
        <input
          name="name"
          required
          maxLength={64}
          autoComplete="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <label>
        Username <span className="hint">(optional)</span>
        <input
          name="username"
          maxLength={64}
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </label>
      <label>
        Phone number <span className="hint">(optional: lets people who know it find you)</span>
        <input
          name="phone"
          type="tel"
          autoComplete="tel"
          placeholder="+1 415 555 0101"
          value={phone}
          disabled={verificationId !== null}
          onChange={(e) => setPhone(e.target.value)}
        />
      </label>
      {verificationId && (
        <label>
          Verification code
          <input
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <span className="hint">We sent a code to {phone}.</span>
        </label>
      )}
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={busy || !name.trim()}>
        {phone.trim() && !verificationId ? "Send code" : "Create account"}
      </button>
    </form>
  );
}

function LinkDevice({ client, onReady }: { client: VeilClient; onReady: () => void }) {
  const [offer, setOffer] = useState<{ code: string; uri: string; fingerprint: string } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);

  const start = async () => {
    setError(null);
    try {
      const { offer, approved } = await client.linkDevice({ deviceName: browserName() });
      setOffer({ code: offer.code, uri: offer.uri, fingerprint: linkFingerprint(offer.publicKey) });
      await approved;
      onReady();
    } catch (e) {
      setError(describeError(e));
      setOffer(null);
    }
  };

  return (
    <section className="card" aria-label="Link this browser">
      <p>
        Link this browser to your account from a device that is already signed in: open{" "}
        <strong>Settings → Devices → Link a device</strong> there and enter the code shown here.
      </p>
      {offer ? (
        <>
          <p className="link-code">
            <span className="visually-hidden">Link code: </span>
            {offer.code}
          </p>
          <p>
            Check that the other device shows this fingerprint:{" "}
            <strong className="fingerprint">{offer.fingerprint}</strong>. Or paste this link there:
          </p>
          <input
            readOnly
            aria-label="Link to paste"
            value={offer.uri}
            onFocus={(e) => e.target.select()}
          />
          <p className="hint" aria-live="polite">
            Waiting for approval…
          </p>
        </>
      ) : (
        <button type="button" className="primary" onClick={() => void start()}>
          Show a link code
        </button>
      )}
      <ErrorNote error={error} />
    </section>
  );
}

function browserName(): string {
  const agent = navigator.userAgent;
  const browser = /Firefox\//.test(agent)
    ? "Firefox"
    : /Edg\//.test(agent)
      ? "Edge"
      : /Chrome\//.test(agent)
        ? "Chrome"
        : /Safari\//.test(agent)
          ? "Safari"
          : "Browser";
  return `${browser} (web)`;
}
