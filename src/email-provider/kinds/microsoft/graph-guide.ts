import { arg, type GuideStep, type GuideValues, LEARN, sharedSteps } from "./guide-steps.ts";
import { psQuote } from "./powershell.ts";

const RBAC = `${LEARN}/exchange/permissions-exo/application-rbac`;

/**
 * The Recipient filter of the management scope: one mailbox, by primary SMTP address. The OPATH value is
 * quoted by PowerShell's own rules (Exchange parses filters with them: https://learn.microsoft.com/powershell/exchange/recipient-filters),
 * then the whole filter is one verbatim PowerShell string, so nothing in the address can end either
 * string, widen the scope or run as code.
 */
export const mailboxFilter = (senderEmail: string) => `PrimarySmtpAddress -eq ${psQuote(senderEmail)}`;

/** Why Mail.Send is granted in Exchange, not consented in Entra. */
const LEAVE_CONSENT_OUT: GuideStep = {
  title: "Leave Mail.Send out of Entra's admin consent",
  text: "The app sends with Microsoft Graph's Mail.Send application permission, granted in Exchange for the sender mailbox only (the steps below). Do not add Mail.Send under API permissions and Grant admin consent in Entra: a consented Mail.Send is tenant-wide, adds to any Exchange scope, and lets the app send as every mailbox of the tenant, the CEO's included. If API permissions already lists Microsoft Graph → Mail.Send (Application), remove it or revoke its consent.",
  links: [
    { label: "Role Based Access Control for Applications (Microsoft Learn)", url: RBAC },
    {
      label: "Mail.Send application permission (Microsoft Learn)",
      url: `${LEARN}/graph/permissions-reference#mailsend`,
    },
  ],
};

/**
 * The Microsoft Graph setup: the same app registration, then Mail.Send granted in Exchange through RBAC for
 * Applications for the one sender mailbox (https://learn.microsoft.com/exchange/permissions-exo/application-rbac),
 * never as a tenant-wide admin consent in Entra, which adds to any scope and lets the app send as anyone.
 */
export function graphGuide(values: GuideValues): { steps: GuideStep[] } {
  const clientId = arg(values.clientId, "client id");
  const mailbox = values.senderEmail ?? "<sender email>";
  const sender = arg(values.senderEmail, "sender email");
  const scopeName = psQuote(`Postern sender ${mailbox}`);
  const shared = sharedSteps(values, "Postern Graph sender");
  return {
    steps: [
      ...shared.registration,
      LEAVE_CONSENT_OUT,
      shared.objectId("registers the wrong object, so every send fails with 403 ErrorAccessDenied"),
      shared.connectExchange,
      shared.registerServicePrincipal(psQuote(`Postern Graph sender ${values.clientId ?? ""}`.trim())),
      {
        title: "Let the app send as the sender mailbox, and no other",
        text: `A management scope that matches only ${mailbox}, and an assignment of the "Application Mail.Send" role to the app within that scope.`,
        links: [
          {
            label: "New-ManagementScope (Microsoft Learn)",
            url: `${LEARN}/powershell/module/exchange/new-managementscope`,
          },
          {
            label: "New-ManagementRoleAssignment (Microsoft Learn)",
            url: `${LEARN}/powershell/module/exchange/new-managementroleassignment`,
          },
        ],
        commands: [
          {
            label: "A scope of this one mailbox",
            command: `New-ManagementScope -Name ${scopeName} -RecipientRestrictionFilter ${psQuote(mailboxFilter(mailbox))}`,
          },
          {
            label: "Mail.Send within it",
            command: `New-ManagementRoleAssignment -App ${clientId} -Role "Application Mail.Send" -CustomResourceScope ${scopeName}`,
          },
        ],
      },
      {
        title: "Check the grant",
        text: "Exchange caches app permissions for 30 minutes to 2 hours, so sends can fail with 403 ErrorAccessDenied for a while; this command reads the grant without the cache. InScope must be True for the sender mailbox, and False for any other.",
        links: [
          {
            label: "Test-ServicePrincipalAuthorization (Microsoft Learn)",
            url: `${LEARN}/powershell/module/exchange/test-serviceprincipalauthorization`,
          },
        ],
        commands: [
          {
            label: "The sender mailbox",
            command: `Test-ServicePrincipalAuthorization -Identity ${clientId} -Resource ${sender}`,
          },
        ],
      },
      {
        title: "Test the connection with a test email",
        text: "Graph has no dry run for sendMail: Test connection checks the token, and only a test email proves the grant. Save the provider, then run Test connection with a test email. Graph answers 202 Accepted, which means accepted, not delivered: an unknown recipient comes back later as a non-delivery report to the sender mailbox.",
        links: [{ label: "user: sendMail (Microsoft Learn)", url: `${LEARN}/graph/api/user-sendmail` }],
      },
    ],
  };
}
