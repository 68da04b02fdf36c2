// The provider form is the registry's: every kind's tab, description, fields, labels, help and order
// come from GET /api/email-provider-kinds, and the form's rules follow the metadata (a secret left
// empty is kept; a changed destination field asks for it again, as the server enforces; `when` shows
// and hides fields and leaves hidden ones out of the body; a PEM field reads a file; a certificate
// field shows the saved one to download; the view's warnings sit beside their field; unsaved edits,
// never secrets, survive a session expiry). Every state is audited with axe at 375 and 1440 px.
import { readFile } from "node:fs/promises";
import type { Browser, Page, Request, Route } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import {
  CLIENT_ID,
  MAILBOX,
  type MicrosoftFakes,
  startMicrosoftFakes,
  TENANT_ID,
} from "../support/microsoft.ts";
import { type CreatedApp, type DashboardApi, dashboardApi } from "./api.ts";
import { auditAndCapture } from "./audit.ts";
import {
  codeFrom,
  devInbox,
  failureScreenshot,
  gotoWhenIdle,
  launchBrowser,
  type OpenedPage,
  openPage,
  type PosternProcess,
  setCustomEmailProvider,
  signIn,
  startPostern,
  waitForEmail,
} from "./harness.ts";

/** A kind as the endpoint describes it (only what the test reads). */
interface KindForm {
  id: string;
  label: string;
  description: string;
  match: Record<string, string>;
  fields: {
    name: string;
    label: string;
    input: string;
    required: boolean;
    help?: string;
    placeholder?: string;
    secret?: boolean;
    setFlag?: string;
    options?: { value: string; label: string }[];
    when?: { field: string; in: string[] };
    default?: unknown;
  }[];
}

const owner = "kinds-owner@acme.test";
const senderEmail = "login@acme.test";
const smtpUser = "mailer";
const smtpPassword = "correct-horse-battery";

const CERTIFICATE_PEM =
  "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUPostern0Test0Certificate0Only0wCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n";
const PRIVATE_KEY_PEM =
  "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPosternTestKeyOnly\n-----END PRIVATE KEY-----\n";
const THUMBPRINT_SHA1 = "3F2A9C0B7E5D41A6C8B2F0E9D7C6B5A4F3E2D1C0";
const THUMBPRINT_SHA256 = "9C1E6B0F2D4A8E7C5B3A1F0E9D8C7B6A5F4E3D2C1B0A9F8E7D6C5B4A3F2E1D0C";

/**
 * The certificate credential's fields for the Microsoft kind, as the certificate work adds them to the
 * registry: a choice between a secret and a certificate, each with what only it needs.
 */
const credentialFields: KindForm["fields"] = [
  {
    name: "credential",
    label: "Credential",
    input: "choice",
    required: true,
    default: "secret",
    options: [
      { value: "secret", label: "Secret" },
      { value: "certificate", label: "Certificate" },
    ],
    help: "How Postern proves to Entra that it is your app registration.",
  },
  {
    name: "secretExpiresOn",
    label: "Secret expires on",
    input: "date",
    required: false,
    help: "As Entra shows it under Certificates & secrets: Postern warns 30 days before.",
    when: { field: "credential", in: ["secret"] },
  },
  {
    name: "certificate",
    label: "Certificate for the app registration",
    input: "certificate",
    required: false,
    help: "Upload it under Certificates & secrets → Certificates.",
    when: { field: "credential", in: ["certificate"] },
  },
  {
    name: "privateKeyPem",
    label: "Private key",
    input: "pem",
    secret: true,
    required: true,
    setFlag: "privateKeySet",
    when: { field: "credential", in: ["certificate"] },
  },
];

