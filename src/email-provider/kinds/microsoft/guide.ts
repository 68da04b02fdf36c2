import { psQuote } from "./powershell.ts";

export interface GuideStep {
  title: string;
  text: string;
  commands?: { label: string; command: string }[];
  /** Microsoft's own pages for this step: the portal page it happens on and the documentation. */
  links?: { label: string; url: string }[];
}

export interface GuideValues {
  clientId?: string | undefined;
  tenantId?: string | undefined;
  senderEmail?: string | undefined;
  /** The Enterprise application's Object ID (never saved: only Exchange's command needs it). */
  objectId?: string | undefined;
}

const ENTRA = "https://entra.microsoft.com/#view/Microsoft_AAD_IAM";
const LEARN = "https://learn.microsoft.com";

/** A value as a PowerShell argument, or the placeholder the developer still has to fill in. */
const arg = (value: string | undefined, placeholder: string) => (value ? psQuote(value) : `<${placeholder}>`);

/**
 * The Microsoft 365 setup, step by step, with the developer's values filled in: Entra app registration,
 * client secret, SMTP.SendAsApp with admin consent, then the Exchange Online PowerShell that registers the
 * service principal and gives it the mailbox (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth, https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission).
 */
export function microsoftGuide(values: GuideValues): { steps: GuideStep[] } {
  const clientId = arg(values.clientId, "client id");
  const tenant = arg(values.tenantId, "tenant id");
  const sender = arg(values.senderEmail, "sender email");
  const objectId = arg(values.objectId, "object id");
  const spName = psQuote(`Postern SMTP sender ${values.clientId ?? ""}`.trim());
  const entered = values.clientId
    ? ` This provider uses client ID ${values.clientId}${values.tenantId ? ` in tenant ${values.tenantId}` : ""}.`
    : "";
  return {
    steps: [
      {
        title: "Register an app in Microsoft Entra",
        text: `In the Microsoft Entra admin center, open App registrations → New registration. Name it (for example "Postern SMTP sender"), keep "Accounts in this organizational directory only", leave the redirect URI empty and register. Its Overview page shows the Application (client) ID and the Directory (tenant) ID: enter both here.${entered}`,
        links: [
          { label: "App registrations in the Entra admin center", url: `${ENTRA}/RegisteredApps.ReactView` },
          {
            label: "Register an application (Microsoft Learn)",
            url: `${LEARN}/entra/identity-platform/quickstart-register-app`,
          },
        ],
      },
      {
        title: "Create a client secret",
        text: "In the app registration, open Certificates & secrets → Client secrets → New client secret. Copy its Value at once (it is shown only once; the Secret ID is not the secret) and enter it as the client secret. Note when it expires: a new one must be entered here before then.",
        links: [
          {
            label: "Add a client secret (Microsoft Learn)",
            url: `${LEARN}/entra/identity-platform/how-to-add-credentials`,
          },
        ],
      },
      {
        title: "Allow the app to send mail over SMTP",
        text: "Open API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions → SMTP.SendAsApp → Add permissions. Then choose Grant admin consent (an administrator must do this). Without consent, tokens carry no SMTP.SendAsApp role and Exchange refuses them.",
        links: [
          {
            label: "Grant admin consent (Microsoft Learn)",
            url: `${LEARN}/entra/identity/enterprise-apps/grant-admin-consent`,
          },
          {
            label: "OAuth for SMTP: SMTP.SendAsApp (Microsoft Learn)",
            url: `${LEARN}/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth`,
          },
        ],
      },
      {
        title: "Find the Enterprise application's Object ID",
        text: "Exchange needs the object ID of the app's service principal: open Enterprise applications (not App registrations), find the app by name or client ID, and copy the Object ID from its Overview page into the Object ID field here. The Object ID on the App registration's Overview page is a different object, and using it makes every login fail with 535 5.7.3.",
        links: [
          {
            label: "Enterprise applications in the Entra admin center",
            url: `${ENTRA}/StartboardApplicationsMenuBlade/~/AppAppsPreview`,
          },
        ],
        commands: [
          {
            label: "Or ask the Azure CLI for it",
            command: `az ad sp show --id ${values.clientId ?? "<client id>"} --query id --output tsv`,
          },
        ],
      },
      {
        title: "Connect to Exchange Online PowerShell",
        text: "In PowerShell, as an Exchange administrator of the tenant:",
        links: [
          {
            label: "Connect to Exchange Online PowerShell (Microsoft Learn)",
            url: `${LEARN}/powershell/exchange/connect-to-exchange-online-powershell`,
          },
        ],
        commands: [
          { label: "Install the module (once)", command: "Install-Module -Name ExchangeOnlineManagement" },
          { label: "Load it", command: "Import-Module ExchangeOnlineManagement" },
          { label: "Sign in to the tenant", command: `Connect-ExchangeOnline -Organization ${tenant}` },
        ],
      },
      {
        title: "Register the service principal in Exchange",
        text: values.objectId
          ? "The command uses the Object ID you entered."
          : "Enter the Enterprise application's Object ID from the step above in the Object ID field, or replace <object id> here.",
        links: [
          {
            label: "New-ServicePrincipal (Microsoft Learn)",
            url: `${LEARN}/powershell/module/exchange/new-serviceprincipal`,
          },
        ],
        commands: [
          {
            label: "Register it",
            command: `New-ServicePrincipal -AppId ${clientId} -ObjectId ${objectId} -DisplayName ${spName}`,
          },
        ],
      },
      {
        title: "Give it the sender mailbox",
        text: "The service principal needs FullAccess to the mailbox it sends from; login emails go out From this address.",
        links: [
          {
            label: "Add-MailboxPermission (Microsoft Learn)",
            url: `${LEARN}/powershell/module/exchange/add-mailboxpermission`,
          },
        ],
        commands: [
          {
            label: "Look up the service principal",
            command: `$sp = Get-ServicePrincipal -Identity ${spName}`,
          },
          {
            label: "Grant FullAccess",
            command: `Add-MailboxPermission -Identity ${sender} -User $sp.Identity -AccessRights FullAccess`,
          },
        ],
      },
      {
        title: "Check that SMTP AUTH is enabled",
        text: "Exchange refuses every SMTP login (535 5.7.139) where SMTP AUTH is disabled, for the mailbox or, when the mailbox has no setting, for the whole tenant. True means disabled.",
        links: [
          {
            label: "Enable or disable SMTP AUTH (Microsoft Learn)",
            url: `${LEARN}/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission`,
          },
        ],
        commands: [
          {
            label: "Mailbox setting",
            command: `Get-CASMailbox -Identity ${sender} | Format-List SmtpClientAuthenticationDisabled`,
          },
          {
            label: "Tenant setting",
            command: "Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled",
          },
          {
            label: "Enable it for the mailbox",
            command: `Set-CASMailbox -Identity ${sender} -SmtpClientAuthenticationDisabled $false`,
          },
        ],
      },
      {
        title: "Test the connection",
        text: "Permissions can take 15 to 30 minutes to reach Exchange. Save the provider, then run Test connection: each step reports what failed and how to fix it.",
      },
    ],
  };
}
