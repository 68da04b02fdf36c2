// Exchange Online's side of app-only SMTP: registered service principals, mailbox and SendAs grants,
// SMTP AUTH switches, and the XOAUTH2 checks (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
import { exchangeAudiences } from "./entra-tokens.ts";
import type { MicrosoftIdentityFake } from "./microsoft-identity.ts";

export type AuthDecision =
  | { ok: true; mailbox: string; appId: string; spObjectId: string; canLogOn: boolean }
  | {
      ok: false;
      failure: "unsuccessful" | "disabled-tenant" | "disabled-mailbox";
      mailbox: string | undefined;
      appId: string | undefined;
      reason: string;
    };

/** Splits "user=<mailbox>\x01auth=Bearer <token>\x01\x01" the way Microsoft's SmtpClientDiag checks it (github.com/richfaj/SmtpClientDiag). */
export function parseXoauth2(blobBase64: string): { mailbox: string; token: string } | undefined {
  const blob = Buffer.from(blobBase64, "base64").toString("utf8");
  const auth = blob.indexOf("\x01auth=Bearer ");
  if (!blob.startsWith("user=") || auth < 0 || !blob.endsWith("\x01\x01")) return undefined;
  return { mailbox: blob.slice(5, auth), token: blob.slice(auth + 13, -2) };
}

export class ExchangeDirectory {
  /** "<tenantId>/<appId>" → service principal object id given to New-ServicePrincipal -ObjectId. */
  private readonly servicePrincipals = new Map<string, string>();
  /** mailbox → SP object ids with FullAccess (Add-MailboxPermission). */
  private readonly fullAccess = new Map<string, Set<string>>();
  /** address → trustees (mailboxes or SP object ids) with SendAs (Add-RecipientPermission). */
  private readonly sendAs = new Map<string, Set<string>>();
  /** Set-TransportConfig -SmtpClientAuthenticationDisabled, per tenant. */
  private readonly tenantSmtpAuthDisabled = new Set<string>();
  /** Set-CASMailbox -SmtpClientAuthenticationDisabled; a mailbox value overrides the tenant's (https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission). */
  private readonly mailboxSmtpAuthDisabled = new Map<string, boolean>();

  constructor(private readonly identity: MicrosoftIdentityFake) {}

  registerServicePrincipal(tenantId: string, appId: string, objectId: string): void {
    this.servicePrincipals.set(`${tenantId.toLowerCase()}/${appId.toLowerCase()}`, objectId.toLowerCase());
  }

  grantMailbox(mailbox: string, spObjectId: string): void {
    addTo(this.fullAccess, mailbox.toLowerCase(), spObjectId.toLowerCase());
  }

  grantSendAs(address: string, trustee: string): void {
    addTo(this.sendAs, address.toLowerCase(), trustee.toLowerCase());
  }

  setTenantSmtpAuthDisabled(tenantId: string, disabled: boolean): void {
    if (disabled) this.tenantSmtpAuthDisabled.add(tenantId.toLowerCase());
    else this.tenantSmtpAuthDisabled.delete(tenantId.toLowerCase());
  }

  /** null: follow the tenant setting. */
  setMailboxSmtpAuthDisabled(mailbox: string, disabled: boolean | null): void {
    if (disabled === null) this.mailboxSmtpAuthDisabled.delete(mailbox.toLowerCase());
    else this.mailboxSmtpAuthDisabled.set(mailbox.toLowerCase(), disabled);
  }

  maySendAs(authMailbox: string, spObjectId: string, address: string): boolean {
    const key = address.toLowerCase();
    if (key === authMailbox.toLowerCase()) return true;
    const trustees = this.sendAs.get(key);
    return trustees !== undefined && (trustees.has(authMailbox.toLowerCase()) || trustees.has(spObjectId));
  }

  async authorize(blobBase64: string): Promise<AuthDecision> {
    const parsed = parseXoauth2(blobBase64);
    if (!parsed) return fail("unsuccessful", undefined, undefined, "malformed XOAUTH2 blob");
    const { mailbox, token } = parsed;
    const verdict = await this.identity.verifyAccessToken(token);
    if (!verdict.valid) return fail("unsuccessful", mailbox, undefined, verdict.reason);
    const { claims } = verdict;
    const appId = claims.appid;
    if (!exchangeAudiences.includes(claims.aud)) {
      return fail("unsuccessful", mailbox, appId, `audience ${claims.aud}`);
    }
    const mailboxSetting = this.mailboxSmtpAuthDisabled.get(mailbox.toLowerCase());
    if (mailboxSetting === true)
      return fail("disabled-mailbox", mailbox, appId, "SMTP AUTH disabled for mailbox");
    if (mailboxSetting === undefined && this.tenantSmtpAuthDisabled.has(claims.tid)) {
      return fail("disabled-tenant", mailbox, appId, "SMTP AUTH disabled for tenant");
    }
    // App-only tokens carry no upn; then roles must hold SMTP.SendAsApp (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
    if (!claims.roles?.includes("SMTP.SendAsApp")) {
      return fail("unsuccessful", mailbox, appId, "token lacks SMTP.SendAsApp");
    }
    const registered = this.servicePrincipals.get(`${claims.tid}/${appId.toLowerCase()}`);
    if (registered === undefined)
      return fail("unsuccessful", mailbox, appId, "service principal not registered");
    // New-ServicePrincipal with the app registration's object id instead of the SP's fails (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
    if (registered !== claims.oid.toLowerCase()) {
      return fail("unsuccessful", mailbox, appId, "service principal registered with another object id");
    }
    const canLogOn = this.fullAccess.get(mailbox.toLowerCase())?.has(registered) ?? false;
    return { ok: true, mailbox, appId, spObjectId: registered, canLogOn };
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(value);
  map.set(key, set);
}

function fail(
  failure: "unsuccessful" | "disabled-tenant" | "disabled-mailbox",
  mailbox: string | undefined,
  appId: string | undefined,
  reason: string,
): AuthDecision {
  return { ok: false, failure, mailbox, appId, reason };
}
