import { TextField } from "../../components/field.tsx";

/**
 * The fields every kind shares, rendered by the form shell whichever kind is chosen (the registry's
 * metadata lists only each kind's own): who the login emails come from.
 */
export function SenderFields({
  senderEmail,
  senderName,
  errors,
  onChange,
}: {
  senderEmail: string;
  senderName: string;
  errors: Record<string, string>;
  onChange(patch: { senderEmail?: string; senderName?: string }): void;
}) {
  const email = senderEmail.trim();
  return (
    <>
      <TextField
        label="Sender email"
        type="email"
        name="senderEmail"
        autoComplete="off"
        value={senderEmail}
        onChange={(e) => onChange({ senderEmail: e.target.value })}
        error={errors.senderEmail}
        placeholder="no-reply@yourcompany.com"
        hint={
          <ul className="field-notes">
            <li>The address your app's login emails are sent from.</li>
            <li>
              <strong>Note:</strong> do not use your dashboard account email as the sender email.
            </li>
            <li>
              <strong>Note:</strong> do not try to log in with the sender email, to the dashboard or to this
              app.
            </li>
          </ul>
        }
      />
      <TextField
        label="Sender name"
        optional
        name="senderName"
        autoComplete="off"
        maxLength={100}
        value={senderName}
        onChange={(e) => onChange({ senderName: e.target.value })}
        error={errors.senderName}
        placeholder={email || "Defaults to the sender email"}
        hint={
          <>
            The name on the From line of the login email. Defaults to the sender email.
            {email && (
              <span className="from-preview">
                {" "}
                Recipients see: <code>{`"${senderName.trim() || email}" <${email}>`}</code>
              </span>
            )}
          </>
        }
      />
    </>
  );
}

/** Whether a failing provider's login emails go out through the default sender meanwhile. */
export function FallbackField({
  checked,
  defaultSender,
  onChange,
}: {
  checked: boolean;
  defaultSender: string;
  onChange(checked: boolean): void;
}) {
  return (
    <label className="checkbox">
      <input
        type="checkbox"
        name="fallbackToDefault"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span>
        <span className="checkbox-label">Fall back to the default sender</span>
        <span className="field-hint">
          While this provider is failing, send login emails from {defaultSender} instead of retrying.
        </span>
      </span>
    </label>
  );
}