describe("provider form from the registry's metadata", () => {
  let postern: PosternProcess;
  let smtp: SmtpServerFake;
  let ms: MicrosoftFakes;
  let browser: Browser;
  let desktop: OpenedPage;
  let api: DashboardApi;
  let app: CreatedApp;
  let kinds: KindForm[] = [];
  let providerUrl = "";

  beforeAll(async () => {
    smtp = await startSmtpServer({ security: "starttls", users: { [smtpUser]: smtpPassword } });
    ms = await startMicrosoftFakes();
    postern = await startPostern({
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "20",
      POSTERN_LIMIT_DASHBOARD_ADDRESS_PER_MINUTE: "20",
      POSTERN_SMTP_ALLOWLIST: "127.0.0.1/32,::1/128,localhost",
      ...ms.env,
    });
    api = await dashboardApi(postern.url, owner);
    app = await api.createApp("Acme Kinds", ["https://shop.acme.test/callback"]);
    await setCustomEmailProvider(postern, api.workspaceId, true);
    providerUrl = `/w/${api.workspaceId}/apps/${app.id}/email-provider`;
    const answer = await api.request("GET", "/api/email-provider-kinds");
    expect(answer.status).toBe(200);
    kinds = (answer.body as { kinds: KindForm[] }).kinds;
    expect(kinds.length).toBeGreaterThan(0);
    browser = await launchBrowser();
    desktop = await openPage(browser, postern.url);
    await signIn(desktop, postern.url, owner);
  }, 90_000);

  afterEach(async (context) => {
    if (context.task.result?.state === "fail") {
      console.error(`Screenshot: ${await failureScreenshot(desktop.page, context.task.name)}`);
      console.error(`Postern's output so far:\n${postern.output()}`);
    }
    desktop.watch.assertClean();
  });

  afterAll(async () => {
    await browser?.close();
    await postern?.stop();
    await smtp?.close();
    await ms?.close();
  });

  /** A control by its label, which may go on with " (optional)". */
  const byLabel = (page: Page, label: string) =>
    page.getByLabel(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( \\(optional\\))?$`));

  /** The label texts of the form's fields, in order (without "(optional)"). */
  const fieldLabels = (page: Page) =>
    page
      .locator(".provider-form .field-label")
      .evaluateAll((nodes) => nodes.map((n) => n.firstChild?.textContent?.trim() ?? ""));

  /** The next PUT of the provider form, with its body. */
  const nextSave = (page: Page) =>
    page.waitForRequest((r) => r.method() === "PUT" && r.url().endsWith("/email-provider"));
  const bodyOf = (request: Request) => request.postDataJSON() as Record<string, unknown>;

  it("renders every kind in the registry from its metadata: tab, description, fields and help", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, providerUrl);
    await page.getByRole("radio", { name: /Custom SMTP server/ }).check();
    for (const kind of kinds) {
      await page.getByRole("tab", { name: kind.label, exact: true }).click();
      await page.getByText(kind.description, { exact: true }).waitFor();
      const shown = kind.fields.filter((f) => !f.when && f.input !== "certificate" && f.input !== "checkbox");
      expect(await fieldLabels(page), kind.id).toEqual([
        "Sender email",
        "Sender name",
        ...shown.map((f) => f.label),
        "Test email to",
      ]);
      for (const f of shown) {
        const control = byLabel(page, f.label);
        if (f.placeholder) expect(await control.getAttribute("placeholder"), f.name).toBe(f.placeholder);
        if (f.help) await page.locator(".provider-form .field-hint", { hasText: f.help }).first().waitFor();
        if (f.input === "password") expect(await control.getAttribute("type"), f.name).toBe("password");
        if (f.input === "select") {
          const options = await control.locator("option").evaluateAll((os) => os.map((o) => o.textContent));
          expect(options, f.name).toEqual(f.options?.map((o) => o.label));
        }
      }
      await auditAndCapture(page, `provider-form-kind-${kind.id}`);
    }
  });

  it("keeps a secret left empty, and asks for it again when a destination field changes", {
    timeout: 60_000,
  }, async () => {
    const { page, watch } = desktop;
    const basic = kinds.find((k) => k.fields.some((f) => f.name === "password"));
    expect(basic).toBeDefined();
    const label = (name: string) => basic!.fields.find((f) => f.name === name)!.label;
    await page.getByRole("tab", { name: basic!.label, exact: true }).click();
    await page.getByLabel("Sender email", { exact: true }).fill(senderEmail);
    await page.getByLabel(label("host"), { exact: true }).fill("localhost");
    await page.getByLabel(label("port"), { exact: true }).fill(String(smtp.port));
    await page.getByLabel(label("username"), { exact: true }).fill(smtpUser);
    await page.getByLabel(label("password"), { exact: true }).fill(smtpPassword);
    const first = nextSave(page);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    // The body is the kind's `match`, the common fields and the kind's fields, the port a number.
    expect(bodyOf(await first)).toEqual({
      ...basic!.match,
      senderEmail,
      fallbackToDefault: false,
      host: "localhost",
      security: "starttls",
      port: smtp.port,
      username: smtpUser,
      password: smtpPassword,
    });
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();

    // Another field changed, the password left alone: none is sent, and the stored one stays.
    await page.getByLabel(/^Sender name/).fill("Acme sign-in");
    const second = nextSave(page);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    expect(bodyOf(await second)).not.toHaveProperty("password");
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Replace the saved password" }).waitFor();

    // A destination field changed: the form asks for the password again, and so does the server.
    await page.getByLabel(label("port"), { exact: true }).fill("2525");
    await page
      .getByText(`You changed the ${label("port").toLowerCase()}, so enter the password again`)
      .waitFor();
    expect(await page.getByLabel(label("password"), { exact: true }).inputValue()).toBe("");
    watch.expect({ method: "PUT", path: /\/email-provider$/, status: 400 });
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const passwordError = page
      .locator(".field", { has: page.getByLabel(label("password"), { exact: true }) })
      .locator(".field-error");
    await expect.poll(() => passwordError.textContent()).toMatch(/destination changed/);
    await expect
      .poll(() =>
        page.getByLabel(label("password"), { exact: true }).evaluate((el) => el === document.activeElement),
      )
      .toBe(true);
    await auditAndCapture(page, "provider-form-secret-again");

    // Back to the saved port: the stored password is kept again.
    await page.getByLabel(label("port"), { exact: true }).fill(String(smtp.port));
    await page.getByRole("button", { name: "Replace the saved password" }).waitFor();
  });

  it("shows and hides fields by `when`, reads a PEM file, and shows the saved certificate and warnings", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    const saved = await api.request("PUT", `/api/apps/${app.id}/email-provider`, {
      type: "smtp_oauth",
      provider: "microsoft",
      senderEmail: MAILBOX,
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: "a-stored-secret",
    });
    expect(saved.status).toBe(200);
    const microsoft = kinds.find((k) => k.fields.some((f) => f.name === "clientSecret"));
    expect(microsoft).toBeDefined();

    // The registry with the certificate credential's fields, the secret shown only for `secret`.
    await page.route("**/api/email-provider-kinds", async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { kinds: KindForm[] };
      for (const kind of body.kinds.filter((k) => k.id === microsoft!.id)) {
        kind.fields = kind.fields.flatMap((f) =>
          f.name === "clientSecret"
            ? [
                credentialFields[0]!,
                { ...f, when: { field: "credential", in: ["secret"] } },
                ...credentialFields.slice(1),
              ]
            : [f],
        );
      }
      await route.fulfill({ response, json: body });
    });
    // The saved provider as the certificate work returns it: its certificate, and warnings.
    const state = { ...saved.body } as { provider: Record<string, unknown> };
    state.provider = {
      ...state.provider,
      credential: "certificate",
      privateKeySet: true,
      certificate: {
        certificatePem: CERTIFICATE_PEM,
        thumbprintSha1: THUMBPRINT_SHA1,
        thumbprintSha256: THUMBPRINT_SHA256,
        notAfter: new Date(Date.now() + 20 * 86_400_000).toISOString(),
        daysLeft: 20,
      },
      warnings: [
        {
          code: "certificate_expiring",
          field: "certificate",
          message: "This certificate expires in 20 days.",
        },
        { code: "graph_consent", message: "Mail.Send is granted tenant-wide: the app can send as anyone." },
      ],
    };
    const bodies: Record<string, unknown>[] = [];
    await page.route(`**/api/apps/${app.id}/email-provider`, async (route: Route) => {
      const method = route.request().method();
      if (method === "GET") return route.fulfill({ json: state });
      if (method === "PUT") {
        bodies.push(route.request().postDataJSON() as Record<string, unknown>);
        return route.fulfill({ json: state });
      }
      return route.continue();
    });
    try {
      await gotoWhenIdle(page, providerUrl);
      await page.getByRole("tab", { name: microsoft!.label, exact: true, selected: true }).waitFor();
      expect(await page.getByRole("radio", { name: /^Certificate/ }).isChecked()).toBe(true);
      const panel = page.getByRole("region", { name: "Certificate for the app registration" });
      await panel.getByText(THUMBPRINT_SHA1).waitFor();
      await panel.getByText(THUMBPRINT_SHA256).waitFor();
      await panel.getByText("20 days left").waitFor();
      expect(await page.getByLabel("Client secret", { exact: true }).count()).toBe(0);
      expect(await byLabel(page, "Secret expires on").count()).toBe(0);
      // The warning about the certificate follows it; the other sits above the form.
      await page.locator(".certificate-panel + .notice", { hasText: "expires in 20 days" }).waitFor();
      await page
        .locator(".provider-form > .notice", { hasText: "Mail.Send is granted tenant-wide" })
        .waitFor();

      const [download] = await Promise.all([
        page.waitForEvent("download"),
        panel.getByRole("button", { name: "Download certificate" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`postern-${THUMBPRINT_SHA1.toLowerCase()}.cer`);
      expect(await readFile(await download.path(), "utf8")).toBe(CERTIFICATE_PEM);
      await auditAndCapture(page, "provider-form-certificate");

      // A new private key, read from a file: sent with the certificate credential, no client secret.
      await page.getByRole("button", { name: "Replace the saved private key" }).click();
      await page.getByLabel("Read the private key from a file").setInputFiles({
        name: "postern.key",
        mimeType: "application/x-pem-file",
        buffer: Buffer.from(PRIVATE_KEY_PEM),
      });
      await expect
        .poll(() => page.getByLabel("Private key", { exact: true }).inputValue())
        .toBe(PRIVATE_KEY_PEM);
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
      expect(bodies.at(-1)).toMatchObject({
        ...microsoft!.match,
        credential: "certificate",
        privateKeyPem: PRIVATE_KEY_PEM,
      });
      expect(bodies.at(-1)).not.toHaveProperty("clientSecret");
      expect(bodies.at(-1)).not.toHaveProperty("secretExpiresOn");

      // The secret instead: its fields appear, the certificate's go (and are not sent).
      await page.getByRole("radio", { name: /^Secret/ }).check();
      await page.getByRole("button", { name: "Replace the saved client secret" }).waitFor();
      expect(await page.locator(".certificate-panel").count()).toBe(0);
      expect(await page.getByLabel("Private key", { exact: true }).count()).toBe(0);
      await byLabel(page, "Secret expires on").fill("2027-06-30");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();
      expect(bodies.at(-1)).toMatchObject({ credential: "secret", secretExpiresOn: "2027-06-30" });
      // Left empty with nothing changed where it goes: the stored secret is kept.
      expect(bodies.at(-1)).not.toHaveProperty("clientSecret");
      expect(bodies.at(-1)).not.toHaveProperty("privateKeyPem");
    } finally {
      await page.unrouteAll({ behavior: "ignoreErrors" });
    }
  });

  it("keeps unsaved edits but never the secret across a session expiry, and asks for the secret again", {
    timeout: 90_000,
  }, async () => {
    const { page, context, watch } = desktop;
    const microsoft = kinds.find((k) => k.fields.some((f) => f.name === "clientSecret"))!;
    const label = (name: string) => microsoft.fields.find((f) => f.name === name)!.label;
    const typedSecret = "typed-but-never-stored";
    const otherClient = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    await gotoWhenIdle(page, providerUrl);
    await page.getByRole("tab", { name: microsoft.label, exact: true, selected: true }).waitFor();
    await page.getByLabel(/^Sender name/).fill("Contoso sign-in");
    await byLabel(page, label("clientId")).fill(otherClient);
    await byLabel(page, label("clientSecret")).fill(typedSecret);

    await context.clearCookies();
    watch.expect(
      { method: "PUT", path: /\/email-provider$/, status: 401 },
      { method: "GET", path: /^\/api\//, status: 401 },
    );
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Your session expired. Sign in again to pick up where you left off.").waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }));
    expect(stored).toContain(otherClient);
    expect(stored).not.toContain(typedSecret);

    await page.getByLabel("Email").fill(owner);
    const seen = await devInbox(postern.url);
    await page.getByRole("button", { name: "Email me a code" }).click();
    const mail = await waitForEmail(postern.url, owner, { seen });
    await page.getByLabel("Sign-in code").fill(codeFrom(mail.subject));
    await page.getByRole("button", { name: "Sign in" }).click();

    await page.getByText("Your unsaved changes are back").waitFor();
    expect(await page.getByLabel(/^Sender name/).inputValue()).toBe("Contoso sign-in");
    expect(await byLabel(page, label("clientId")).inputValue()).toBe(otherClient);
    // The secret was not kept, and the changed client ID voids the stored one: enter it again.
    expect(await byLabel(page, label("clientSecret")).inputValue()).toBe("");
    await page
      .getByText(/You changed the application \(client\) ID, so enter the client secret again/)
      .waitFor();
    await auditAndCapture(page, "provider-form-draft-restored");
  });
});
