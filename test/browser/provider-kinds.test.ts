// The provider form is the registry's: every kind's tab, description, fields, labels, help and order
// come from GET /api/email-provider-kinds, and the form's rules follow the metadata (a secret left
// empty is kept; a changed destination field asks for it again, as the server enforces; `when` shows
// and hides fields and leaves hidden ones out of the body; a PEM field reads a file; a certificate
// field shows the one Postern created, to download; the view's warnings sit beside their field;
// unsaved edits, never secrets, survive a session expiry). Against the real registry and server. Every state is audited with axe at 375 and 1440 px.
import { readFile } from "node:fs/promises";
import type { Page, Request } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST } from "../email-provider/support.ts";

import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import {
  CLIENT_ID,
  MAILBOX,
  type MicrosoftFakes,
  startMicrosoftFakes,
  TENANT_ID,
} from "../support/microsoft.ts";
import type { CreatedApp, DashboardApi } from "./api.ts";
import { auditAndCapture } from "./audit.ts";
import { type Dashboard, ROOMY_SIGN_IN, startDashboard } from "./dashboard-fixture.ts";
import {
  codeFrom,
  devInbox,
  gotoWhenIdle,
  type OpenedPage,
  type PosternProcess,
  waitForEmail,
} from "./harness.ts";

/** A label as a literal in a pattern (labels have parentheses: "SMTP (XOAUTH2)"). */
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

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

/** Read from a file into a PEM field (never saved: the test keeps the stored key). */
const PRIVATE_KEY_PEM =
  "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPosternTestKeyOnly\n-----END PRIVATE KEY-----\n";

const DAY = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The fields a kind's form shows before anything is chosen: each `when` read from the defaults. */
function shownByDefault(kind: KindForm): KindForm["fields"] {
  const initial = (f: KindForm["fields"][number]) => String(f.default ?? f.options?.[0]?.value ?? "");
  const value = (name: string) => {
    const field = kind.fields.find((f) => f.name === name);
    return field ? initial(field) : "";
  };
  return kind.fields.filter((f) => !f.when || f.when.in.includes(value(f.when.field)));
}

