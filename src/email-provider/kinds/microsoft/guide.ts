import { graphGuide } from "./graph-guide.ts";
import { arg, type GuideStep, type GuideValues, LEARN, sharedSteps } from "./guide-steps.ts";
import { psQuote } from "./powershell.ts";

export type { GuideStep, GuideValues } from "./guide-steps.ts";

/**
 * The Microsoft 365 setup, step by step, with the developer's values filled in, for the transport chosen.
 * SMTP: Entra app registration, client secret, SMTP.SendAsApp with admin consent, then the Exchange Online
 * PowerShell that registers the service principal and gives it the mailbox (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth, https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission).
 */
export function microsoftGuide(values: GuideValues): { steps: GuideStep[] } {
  if (values.transport === "graph") return graphGuide(values);
  const sender = arg(values.senderEmail, "sender email");
  const spName = psQuote(`Postern SMTP sender ${values.clientId ?? ""}`.trim());
  const shared = sharedSteps(values, "Postern SMTP sender");
  return {
    steps: [
      ...shared.registration,
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
      shared.objectId("makes every login fail with 535 5.7.3"),
      shared.connectExchange,
      shared.registerServicePrincipal(spName),
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
