// A relying party as a real app would be one: openid-client over HTTP against a running Postern, and
// the app's callback answered inside the browser (Playwright routes), so no app server is needed.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AxeBuilder } from "@axe-core/playwright";
import * as client from "openid-client";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import type { CreatedApp } from "./api.ts";
import { codeFrom, devInbox, screenshot, waitForEmail } from "./harness.ts";

export async function relyingParty(app: CreatedApp, auth: client.ClientAuth = client.None()) {
  return client.discovery(new URL(app.issuer), app.id, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
}

/**
 * The app's own web server, as far as a browser sees it: its callback (and any other page) answers
 * with a small page. A real server on loopback, because a redirect's target cannot be routed in
 * Playwright (only the first URL of a redirect chain reaches a route handler).
 */
export async function startAppServer(
  options: { host?: "localhost" | "127.0.0.1"; pages?: Record<string, string> } = {},
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://app").pathname;
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(
      options.pages?.[path] ??
        '<!doctype html><html lang="en"><head><title>The app</title></head><body><main><h1>The app</h1></main></body></html>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${options.host ?? "localhost"}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface AuthorizationChecks {
  pkceCodeVerifier: string;
  expectedState: string;
  expectedNonce: string;
}

export async function authorizationUrl(
  config: client.Configuration,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<{ url: string; checks: AuthorizationChecks }> {
  const checks = {
    pkceCodeVerifier: client.randomPKCECodeVerifier(),
    expectedState: client.randomState(),
    expectedNonce: client.randomNonce(),
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid email",
    code_challenge: await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier),
    code_challenge_method: "S256",
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    ...extra,
  });
  return { url: url.toString(), checks };
}

/** On the hosted page's email step: asks for a code and returns it once it is in the dev mailbox. */
export async function askForCode(page: Page, baseUrl: string, email: string): Promise<string> {
  await page.getByLabel("Email address").fill(email);
  const seen = await devInbox(baseUrl);
  await page.getByRole("button", { name: "Email me a code" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  return codeFrom((await waitForEmail(baseUrl, email, { seen })).subject);
}

/** The whole sign-in as a person does it, ending at the app's callback URL. */
export async function signInOnHostedPage(
  page: Page,
  baseUrl: string,
  config: client.Configuration,
  app: CreatedApp & { name: string },
  email: string,
  extra: Record<string, string> = {},
) {
  const redirectUri = app.redirectUrls[0]!;
  const { url, checks } = await authorizationUrl(config, redirectUri, extra);
  await page.goto(url);
  await page.getByRole("heading", { name: `Sign in to ${app.name}` }).waitFor();
  const code = await askForCode(page, baseUrl, email);
  await page.getByLabel("6-digit code").fill(code);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL(`${redirectUri}?**`);
  return { callback: new URL(page.url()), checks };
}

const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/** Audits the page with axe-core and screenshots it, at 375 and at 1440 px wide. */
export async function auditAndCapture(page: Page, name: string): Promise<void> {
  for (const width of [375, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
    const violations = results.violations.map(
      (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
    );
    expect(violations, `${name} at ${width} px`).toEqual([]);
    // Nothing wider than the viewport: no sideways scrolling on a phone.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(0);
    await screenshot(page, name);
  }
}