describe("provider form from the registry's metadata", () => {
  let dashboard: Dashboard;
  let postern: PosternProcess;
  let smtp: SmtpServerFake;
  let ms: MicrosoftFakes;
  let desktop: OpenedPage;
  let api: DashboardApi;
  let app: CreatedApp;
  let kinds: KindForm[] = [];
  let providerUrl = "";

  beforeAll(async () => {
    smtp = await startSmtpServer({ security: "starttls", users: { [smtpUser]: smtpPassword } });
    ms = await startMicrosoftFakes();
    dashboard = await startDashboard({
      env: {
        ...ROOMY_SIGN_IN,
        ...ALLOWLIST,
        ...ms.env,
      },
      owner,
      app: { name: "Acme Kinds", redirectUrls: ["https://shop.acme.test/callback"] },
    });
    ({ postern, desktop, api, app } = dashboard);
    providerUrl = `/w/${api.workspaceId}/apps/${app.id}/email-provider`;
    const answer = await api.request("GET", "/api/email-provider-kinds");
    expect(answer.status).toBe(200);
    kinds = (answer.body as { kinds: KindForm[] }).kinds;
    expect(kinds.length).toBeGreaterThan(0);
  }, 90_000);

  afterEach((context) => dashboard.afterTest(context));

  afterAll(async () => {
    await dashboard?.close();
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

  /** The next PUT of the provider form, with its body: the first provider's, or a saved one's by id. */
  const nextSave = (page: Page) =>
    page.waitForRequest(
      (r) => r.method() === "PUT" && /\/email-provider(s\/(?!order$)[^/]+)?$/.test(new URL(r.url()).pathname),
    );
  const bodyOf = (request: Request) => request.postDataJSON() as Record<string, unknown>;

  it("renders every kind in the registry from its metadata: tab, description, fields and help", {
    // Every kind of the registry, each audited and captured.
    timeout: 300_000,
  }, async () => {
    const { page } = desktop;
    await gotoWhenIdle(page, providerUrl);
    await page.getByRole("radio", { name: /Custom email provider/ }).check();
    for (const kind of kinds) {
      await page.getByRole("tab", { name: kind.label, exact: true }).click();
      await page.getByText(kind.description, { exact: true }).waitFor();
      const shown = shownByDefault(kind).filter((f) => f.input !== "certificate");
      // Text, number, select, password, date and pem fields have a label; a choice has a legend, a
      // checkbox its own label: both come in the form's order too.
      const labelled = shown.filter((f) => f.input !== "checkbox");
      expect(await fieldLabels(page), kind.id).toEqual([
        "Sender email",
        "Sender name",
        ...labelled.map((f) => f.label),
        "Test email to",
      ]);
      for (const f of shown) {
        if (f.help) await page.locator(".provider-form .field-hint", { hasText: f.help }).first().waitFor();
        if (f.input === "choice") {
          for (const option of f.options ?? []) {
            await page.getByRole("radio", { name: new RegExp(`^${escapeRegExp(option.label)}`) }).waitFor();
          }
          continue;
        }
        if (f.input === "checkbox") {
          await page.getByRole("checkbox", { name: new RegExp(`^${escapeRegExp(f.label)}`) }).waitFor();
          continue;
        }
        const control = byLabel(page, f.label);
        if (f.placeholder) expect(await control.getAttribute("placeholder"), f.name).toBe(f.placeholder);
        if (f.input === "password") expect(await control.getAttribute("type"), f.name).toBe("password");
        if (f.input === "date") expect(await control.getAttribute("type"), f.name).toBe("date");
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
    watch.expect({ method: "PUT", path: /\/email-providers\/[^/]+$/, status: 400 });
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

  it("shows and hides fields by `when`, creates a certificate to download, and shows the view's warnings", {
    timeout: 60_000,
  }, async () => {
    const { page } = desktop;
    const microsoft = kinds.find((k) => k.fields.some((f) => f.input === "certificate"));
    expect(microsoft, "a kind with a certificate field").toBeDefined();
    const label = (name: string) => microsoft!.fields.find((f) => f.name === name)!.label;
    const option = (field: string, value: string) =>
      microsoft!.fields.find((f) => f.name === field)!.options!.find((o) => o.value === value)!.label;
    // A client secret that expires in ten days: the view warns about it, beside its expiry date.
    const expiresOn = isoDay(Date.now() + 10 * DAY);
    const saved = await api.request("PUT", `/api/apps/${app.id}/email-provider`, {
      ...microsoft!.match,
      senderEmail: MAILBOX,
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      credential: "secret",
      clientSecret: "a-stored-secret",
      clientSecretExpiresOn: expiresOn,
    });
    expect(saved.status).toBe(200);
    await gotoWhenIdle(page, providerUrl);
    await page.getByRole("tab", { name: microsoft!.label, exact: true, selected: true }).waitFor();
    const secretRadio = page.getByRole("radio", { name: new RegExp(`^${option("credential", "secret")}`) });
    const certificateRadio = page.getByRole("radio", {
      name: new RegExp(`^${option("credential", "certificate")}`),
    });
    expect(await secretRadio.isChecked()).toBe(true);
    expect(await byLabel(page, label("clientSecretExpiresOn")).inputValue()).toBe(expiresOn);
    await page
      .locator(".field:has(input[type=date]) + .notice", { hasText: `expires on ${expiresOn}` })
      .waitFor();
    await auditAndCapture(page, "provider-form-secret-expiring");

    // The certificate instead: the secret's fields go, the certificate's come.
    await certificateRadio.check();
    expect(await byLabel(page, label("clientSecretExpiresOn")).count()).toBe(0);
    // The saved secret's warning stays in sight, above the form, while its field is hidden.
    await page.locator(".provider-form > .notice", { hasText: `expires on ${expiresOn}` }).waitFor();
    expect(await page.getByRole("button", { name: "Replace the saved client secret" }).count()).toBe(0);
    await byLabel(page, label("privateKeyPem")).waitFor();
    // None is stored yet: nothing to download.
    expect(await page.locator(".certificate-panel").count()).toBe(0);
    await page.getByRole("checkbox", { name: new RegExp(`^${label("generateCertificate")}`) }).check();
    const save = nextSave(page);
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const body = bodyOf(await save);
    expect(body).toMatchObject({ ...microsoft!.match, credential: "certificate", generateCertificate: true });
    // Hidden fields are not sent; nor is an empty secret.
    for (const hidden of ["clientSecret", "clientSecretExpiresOn", "privateKeyPem", "certificatePem"]) {
      expect(body, hidden).not.toHaveProperty(hidden);
    }
    await page.locator(".form-status").getByText("Saved", { exact: true }).waitFor();

    // The created certificate, from the view: its thumbprints, its expiry, a download of its PEM.
    const view = (await api.request("GET", `/api/apps/${app.id}/email-provider`)).body.provider as {
      certificatePem: string;
      certificate: { thumbprintSha1: string; thumbprintSha256: string; daysLeft: number };
    };
    const panel = page.getByRole("region", { name: label("certificate") });
    await panel.getByText(view.certificate.thumbprintSha1).waitFor();
    await panel.getByText(view.certificate.thumbprintSha256).waitFor();
    await panel.getByText(`${view.certificate.daysLeft} days left`).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      panel.getByRole("button", { name: "Download certificate" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`postern-${view.certificate.thumbprintSha1.toLowerCase()}.cer`);
    expect(await readFile(await download.path(), "utf8")).toBe(view.certificatePem);
    expect(view.certificatePem).not.toContain("PRIVATE KEY");
    // The key was created sealed: stored, never shown.
    await page.getByRole("button", { name: "Replace the saved private key (PEM)" }).waitFor();
    await auditAndCapture(page, "provider-form-certificate");

    // A PEM field reads the file the user picks.
    await page.getByRole("button", { name: "Replace the saved private key (PEM)" }).click();
    await page.getByLabel(`${label("privateKeyPem")}: read from a file`).setInputFiles({
      name: "postern.key",
      mimeType: "application/x-pem-file",
      buffer: Buffer.from(PRIVATE_KEY_PEM),
    });
    await expect.poll(() => byLabel(page, label("privateKeyPem")).inputValue()).toBe(PRIVATE_KEY_PEM);
    await page.getByRole("button", { name: "Keep the saved one" }).click();

    // Back to the secret: still stored, so kept; the certificate's fields go.
    await secretRadio.check();
    await page.getByRole("button", { name: "Replace the saved client secret" }).waitFor();
    expect(await page.locator(".certificate-panel").count()).toBe(0);
    expect(await byLabel(page, label("privateKeyPem")).count()).toBe(0);
  });

  it("keeps unsaved edits but never the secret across a session expiry, and asks for the secret again", {
    timeout: 90_000,
  }, async () => {
    const { page, context, watch } = desktop;
    const microsoft = kinds.find((k) => k.fields.some((f) => f.name === "privateKeyPem"))!;
    const label = (name: string) => microsoft.fields.find((f) => f.name === name)!.label;
    const typedSecret = "typed-but-never-stored";
    const otherClient = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    // Saved with the certificate credential by the test before.
    await gotoWhenIdle(page, providerUrl);
    await page.getByRole("tab", { name: microsoft.label, exact: true, selected: true }).waitFor();
    await page.getByLabel(/^Sender name/).fill("Contoso sign-in");
    await byLabel(page, label("clientId")).fill(otherClient);
    await byLabel(page, label("privateKeyPem")).fill(typedSecret);
    // The setup guide fills in what is typed (after a pause): let it load before the session ends.
    await expect.poll(() => page.locator(".guide").textContent(), { timeout: 10_000 }).toContain(otherClient);
    await page.waitForLoadState("networkidle");

    await context.clearCookies();
    watch.expect(
      { method: "PUT", path: /\/email-providers\/[^/]+$/, status: 401 },
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
    expect(await byLabel(page, label("privateKeyPem")).inputValue()).toBe("");
    await page
      .getByText(/You changed the application \(client\) ID, so enter the private key \(PEM\) again/)
      .waitFor();
    await auditAndCapture(page, "provider-form-draft-restored");
  });
});
