// The Google side of the Google fakes: Cloud service accounts with their keys, and Workspace domains
// with their users and domain-wide delegations. The token endpoint (google-token.ts) and the Gmail
// SMTP fake (gmail-smtp.ts) both read it.
import { generateKeyPairSync, type KeyObject, randomBytes, randomInt } from "node:crypto";

export interface ServiceAccountKeyFile {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

export interface FakeServiceAccount {
  clientEmail: string;
  /** The numeric Unique ID (client_id), what domain-wide delegation is granted to. */
  clientId: string;
  projectId: string;
  disabled: boolean;
  /** private_key_id → public key, for the keys that are active. */
  keys: Map<string, KeyObject>;
}

export interface FakeUser {
  email: string;
  suspended: boolean;
  /** Gmail turned on for the user (Admin console → Apps → Google Workspace → Gmail → Service status). */
  gmail: boolean;
}

/**
 * Service accounts, users and delegations. A key file looks as the Cloud console downloads it
 * (https://cloud.google.com/iam/docs/keys-create-delete); its private key lives only in the file.
 */
export class GoogleWorkspace {
  readonly serviceAccounts = new Map<string, FakeServiceAccount>();
  readonly users = new Map<string, FakeUser>();
  /** domain → client ID → delegated scopes (https://support.google.com/a/answer/162106). */
  readonly delegations = new Map<string, Map<string, string[]>>();

  /** Creates a service account and its first JSON key. */
  createServiceAccount(spec: { name: string; projectId: string }): {
    account: FakeServiceAccount;
    keyFile: ServiceAccountKeyFile;
  } {
    const clientEmail = `${spec.name}@${spec.projectId}.iam.gserviceaccount.com`;
    const account: FakeServiceAccount = {
      clientEmail,
      clientId: `1${Array.from({ length: 20 }, () => randomInt(10)).join("")}`,
      projectId: spec.projectId,
      disabled: false,
      keys: new Map(),
    };
    this.serviceAccounts.set(clientEmail, account);
    return { account, keyFile: this.createKey(clientEmail) };
  }

  /** Keys → Add key → Create new key → JSON. */
  createKey(clientEmail: string): ServiceAccountKeyFile {
    const account = this.account(clientEmail);
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyId = randomBytes(20).toString("hex");
    account.keys.set(keyId, publicKey);
    return {
      type: "service_account",
      project_id: account.projectId,
      private_key_id: keyId,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: clientEmail,
      client_id: account.clientId,
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: "https://oauth2.googleapis.com/token",
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
      universe_domain: "googleapis.com",
    };
  }

  deleteKey(clientEmail: string, keyId: string): void {
    this.account(clientEmail).keys.delete(keyId);
  }

  deleteServiceAccount(clientEmail: string): void {
    this.serviceAccounts.delete(clientEmail);
  }

  setDisabled(clientEmail: string, disabled: boolean): void {
    this.account(clientEmail).disabled = disabled;
  }

  addUser(email: string, options: Partial<Omit<FakeUser, "email">> = {}): FakeUser {
    const user = { email: email.toLowerCase(), suspended: false, gmail: true, ...options };
    this.users.set(user.email, user);
    return user;
  }

  user(email: string): FakeUser | undefined {
    return this.users.get(email.toLowerCase());
  }

  /** Admin console → Security → API controls → Domain-wide delegation → Add new (or edit: replaces the scopes). */
  delegate(domain: string, clientId: string, scopes: string[]): void {
    const byClient = this.delegations.get(domain) ?? new Map<string, string[]>();
    byClient.set(clientId, scopes);
    this.delegations.set(domain, byClient);
  }

  revokeDelegation(domain: string, clientId: string): void {
    this.delegations.get(domain)?.delete(clientId);
  }

  /** The scopes `clientId` may ask for as a user of `domain`, or undefined when it has no delegation there. */
  delegatedScopes(domain: string, clientId: string): string[] | undefined {
    return this.delegations.get(domain)?.get(clientId);
  }

  private account(clientEmail: string): FakeServiceAccount {
    const account = this.serviceAccounts.get(clientEmail);
    if (!account) throw new Error(`no service account ${clientEmail}`);
    return account;
  }
}
