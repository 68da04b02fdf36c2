// Exchange Online's side of Graph sendMail: mailboxes, who may send as whom, and which apps may use which
// mailbox. An app may send from a mailbox when its token's roles carry Mail.Send (an Entra admin consent:
// tenant-wide, whatever any scope says) or when an RBAC for Applications assignment of "Application Mail.Send"
// covers the mailbox (https://learn.microsoft.com/exchange/permissions-exo/application-rbac); an
// ApplicationAccessPolicy can still block it (https://learn.microsoft.com/graph/auth-limit-mailbox-access).
import { randomUUID } from "node:crypto";

export interface GraphMailbox {
  tenantId: string;
  /** The user's object id, usable in the URL instead of the UPN. */
  id: string;
  userPrincipalName: string;
  /** Primary SMTP address. */
  address: string;
  /** A distribution list or group is not a mailbox for sendMail (404 ErrorInvalidUser). */
  kind: "user" | "group";
  /** False for unlicensed, guest, on-premises or soft-deleted mailboxes (404 MailboxNotEnabledForRESTAPI). */
  restEnabled: boolean;
}

export interface MailboxSpec {
  address: string;
  id?: string;
  userPrincipalName?: string;
  kind?: "user" | "group";
  restEnabled?: boolean;
}

export type SendPermission =
  | { allowed: true; via: "entra-consent" | "rbac" }
  | { allowed: false; reason: string };

const key = (...parts: string[]): string => parts.map((p) => p.toLowerCase()).join("/");

export class GraphDirectory {
  readonly mailboxes = new Map<string, GraphMailbox>();
  /** "<tenant>/<appId>" → addresses in the assignment's management scope (New-ManagementScope -RecipientRestrictionFilter). */
  private readonly rbacScopes = new Map<string, Set<string>>();
  /** "<tenant>/<appId>" → addresses an ApplicationAccessPolicy (RestrictAccess) allows; absent = no policy. */
  private readonly accessPolicies = new Map<string, Set<string>>();
  /** address → mailboxes with Send As or Send on Behalf on it. */
  private readonly sendAs = new Map<string, Set<string>>();

  addMailbox(tenantId: string, spec: MailboxSpec): GraphMailbox {
    const mailbox: GraphMailbox = {
      tenantId: tenantId.toLowerCase(),
      id: (spec.id ?? randomUUID()).toLowerCase(),
      userPrincipalName: (spec.userPrincipalName ?? spec.address).toLowerCase(),
      address: spec.address.toLowerCase(),
      kind: spec.kind ?? "user",
      restEnabled: spec.restEnabled ?? true,
    };
    this.mailboxes.set(key(mailbox.tenantId, mailbox.address), mailbox);
    return mailbox;
  }

  /** The URL's {id | userPrincipalName} segment, within the token's tenant. */
  resolve(tenantId: string, user: string): GraphMailbox | undefined {
    const wanted = decodeURIComponent(user).toLowerCase();
    for (const mailbox of this.mailboxes.values()) {
      if (mailbox.tenantId !== tenantId.toLowerCase()) continue;
      if (mailbox.id === wanted || mailbox.userPrincipalName === wanted || mailbox.address === wanted)
        return mailbox;
    }
    return undefined;
  }

  /** New-ManagementRoleAssignment -App <appId> -Role "Application Mail.Send" -CustomResourceScope <scope of these mailboxes>. */
  assignMailSend(tenantId: string, appId: string, mailboxes: string[]): void {
    const scope = this.rbacScopes.get(key(tenantId, appId)) ?? new Set<string>();
    for (const address of mailboxes) scope.add(address.toLowerCase());
    this.rbacScopes.set(key(tenantId, appId), scope);
  }

  removeMailSendAssignment(tenantId: string, appId: string): void {
    this.rbacScopes.delete(key(tenantId, appId));
  }

  /** New-ApplicationAccessPolicy -AccessRight RestrictAccess: only these mailboxes stay reachable. */
  restrictAccess(tenantId: string, appId: string, mailboxes: string[]): void {
    this.accessPolicies.set(key(tenantId, appId), new Set(mailboxes.map((m) => m.toLowerCase())));
  }

  /** Add-RecipientPermission <address> -Trustee <mailbox> -AccessRights SendAs. */
  grantSendAs(address: string, trusteeMailbox: string): void {
    const trustees = this.sendAs.get(address.toLowerCase()) ?? new Set<string>();
    trustees.add(trusteeMailbox.toLowerCase());
    this.sendAs.set(address.toLowerCase(), trustees);
  }

  mayUseMailbox(tenantId: string, appId: string, roles: string[], mailbox: GraphMailbox): SendPermission {
    const policy = this.accessPolicies.get(key(tenantId, appId));
    if (policy && !policy.has(mailbox.address))
      return { allowed: false, reason: "application access policy" };
    if (roles.includes("Mail.Send")) return { allowed: true, via: "entra-consent" };
    if (this.rbacScopes.get(key(tenantId, appId))?.has(mailbox.address))
      return { allowed: true, via: "rbac" };
    return { allowed: false, reason: "no Mail.Send consent and no RBAC assignment covering the mailbox" };
  }

  isAccessPolicyDenial(permission: SendPermission): boolean {
    return !permission.allowed && permission.reason === "application access policy";
  }

  maySendAs(mailbox: GraphMailbox, from: string): boolean {
    const address = from.toLowerCase();
    if (address === mailbox.address || address === mailbox.userPrincipalName) return true;
    return this.sendAs.get(address)?.has(mailbox.address) ?? false;
  }
}
