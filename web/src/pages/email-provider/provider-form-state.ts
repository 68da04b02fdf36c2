import type {
  OAuthProviderName,
  Provider,
  ProviderInput,
  SmtpBasicProvider,
  SmtpOAuthProvider,
  SmtpSecurity,
} from "../../api/types.ts";

export type ProviderType = Provider["type"];

/** Everything the two tabs edit; the sender fields are shared, so switching tabs keeps them. */
export interface ProviderForm {
  type: ProviderType;
  senderEmail: string;
  senderName: string;
  fallbackToDefault: boolean;
  host: string;
  port: string;
  security: SmtpSecurity;
  username: string;
  password: string;
  provider: OAuthProviderName;
  clientId: string;
  tenantId: string;
  clientSecret: string;
  /** The user chose to type a new secret although the saved one could be kept. */
  replacingSecret: boolean;
}

export function formFromProvider(saved: Provider | null, type?: ProviderType): ProviderForm {
  const form: ProviderForm = {
    type: type ?? saved?.type ?? "smtp_basic",
    senderEmail: saved?.senderEmail ?? "",
    senderName: saved?.senderName ?? "",
    fallbackToDefault: saved?.fallbackToDefault ?? false,
    host: "",
    port: "",
    security: "starttls",
    username: "",
    password: "",
    provider: "microsoft",
    clientId: "",
    tenantId: "",
    clientSecret: "",
    replacingSecret: false,
  };
  if (saved?.type === "smtp_basic") {
    Object.assign(form, {
      host: saved.host,
      port: String(saved.port),
      security: saved.security,
      username: saved.username,
    });
  } else if (saved?.type === "smtp_oauth") {
    Object.assign(form, { provider: saved.provider, clientId: saved.clientId, tenantId: saved.tenantId });
  }
  return form;
}

/** The field names the API uses for each kind's secret. */
export const secretField = { smtp_basic: "password", smtp_oauth: "clientSecret" } as const;

export interface SecretStatus {
  /** A secret of this kind is saved on the server. */
  stored: boolean;
  /** Fields that decide where the secret goes have changed since it was saved. */
  destinationChanged: boolean;
  /** The saved secret will be used: the form sends none. */
  kept: boolean;
}

function savedOfType(saved: Provider | null, type: "smtp_basic"): SmtpBasicProvider | undefined;
function savedOfType(saved: Provider | null, type: "smtp_oauth"): SmtpOAuthProvider | undefined;
function savedOfType(saved: Provider | null, type: ProviderType): Provider | undefined {
  return saved?.type === type ? saved : undefined;
}

/**
 * The server keeps a stored secret only while its destination is unchanged (host, port, security and
 * username; or provider, tenant and client ID): a saved password must never be replayed to a new server.
 */
export function secretStatus(form: ProviderForm, saved: Provider | null): SecretStatus {
  let stored = false;
  let destinationChanged = false;
  if (form.type === "smtp_basic") {
    const basic = savedOfType(saved, "smtp_basic");
    stored = basic?.passwordSet === true;
    destinationChanged =
      basic !== undefined &&
      (form.host.trim() !== basic.host ||
        form.port.trim() !== String(basic.port) ||
        form.security !== basic.security ||
        form.username !== basic.username);
  } else {
    const oauth = savedOfType(saved, "smtp_oauth");
    stored = oauth?.clientSecretSet === true;
    destinationChanged =
      oauth !== undefined &&
      (form.provider !== oauth.provider ||
        form.clientId.trim().toLowerCase() !== oauth.clientId ||
        form.tenantId.trim().toLowerCase() !== oauth.tenantId);
  }
  return { stored, destinationChanged, kept: stored && !destinationChanged && !form.replacingSecret };
}

/** Checks the browser can make without the server: a port must be a number before it can be sent. */
export function localErrors(form: ProviderForm): Record<string, string> {
  if (form.type !== "smtp_basic" || /^\d{1,5}$/.test(form.port.trim())) return {};
  return { port: "Enter the port number of your SMTP server, such as 587 or 465." };
}

/** The PUT body (also the test's `config`): secrets only when the user typed one. */
export function providerInput(form: ProviderForm, saved: Provider | null): ProviderInput {
  const { kept } = secretStatus(form, saved);
  const senderName = form.senderName.trim();
  const common = {
    senderEmail: form.senderEmail.trim(),
    ...(senderName ? { senderName } : {}),
    fallbackToDefault: form.fallbackToDefault,
  };
  if (form.type === "smtp_basic") {
    return {
      type: "smtp_basic",
      ...common,
      host: form.host.trim(),
      port: Number(form.port.trim()),
      security: form.security,
      username: form.username,
      ...(kept ? {} : { password: form.password }),
    };
  }
  return {
    type: "smtp_oauth",
    provider: form.provider,
    ...common,
    clientId: form.clientId.trim(),
    tenantId: form.tenantId.trim(),
    ...(kept ? {} : { clientSecret: form.clientSecret }),
  };
}

/** Whether the form says something other than what is saved (then tests run on the form's values). */
export function isDirty(form: ProviderForm, saved: Provider | null): boolean {
  if (!saved || saved.type !== form.type) return true;
  const status = secretStatus(form, saved);
  if (!status.kept) return true;
  const pristine = formFromProvider(saved);
  return (
    form.senderEmail.trim() !== pristine.senderEmail ||
    form.senderName.trim() !== pristine.senderName ||
    form.fallbackToDefault !== pristine.fallbackToDefault
  );
}
