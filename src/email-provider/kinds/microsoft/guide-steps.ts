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
  /** Which transport the guide is for; SMTP when absent. */
  transport?: "smtp" | "graph" | undefined;
}

export const ENTRA = "https://entra.microsoft.com/#view/Microsoft_AAD_IAM";
export const LEARN = "https://learn.microsoft.com";

/** A value as a PowerShell argument, or the placeholder the developer still has to fill in. */
export const arg = (value: string | undefined, placeholder: string) =>
  value ? psQuote(value) : `<${placeholder}>`;

/** The steps both transports share: the app registration, its secret, and Exchange's service principal. */
export function sharedSteps(values: GuideValues, appName: string) {
  const entered = values.clientId
    ? ` This provider uses client ID ${values.clientId}${values.tenantId ? ` in tenant ${values.tenantId}` : ""}.`
    : "";
  const registerApp: GuideStep = {
    title: "Register an app in Microsoft Entra",
    text: `In the Microsoft Entra admin center, open App registrations → New registration. Name it (for example "${appName}"), keep "Accounts in this organizational directory only", leave the redirect URI empty and register. Its Overview page shows the Application (client) ID and the Directory (tenant) ID: enter both here.${entered}`,
    links: [
      { label: "App registrations in the Entra admin center", url: `${ENTRA}/RegisteredApps.ReactView` },
      {
        label: "Register an application (Microsoft Learn)",
        url: `${LEARN}/entra/identity-platform/quickstart-register-app`,
      },
    ],
  };
  const clientSecret: GuideStep = {
    title: "Create a client secret",
    text: "In the app registration, open Certificates & secrets → Client secrets → New client secret. Copy its Value at once (it is shown only once; the Secret ID is not the secret) and enter it as the client secret. Note when it expires: a new one must be entered here before then.",
    links: [
      {
        label: "Add a client secret (Microsoft Learn)",
        url: `${LEARN}/entra/identity-platform/how-to-add-credentials`,
      },
    ],
  };
  return {
    /** The app registration and its client secret: the first steps of either guide. */
    registration: [registerApp, clientSecret],
    /** `wrongObject`: what goes wrong with the App registration's Object ID instead. */
    objectId: (wrongObject: string): GuideStep => ({
      title: "Find the Enterprise application's Object ID",
      text: `Exchange needs the object ID of the app's service principal: open Enterprise applications (not App registrations), find the app by name or client ID, and copy the Object ID from its Overview page into the Object ID field here. The Object ID on the App registration's Overview page is a different object, and using it ${wrongObject}.`,
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
    }),
    connectExchange: {
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
        {
          label: "Sign in to the tenant",
          command: `Connect-ExchangeOnline -Organization ${arg(values.tenantId, "tenant id")}`,
        },
      ],
    },
    registerServicePrincipal: (spName: string): GuideStep => ({
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
          command: `New-ServicePrincipal -AppId ${arg(values.clientId, "client id")} -ObjectId ${arg(values.objectId, "object id")} -DisplayName ${spName}`,
        },
      ],
    }),
  };
}
