import { type FormEvent, useEffect, useState } from "react";
import { type ApiError, api, toApiError } from "../api/client.ts";
import { AuthCard } from "../components/auth-card.tsx";
import { FormError, Notice } from "../components/feedback.tsx";
import { TextField } from "../components/field.tsx";
import { formatRelative } from "../components/time.tsx";
import {
  codeDigits,
  type PendingLogin,
  readBrowserPendingLogin,
  readPendingLogin,
  writePendingLogin,
} from "../pending-login.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import { useFormSubmit } from "../use-form-submit.ts";
import "./sign-in.css";

function useDevMailboxAvailable(): boolean {
  const [available, setAvailable] = useState(false);
  useEffect(() => {
    let live = true;
    void api.get("/api/session").then(
      (session) => {
        if (live) setAvailable(session.devMailbox);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, []);
  return available;
}

export function SignInPage({ notice }: { notice?: string | undefined }) {
  const devMailbox = useDevMailboxAvailable();
  const [pending, setPending] = useState<PendingLogin | undefined>(readPendingLogin);

  const choosePending = (next: PendingLogin | undefined) => {
    writePendingLogin(next);
    setPending(next);
  };

  return (
    <AuthCard>
      <h1 className="auth-title">{pending ? "Check your email" : "Sign in to Postern"}</h1>
      <p className="auth-subtitle">
        {pending ? (
          <>
            We sent a 6-digit code to <strong>{pending.email}</strong>. It expires{" "}
            {formatRelative(pending.expiresAt)}.
          </>
        ) : (
          "No password: we email you a one-time code and a sign-in link."
        )}
      </p>
      {notice && !pending && <Notice tone={notice.includes("expired") ? "warning" : "info"}>{notice}</Notice>}
      {pending ? (
        <CodeStep pending={pending} onRestart={() => choosePending(undefined)} onResent={choosePending} />
      ) : (
        <EmailStep onSent={choosePending} onHaveCode={choosePending} />
      )}
      {devMailbox && (
        <div className="auth-dev">
          <strong>Running Postern locally?</strong> No email leaves this machine.{" "}
          <Link to="/dev/mailbox">Open the dev mailbox</Link> to read your code.
        </div>
      )}
    </AuthCard>
  );
}

function EmailStep({
  onSent,
  onHaveCode,
}: {
  onSent(pending: PendingLogin): void;
  onHaveCode(pending: PendingLogin): void;
}) {
  // A code asked for in another tab of this browser (still valid) can be entered here.
  const [elsewhere] = useState(readBrowserPendingLogin);
  const [email, setEmail] = useState("");
  const form = useFormSubmit({
    send: () => api.post("/api/auth/email", { body: { email } }),
    onDone: (sent) => onSent({ email: email.trim(), ...sent }),
    inlineFields: ["email"],
  });

  return (
    <form onSubmit={form.onSubmit} noValidate className="form" ref={form.formRef}>
      <TextField
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        autoFocus
        required
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={form.fieldErrors.email}
        placeholder="you@company.com"
      />
      <FormError error={form.formLevelError} />
      <button type="submit" className="btn btn-primary btn-block" disabled={form.busy || !email.trim()}>
        {form.busy ? "Sending…" : "Email me a code"}
      </button>
      {elsewhere && (
        <div className="auth-secondary-actions">
          <button type="button" className="btn btn-link" onClick={() => onHaveCode(elsewhere)}>
            I already have a code for {elsewhere.email}
          </button>
        </div>
      )}
    </form>
  );
}

function CodeStep({
  pending,
  onRestart,
  onResent,
}: {
  pending: PendingLogin;
  onRestart(): void;
  onResent(pending: PendingLogin): void;
}) {
  const { completeSignIn } = useSession();
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState<"verify" | "resend" | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [resent, setResent] = useState(false);

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    setBusy("verify");
    setError(undefined);
    try {
      const verified = await api.post("/api/auth/email/verify", {
        body: { loginId: pending.loginId, code },
      });
      writePendingLogin(undefined);
      await completeSignIn(verified);
    } catch (err) {
      setError(toApiError(err));
      setBusy(undefined);
    }
  };

  const resend = async () => {
    setBusy("resend");
    setError(undefined);
    try {
      const sent = await api.post("/api/auth/email", { body: { email: pending.email } });
      setCode("");
      setResent(true);
      onResent({ email: pending.email, ...sent });
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(undefined);
    }
  };

  const codeError = error?.fieldErrors().code;
  return (
    <form onSubmit={verify} noValidate className="form">
      <TextField
        label="Sign-in code"
        name="code"
        inputMode="numeric"
        autoComplete="one-time-code"
        autoFocus
        required
        className="input input-code"
        value={code}
        onChange={(e) => setCode(codeDigits(e.target.value))}
        error={codeError}
        hint={resent ? "A new code is on its way: use the newest email." : undefined}
      />
      <FormError error={codeError ? undefined : error} />
      <button
        type="submit"
        className="btn btn-primary btn-block"
        disabled={busy !== undefined || code.length !== 6}
      >
        {busy === "verify" ? "Signing in…" : "Sign in"}
      </button>
      <div className="auth-secondary-actions">
        <button type="button" className="btn btn-link" onClick={onRestart} disabled={busy !== undefined}>
          Use a different email
        </button>
        <button type="button" className="btn btn-link" onClick={resend} disabled={busy !== undefined}>
          {busy === "resend" ? "Sending…" : "Send a new code"}
        </button>
      </div>
    </form>
  );
}
