import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textOn } from "../../src/http/pages/layout.ts";
import { type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { relyingParty, TestBrowser } from "./support.ts";

describe("the hosted login page", () => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string };

  beforeAll(async () => {
    t = await startTestPostern("pglite");
    session = await t.signIn("dev@example.com");
    app = await t.createApp(session, {
      name: "Lemonade <Stand>",
      redirectUrls: ["https://lemon.example/cb"],
    });
  });
  afterAll(() => t?.close());

  const hostedPage = async () => {
    const config = await relyingParty(t.postern, `http://postern.localhost/oidc/${app.id}`, app.id);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: "https://lemon.example/cb",
      scope: "openid email",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
      login_hint: "kim@example.com",
    });
    return new TestBrowser(t.postern).get(url.toString());
  };

  it("shows the app's name, logo and accent, escaped, with legible button text on any accent", async () => {
    const saved = await t.request("PATCH", `/api/apps/${app.id}`, {
      session,
      body: { branding: { logoUrl: "https://cdn.lemon.example/logo.svg", accentColor: "#FDE047" } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body.branding).toEqual({
      logoUrl: "https://cdn.lemon.example/logo.svg",
      accentColor: "#fde047",
    });
    const page = await hostedPage();
    expect(page.text).toContain("Sign in to Lemonade &lt;Stand&gt;");
    expect(page.text).toContain('<img src="https://cdn.lemon.example/logo.svg" alt=""');
    expect(page.text).toContain("--accent:#fde047;--on-accent:#111827");
    expect(page.text).toContain('font-family:ui-sans-serif,system-ui,-apple-system,"Segoe UI"');
    // The hint the app sent fills the field; the person only confirms it.
    expect(page.text).toContain('value="kim@example.com"');
    expect(textOn("#1d4ed8")).toBe("#ffffff");
    expect(textOn("#fde047")).toBe("#111827");
  });

  it("refuses a logo that is not https and a colour that is not #rrggbb", async () => {
    for (const branding of [
      { logoUrl: "http://cdn.lemon.example/logo.svg" },
      { logoUrl: "javascript:alert(1)" },
      { accentColor: "red;}</style><script>" },
      { accentColor: "#fff" },
    ]) {
      const res = await t.request("PATCH", `/api/apps/${app.id}`, { session, body: { branding } });
      expect(res.status, JSON.stringify(branding)).toBe(400);
    }
  });

  it("runs no script at all: a strict policy, a language, one heading, and forms that post", async () => {
    const page = await hostedPage();
    expect(page.text).not.toContain("<script");
    expect(page.text).toMatch(/<html lang="en" dir="ltr">/);
    expect(page.text.match(/<h1>/g)).toHaveLength(1);
    expect(page.text).toMatch(
      /<form method="post" action="\/oidc\/[^"]+\/interaction\/[^"]+\/email" novalidate>/,
    );
    expect(page.text).toContain('<label for="email">Email address</label>');
    const raw = await t.request("GET", new URL(page.url).pathname);
    // Without the interaction cookie this is another browser: the page says the sign-in expired.
    expect(raw.status).toBe(400);
    expect(raw.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(raw.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  });
});
