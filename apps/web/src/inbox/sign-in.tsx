import { type FormEvent, useState } from "react";
import { ErrorNote } from "../ui/components.js";
import { InboxApi, InboxApiError } from "./api.js";
import { describeInboxError } from "./errors.js";

const minPassword = 10;

/** Email and password, or (from an invitation link) choosing a password. */
export function SignIn({
  invitation,
  onSession,
  onForgetInvitation,
}: {
  invitation: string | null;
  onSession: (token: string) => void;
  /** Back to email and password (the invitation was used already). */
  onForgetInvitation: () => void;
}) {
  return (
    <div className="welcome inbox-sign-in">
      <h1>Team inbox</h1>
      <p className="lead">Your business's conversations with its customers, for its agents.</p>
      {invitation ? (
        <>
          <AcceptInvitation token={invitation} onSession={onSession} />
          <p>
            <button type="button" className="plain-link" onClick={onForgetInvitation}>
              I have a password already: sign in
            </button>
          </p>
        </>
      ) : (
        <PasswordSignIn onSession={onSession} />
      )}
    </div>
  );
}

function PasswordSignIn({ onSession }: { onSession: (token: string) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSession(await new InboxApi(null).signIn(email.trim(), password));
    } catch (e) {
      setError(
        e instanceof InboxApiError && (e.status === 401 || e.status === 403)
          ? "That email and password do not match an active agent."
          : describeInboxError(e),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" aria-label="Sign in" onSubmit={submit}>
      <label>
        Email
        <input
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      <label>
        Password
        <input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      <p className="hint">
        New here? Open the invitation link your administrator sent you to choose a password.
      </p>
    </form>
  );
}

function AcceptInvitation({
  token,
  onSession,
}: {
  token: string;
  onSession: (token: string) => void;
}) {
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password.length < minPassword) {
      setError(`Choose a password of at least ${minPassword} characters.`);
      return;
    }
    if (password !== repeat) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSession(await new InboxApi(null).acceptInvitation(token, password));
    } catch (e) {
      setError(
        e instanceof InboxApiError && (e.status === 401 || e.status === 404)
          ? "This invitation cannot be used: it expired, was replaced or was used already. Ask your administrator for a new one."
          : describeInboxError(e),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" aria-label="Accept invitation" onSubmit={submit}>
      <p>You were invited to the team inbox. Choose a password to sign in with from now on.</p>
      <label>
        New password
        <input
          type="password"
          autoComplete="new-password"
          required
          minLength={minPassword}
          aria-describedby="password-hint"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <span id="password-hint" className="hint">
          At least {minPassword} characters.
        </span>
      </label>
      <label>
        Repeat the password
        <input
          type="password"
          autoComplete="new-password"
          required
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
        />
      </label>
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Joining…" : "Join the inbox"}
      </button>
    </form>
  );
}
