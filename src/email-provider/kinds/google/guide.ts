import type { GuideStep } from "../microsoft/guide.ts";
import { GMAIL_SCOPE } from "./token-errors.ts";

export interface GoogleGuideValues {
  /** The service account's numeric client ID (Unique ID), which domain-wide delegation is granted to. */
  clientId?: string | undefined;
  clientEmail?: string | undefined;
  senderEmail?: string | undefined;
}

const CLOUD = "https://console.cloud.google.com";
const ADMIN = "https://admin.google.com";

/**
 * The Google Workspace setup, step by step, with the developer's values filled in: a service account
 * and its JSON key in Google Cloud, then domain-wide delegation of the Gmail scope to its client ID in
 * the Workspace Admin console (https://developers.google.com/identity/protocols/oauth2/service-account,
 * https://support.google.com/a/answer/162106). The values to paste are commands, shown ready to copy.
 */
export function googleGuide(values: GoogleGuideValues): { steps: GuideStep[] } {
  const clientId = values.clientId ?? "<client id>";
  const account = values.clientEmail ? ` (${values.clientEmail})` : "";
  const sender = values.senderEmail ?? "the sender email";
  return {
    steps: [
      {
        title: "Create a service account in Google Cloud",
        text: 'In the Google Cloud console, pick (or create) a project of your organization and open IAM & Admin → Service accounts → Create service account. Name it (for example "Postern SMTP sender") and choose Done: it needs no roles and no access to the project.',
        links: [
          { label: "Service accounts in the Cloud console", url: `${CLOUD}/iam-admin/serviceaccounts` },
          {
            label: "Create service accounts (Google Cloud)",
            url: "https://cloud.google.com/iam/docs/service-accounts-create",
          },
        ],
      },
      {
        title: "Create a JSON key and paste it here",
        text: `Open the service account${account} → Keys → Add key → Create new key → JSON → Create. The browser downloads the key file: paste its contents (or choose the file) as the service account key here, then delete the download. Postern seals the key and shows back only the account's email, client ID and key ID. If Google says key creation is disabled, an organization policy administrator must allow it for this project (the constraint iam.disableServiceAccountKeyCreation).`,
        links: [
          {
            label: "Create and delete service account keys (Google Cloud)",
            url: "https://cloud.google.com/iam/docs/keys-create-delete",
          },
        ],
      },
      {
        title: "Delegate Gmail to the service account",
        text: `A super administrator of the Google Workspace that ${sender} belongs to opens the Admin console → Security → Access and data control → API controls → Manage Domain Wide Delegation → Add new, enters the client ID and the OAuth scope below, and chooses Authorize. The client ID is the number in the key file's client_id (the service account's Unique ID), not its email. Gmail's SMTP accepts only this scope, which gives full access to every mailbox of the Workspace: keep the key as safe as an administrator's password. The delegation can take up to 24 hours to apply.`,
        links: [
          {
            label: "Domain-wide delegation in the Admin console",
            url: `${ADMIN}/ac/owl/domainwidedelegation`,
          },
          {
            label: "Control API access with domain-wide delegation (Google Workspace Admin Help)",
            url: "https://support.google.com/a/answer/162106",
          },
        ],
        commands: [
          { label: "Client ID", command: clientId },
          { label: "OAuth scopes", command: GMAIL_SCOPE },
        ],
      },
      {
        title: "Check the sender mailbox",
        text: `Login emails go out From ${sender}: it must be the primary address of an active user with Gmail turned on (Admin console → Directory → Users, and Apps → Google Workspace → Gmail → Service status), not a group or an alias. Gmail sends at most 2,000 messages a day per user, so use a mailbox that sends little else.`,
        links: [
          { label: "Users in the Admin console", url: `${ADMIN}/ac/users` },
          {
            label: "Gmail sending limits (Google Workspace Admin Help)",
            url: "https://support.google.com/a/answer/166852",
          },
        ],
      },
      {
        title: "Test the connection",
        text: "Save the provider, then run Test connection: it asks Google for a token as the sender mailbox, then logs in to Gmail's SMTP with it; each step reports what failed and how to fix it.",
      },
    ],
  };
}
