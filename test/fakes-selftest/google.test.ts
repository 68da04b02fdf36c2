// The Google fakes answer as Google does, checked with Google's own client (google-auth-library's JWT
// client, pointed at the fake through its transporter) and nodemailer's XOAUTH2.

import { gaxios, JWT } from "google-auth-library";
import { importPKCS8, SignJWT } from "jose";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GMAIL_SCOPE } from "../fakes/gmail-smtp.ts";
import { GOOGLE_TOKEN_AUDIENCE } from "../fakes/google-token.ts";
import type { ServiceAccountKeyFile } from "../fakes/google-workspace.ts";
import { DOMAIN, type GoogleFakes, MAILBOX, startGoogleFakes } from "../support/google.ts";
import { SmtpDialog } from "./smtp-dialog.ts";

const xoauth2 = (user: string, token: string) =>
  Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString("base64");

describe("Google token endpoint and Gmail SMTP fakes", () => {
  let g: GoogleFakes;

  /** google-auth-library posts to a constant URL: its transporter sends the grant to the fake instead. */
  const transporter = () => {
    const t = new gaxios.Gaxios({ retry: false });
    t.interceptors.request.add({
      resolved: async (options) => {
        if (options.url.href === GOOGLE_TOKEN_AUDIENCE) options.url = new URL(g.google.tokenUrl);
        return options;
      },
    });
    return t;
  };
  const jwt = (key: ServiceAccountKeyFile, subject = MAILBOX, scopes = [GMAIL_SCOPE]) =>
    new JWT({ email: key.client_email, key: key.private_key, scopes, subject, transporter: transporter() });
  /** Google's error body and status for a refused grant. */
  const refusal = async (client: JWT) => {
    const err = (await client.authorize().catch((e: unknown) => e)) as {
      status?: number;
      response?: { data?: { error?: string; error_description?: string } };
    };
    return { status: err.status, ...err.response?.data };
  };

  beforeAll(async () => {
    g = await startGoogleFakes({ limits: { messagesPerDay: 3 } });
  });
  afterAll(async () => {
    await g?.close();
  });
  beforeEach(() => {
    g.google.setFailure(null);
    g.google.clockOffsetSeconds = 0;
  });

  it("issues a token for the JWT client's RS256 grant, with the claims google-auth-library signs", async () => {
    const credentials = await jwt(g.keyFile).authorize();
    expect(credentials.access_token).toMatch(/^ya29\./);
    expect(credentials.expiry_date! - Date.now()).toBeGreaterThan(3500_000);
    const grant = g.google.grants.at(-1)!;
    expect(grant.header.alg).toBe("RS256");
    expect(grant.claims).toMatchObject({
      iss: g.keyFile.client_email,
      sub: MAILBOX,
      aud: GOOGLE_TOKEN_AUDIENCE,
      scope: GMAIL_SCOPE,
    });
    expect(Number(grant.claims.exp) - Number(grant.claims.iat)).toBe(3600);
    expect(g.google.lookupToken(credentials.access_token!)).toMatchObject({
      ok: true,
      token: { user: MAILBOX, clientId: g.account.clientId },
    });
  });

  it("answers Google's errors for delegation, users, keys, accounts and clocks", async () => {
    const other = g.google.createServiceAccount({ name: "other", projectId: "acme-login-123" });
    expect(await refusal(jwt(other.keyFile))).toEqual({
      status: 401,
      error: "unauthorized_client",
      error_description:
        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
    });
    g.google.delegate(DOMAIN, other.account.clientId, ["https://www.googleapis.com/auth/gmail.send"]);
    expect(await refusal(jwt(other.keyFile))).toMatchObject({
      status: 401,
      error_description: "Unauthorized client or scope in request.",
    });
    expect(await refusal(jwt(g.keyFile, `nobody@${DOMAIN}`))).toEqual({
      status: 400,
      error: "invalid_grant",
      error_description: "Invalid email or User ID",
    });
    g.google.addUser(`gone@${DOMAIN}`, { suspended: true });
    expect((await refusal(jwt(g.keyFile, `gone@${DOMAIN}`))).error_description).toBe(
      "Invalid email or User ID",
    );
    // A key of another account presented as this one's, then a deleted key.
    expect(await refusal(jwt({ ...g.keyFile, private_key: other.keyFile.private_key }))).toMatchObject({
      error: "invalid_grant",
      error_description: "Invalid JWT Signature.",
    });
    const spare = g.google.createKey(g.keyFile.client_email);
    g.google.deleteKey(g.keyFile.client_email, spare.private_key_id);
    expect((await refusal(jwt(spare))).error_description).toBe("Invalid JWT Signature.");
    g.google.setDisabled(other.account.clientEmail, true);
    expect(await refusal(jwt(other.keyFile))).toMatchObject({ status: 401, error: "disabled_client" });
    g.google.deleteServiceAccount(other.account.clientEmail);
    expect((await refusal(jwt(other.keyFile))).error_description).toBe("Invalid grant: account not found");
    g.google.clockOffsetSeconds = -3 * 3600;
    expect((await refusal(jwt(g.keyFile))).error_description).toMatch(
      /^Invalid JWT: Token must be a short-lived token/,
    );
    g.google.clockOffsetSeconds = 0;
    g.google.setFailure({ status: 503 });
    expect(await refusal(jwt(g.keyFile))).toMatchObject({ status: 503 });
  });

  it("delivers through Gmail with nodemailer's XOAUTH2 after STARTTLS", async () => {
    const { access_token } = await jwt(g.keyFile).authorize();
    const transport = nodemailer.createTransport({
      host: "localhost",
      port: g.gmail.port,
      requireTLS: true,
      auth: { type: "OAuth2", user: MAILBOX, accessToken: access_token! },
    });
    const info = await transport.sendMail({
      from: MAILBOX,
      to: "alice@example.com",
      subject: "Hi",
      text: "Hello",
    });
    expect(info.response).toMatch(/^250 2\.0\.0 OK {2}\d+ \S+ - gsmtp$/);
    expect(g.gmail.messages.at(-1)).toMatchObject({ authUser: MAILBOX, to: ["alice@example.com"] });
    expect(g.gmail.authResults.at(-1)).toMatchObject({
      success: true,
      blob: xoauth2(MAILBOX, access_token!),
    });
    transport.close();
  });

  it("refuses a bad token with Gmail's error continuation, then 535-5.7.8 on two lines", async () => {
    const dialog = await SmtpDialog.open(g.gmail.port);
    expect(await dialog.reply()).toMatch(/^220 smtp\.gmail\.com ESMTP \S+ - gsmtp$/);
    expect(await dialog.command("EHLO client.example")).toContain("250-STARTTLS");
    expect(await dialog.command(`AUTH XOAUTH2 ${xoauth2(MAILBOX, "ya29.bogus")}`)).toMatch(
      /^530 5\.7\.0 Must issue a STARTTLS command first\./,
    );
    expect(await dialog.command("STARTTLS")).toBe("220 2.0.0 Ready to start TLS");
    await dialog.startTls();
    expect(await dialog.command("EHLO client.example")).toContain("250-AUTH LOGIN PLAIN XOAUTH2");
    const continuation = await dialog.command(`AUTH XOAUTH2 ${xoauth2(MAILBOX, "ya29.bogus")}`);
    expect(continuation).toMatch(/^334 /);
    expect(JSON.parse(Buffer.from(continuation.slice(4), "base64").toString())).toEqual({
      status: "401",
      schemes: "Bearer",
      scope: GMAIL_SCOPE,
    });
    expect(await dialog.command("")).toMatch(
      /^535-5\.7\.8 Username and Password not accepted\. For more information, go to\r\n535 5\.7\.8 {2}https:\/\/support\.google\.com\/mail\/\?p=BadCredentials \S+ - gsmtp$/,
    );
    expect(await dialog.command("MAIL FROM:<x@example.com>")).toMatch(/^530-5\.7\.0 Authentication Required/);
    dialog.close();
  });

  it("nodemailer reads the 535 after answering the continuation, also for a token of another user", async () => {
    g.google.addUser(`other@${DOMAIN}`);
    const { access_token } = await jwt(g.keyFile, `other@${DOMAIN}`).authorize();
    const transport = nodemailer.createTransport({
      host: "localhost",
      port: g.gmail.port,
      requireTLS: true,
      auth: { type: "OAuth2", user: MAILBOX },
    });
    transport.set("oauth2_provision_cb", (_user: string, _renew: boolean, cb: (e: null, t: string) => void) =>
      cb(null, access_token!),
    );
    const err = (await transport
      .sendMail({ from: MAILBOX, to: "bob@example.com", text: "x" })
      .catch((e: unknown) => e)) as { code?: string; responseCode?: number; response?: string };
    expect(err).toMatchObject({ code: "EAUTH", responseCode: 535 });
    expect(err.response).toMatch(/^535-5\.7\.8 Username and Password not accepted/);
    expect(g.gmail.authResults.at(-1)!.reason).toMatch(/token is for other@/);
    transport.close();
  });

  it("answers 550 5.4.5 over the daily limit and 454 4.7.0 for too many logins", async () => {
    const { access_token } = await jwt(g.keyFile).authorize();
    g.gmail.setSentToday(MAILBOX, g.gmail.limits.messagesPerDay);
    const transport = nodemailer.createTransport({
      host: "localhost",
      port: g.gmail.port,
      requireTLS: true,
      auth: { type: "OAuth2", user: MAILBOX, accessToken: access_token! },
    });
    const err = (await transport
      .sendMail({ from: MAILBOX, to: "carol@example.com", text: "x" })
      .catch((e: unknown) => e)) as { responseCode?: number; response?: string };
    expect(err.responseCode).toBe(550);
    expect(err.response).toMatch(/^550-5\.4\.5 Daily user sending limit exceeded\./);
    expect(err.response).toMatch(
      /550 5\.4\.5 {2}https:\/\/support\.google\.com\/a\/answer\/166852 \S+ - gsmtp$/,
    );
    transport.close();

    g.gmail.limits.loginsPerMinute = 0;
    const dialog = await SmtpDialog.open(g.gmail.port);
    await dialog.reply();
    await dialog.command("EHLO client.example");
    await dialog.command("STARTTLS");
    await dialog.startTls();
    await dialog.command("EHLO client.example");
    expect(await dialog.command(`AUTH XOAUTH2 ${xoauth2(MAILBOX, access_token!)}`)).toMatch(
      /^454-4\.7\.0 Too many login attempts, please try again later\./,
    );
    dialog.close();
    g.gmail.limits.loginsPerMinute = 1000;
  });

  it("checks the audience and the scope of an assertion signed by hand", async () => {
    const key = await importPKCS8(g.keyFile.private_key, "RS256");
    const post = async (claims: Record<string, unknown>) => {
      const assertion = await new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: g.keyFile.private_key_id })
        .setIssuer(g.keyFile.client_email)
        .setSubject(MAILBOX)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(key);
      const res = await fetch(g.google.tokenUrl, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
      });
      return { status: res.status, ...((await res.json()) as Record<string, unknown>) };
    };
    expect(await post({ aud: "https://example.com/token", scope: GMAIL_SCOPE })).toMatchObject({
      status: 400,
      error: "invalid_grant",
    });
    expect(await post({ aud: GOOGLE_TOKEN_AUDIENCE, scope: "" })).toMatchObject({
      status: 400,
      error: "invalid_scope",
    });
    expect(await post({ aud: GOOGLE_TOKEN_AUDIENCE, scope: GMAIL_SCOPE })).toMatchObject({
      status: 200,
      token_type: "Bearer",
      expires_in: 3599,
    });
  });
});
