import { useId, useState } from "react";

export type Busy = "save" | "test" | "send";

/** Save, test the connection, send a test email to a member: one at a time, with the form's status. */
export function ProviderActions({
  busy,
  recipients,
  onTest,
  status,
}: {
  busy: Busy | undefined;
  /** Where a test email may go: the workspace's members, the signed-in account first. */
  recipients: string[];
  /** A connection test (`sendTo` undefined) or a test email. */
  onTest(sendTo: string | undefined): void;
  status: string;
}) {
  const [recipient, setRecipient] = useState(recipients[0] ?? "");
  const recipientId = useId();
  return (
    <div className="form-actions provider-actions">
      <button type="submit" className="btn btn-primary" disabled={busy !== undefined}>
        {busy === "save" ? "Saving…" : "Save"}
      </button>
      <button
        type="button"
        className="btn btn-secondary"
        disabled={busy !== undefined}
        onClick={() => onTest(undefined)}
      >
        {busy === "test" ? "Testing…" : "Test connection"}
      </button>
      <span className="test-recipient">
        <label htmlFor={recipientId} className="field-label">
          Test email to
        </label>
        <select
          id={recipientId}
          name="sendTo"
          className="input"
          value={recipient}
          onChange={(e) => setRecipient(e.target.value)}
        >
          {recipients.map((email) => (
            <option key={email} value={email}>
              {email}
            </option>
          ))}
        </select>
      </span>
      <button
        type="button"
        className="btn btn-secondary"
        disabled={busy !== undefined}
        onClick={() => onTest(recipient)}
      >
        {busy === "send" ? "Sending…" : "Send test email"}
      </button>
      <span className="form-status" role="status">
        {status}
      </span>
    </div>
  );
}
