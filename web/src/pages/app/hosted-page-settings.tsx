import { type FormEvent, useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import type { TokenEndpointAuthMethod } from "../../api/types.ts";
import { FormError } from "../../components/feedback.tsx";
import { SelectField, SubmitActions, TextField } from "../../components/field.tsx";
import { Card } from "../../components/layout.tsx";
import type { AppFormProps } from "./app-layout.tsx";

const methods: { value: TokenEndpointAuthMethod; label: string }[] = [
  { value: "client_secret_basic", label: "Confidential: secret key, HTTP Basic (client_secret_basic)" },
  { value: "client_secret_post", label: "Confidential: secret key in the form (client_secret_post)" },
  { value: "none", label: "Public: browser or mobile app, PKCE only (none)" },
];

/** How the app signs in through OpenID Connect, and how the hosted login page shows it. */
export function HostedPageSettings({ app, onAppChange, disabled }: AppFormProps) {
  const [method, setMethod] = useState(app.oidc.tokenEndpointAuthMethod);
  const [refreshTokens, setRefreshTokens] = useState(app.oidc.refreshTokens);
  const [logoUrl, setLogoUrl] = useState(app.branding.logoUrl ?? "");
  const [accentColor, setAccentColor] = useState(app.branding.accentColor ?? "");
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setSaved(false);
    setError(undefined);
    try {
      const updated = await api.patch("/api/apps/{appId}", {
        path: { appId: app.id },
        body: {
          oidc: { tokenEndpointAuthMethod: method, refreshTokens },
          branding: { logoUrl: logoUrl.trim() || null, accentColor: accentColor.trim() || null },
        },
      });
      onAppChange(updated);
      setSaved(true);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const errors = error?.fieldErrors() ?? {};
  const inline = Object.keys(errors).some((f) => f.startsWith("branding"));
  return (
    <Card
      title="Hosted login page"
      id="hosted-page"
      description="Your app as an OpenID Connect client of Postern, and how the sign-in page it sends people to looks."
    >
      <form className="form form-narrow" onSubmit={submit} noValidate>
        <fieldset className="fieldset-plain" disabled={disabled}>
          <SelectField
            label="Client authentication"
            hint="Where your code runs: a server can keep the secret key; a browser or mobile app cannot."
            value={method}
            options={methods}
            onChange={(e) => {
              setMethod(e.target.value as TokenEndpointAuthMethod);
              setSaved(false);
            }}
          />
          <label className="checkbox">
            <input
              type="checkbox"
              checked={refreshTokens}
              onChange={(e) => {
                setRefreshTokens(e.target.checked);
                setSaved(false);
              }}
            />
            <span>
              <span className="checkbox-label">Refresh tokens</span>
              <span className="field-hint">
                For the <code>offline_access</code> scope: 14 days, a new one at every use.
              </span>
            </span>
          </label>
          <TextField
            label="Logo URL"
            optional
            hint="An https image, shown above the sign-in form."
            type="url"
            value={logoUrl}
            onChange={(e) => {
              setLogoUrl(e.target.value);
              setSaved(false);
            }}
            error={errors["branding.logoUrl"]}
          />
          <TextField
            label="Accent colour"
            optional
            hint="The buttons' colour, such as #0f766e; their text turns black or white to stay readable."
            value={accentColor}
            maxLength={7}
            onChange={(e) => {
              setAccentColor(e.target.value);
              setSaved(false);
            }}
            error={errors["branding.accentColor"]}
          />
        </fieldset>
        <FormError error={inline ? undefined : error} />
        {!disabled && (
          <SubmitActions label="Save sign-in settings" busy={busy} status={saved ? "Saved" : ""} />
        )}
      </form>
    </Card>
  );
}
