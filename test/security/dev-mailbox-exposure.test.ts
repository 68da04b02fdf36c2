import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { backends, startTestPostern, type TestPostern } from "../support/harness.ts";
import { freePort, runPostern } from "../support/process.ts";

/**
 * The dev mailbox hands out every login code to whoever can read /api/dev/inbox. It exists only where
 * nobody else can reach it: on loopback, and only for requests addressed to a loopback name, because a
 * web page can point its own DNS name at 127.0.0.1 (DNS rebinding) and read the inbox same-origin.
 */

function configProblems(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join("\n");
    throw err;
  }
  return "";
}

describe("a Postern without a default sender starts only on loopback", () => {
  it.each([
    { HOST: "0.0.0.0" },
    { HOST: "::" },
    { HOST: "10.0.0.5" },
    { PUBLIC_URL: "https://login.example.com" },
    { PUBLIC_URL: "http://127.0.0.1.nip.io:8080" },
    { PUBLIC_URL: "http://localhost.example.com" },
    { HOST: "0.0.0.0", PUBLIC_URL: "http://localhost:8080" },
  ])("refuses %o, naming the variables to set", (env) => {
    const problems = configProblems(env);
    for (const name of ["HOST", "PUBLIC_URL", "POSTERN_DEFAULT_SMTP_URL"]) expect(problems).toContain(name);
  });

  it("refuses it for the api role too, whose emails would go to an unreachable dev mailbox", () => {
    expect(
      configProblems({ POSTERN_ROLE: "api", DATABASE_URL: "postgres://db/postern", HOST: "0.0.0.0" }),
    ).toContain("POSTERN_DEFAULT_SMTP_URL");
  });

  it.each([
    {},
    { HOST: "127.0.0.2" },
    { HOST: "::1" },
    { HOST: "localhost" },
    { PUBLIC_URL: "http://postern.localhost:8080" },
    { PUBLIC_URL: "http://[::1]:8080" },
    { PUBLIC_URL: "http://LOCALHOST." },
  ])("accepts the loopback setting %o", (env) => {
    expect(configProblems(env)).toBe("");
  });

  it("starts on any address once a default sender is set", () => {
    const smtp = { POSTERN_DEFAULT_SMTP_URL: "smtp://relay.example.com:587" };
    expect(configProblems({ ...smtp, HOST: "0.0.0.0" })).toBe("");
    expect(configProblems({ ...smtp, PUBLIC_URL: "https://login.example.com" })).toBe("");
  });

  it("`postern start` on 0.0.0.0 without a default sender exits with the fix, before listening", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "postern-exposure-"));
    try {
      const { code, output } = await runPostern(
        ["start"],
        {
          HOST: "0.0.0.0",
          PORT: String(await freePort()),
          POSTERN_DATA_DIR: dataDir,
          POSTERN_DEFAULT_SMTP_URL: "",
          PUBLIC_URL: "",
        },
        20_000,
      );
      expect(code).toBe(2);
      for (const name of ["HOST", "PUBLIC_URL", "POSTERN_DEFAULT_SMTP_URL"]) expect(output).toContain(name);
      expect(output).not.toContain("Listening");
      expect(output).not.toContain("Dev mailbox");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

/** A real HTTP request to 127.0.0.1 with the Host header a browser would send for `host`. */
function requestAs(
  port: number,
  host: string,
  method: string,
  url: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method,
        path: url,
        setHost: false,
        headers: {
          host,
          ...(payload ? { "content-type": "application/json" } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"]), text }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe.each(backends)("requests to a dev-mailbox Postern from a foreign Host (%s)", (backend) => {
  let t: TestPostern;
  let port: number;
  let code: string;

  beforeAll(async () => {
    t = await startTestPostern(backend, { POSTERN_TRUST_PROXY: "true" });
    await t.postern.http.listen({ port: 0, host: "127.0.0.1" });
    port = (t.postern.http.server.address() as { port: number }).port;
    const started = await requestAs(port, `127.0.0.1:${port}`, "POST", "/api/auth/email", {
      body: { email: "victim@example.com" },
    });
    expect(started.status).toBe(202);
    code = (await t.latestLoginEmail("victim@example.com")).code;
  });
  afterAll(async () => t?.close());

  it.each([
    ["GET", "/api/dev/inbox"],
    ["GET", "/api/session"],
    ["POST", "/api/auth/email"],
    ["GET", "/"],
    ["GET", "/no-such-page"],
  ])("%s %s with Host evil.example (DNS rebinding) is refused with 421", async (method, url) => {
    const before = t.postern.devMailbox!.list().length;
    const res = await requestAs(port, "evil.example", method, url, {
      ...(method === "POST" ? { body: { email: "attacker@example.com" } } : {}),
    });
    expect(res.status).toBe(421);
    expect(res.contentType).toContain("application/problem+json");
    expect(JSON.parse(res.text)).toMatchObject({ status: 421, code: "host_not_allowed" });
    expect(res.text).not.toContain(code);
    expect(res.text).not.toContain("messages");
    expect(t.postern.devMailbox!.list().length).toBe(before);
  });

  it("refuses look-alike Hosts", async () => {
    for (const host of [
      `evil.example:${port}`,
      "127.0.0.1.evil.example",
      "localhost.evil.example",
      "evil.example@127.0.0.1",
      "[::1].evil.example",
    ]) {
      expect((await requestAs(port, host, "GET", "/api/dev/inbox")).status, host).toBe(421);
    }
  });

  it("believes the Host header, not X-Forwarded-Host, even behind a trusted proxy", async () => {
    const res = await requestAs(port, "evil.example", "GET", "/api/dev/inbox", {
      headers: { "x-forwarded-host": "localhost" },
    });
    expect(res.status).toBe(421);
  });

  it("serves loopback names and the PUBLIC_URL host", async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      "127.0.0.1",
      "localhost",
      `localhost:${port}`,
      `[::1]:${port}`,
      "postern.localhost",
      "dashboard.postern.localhost",
    ]) {
      const inbox = await requestAs(port, host, "GET", "/api/dev/inbox");
      expect(inbox.status, host).toBe(200);
      expect(inbox.text).toContain(code);
      expect((await requestAs(port, host, "GET", "/api/session")).status, host).toBe(200);
    }
    // Fastify's inject() sends Host: localhost:80, as every other test relies on.
    expect((await t.request("GET", "/api/session")).status).toBe(200);
  });
});

describe.each(backends)("a Postern with a default sender (%s)", (backend) => {
  let t: TestPostern;
  beforeAll(async () => {
    t = await startTestPostern(backend, {
      POSTERN_DEFAULT_SMTP_URL: "smtp://127.0.0.1:9",
      PUBLIC_URL: "https://login.example.com",
    });
  });
  afterAll(async () => t?.close());

  it("serves its public host and has no dev mailbox", async () => {
    const headers = { host: "login.example.com" };
    const session = await t.request("GET", "/api/session", { headers });
    expect(session.status).toBe(200);
    expect(session.body.devMailbox).toBe(false);
    expect((await t.request("GET", "/api/dev/inbox", { headers })).status).toBe(404);
    expect(t.postern.devMailbox).toBeUndefined();
  });
});

describe.runIf(backends.includes("postgres"))("an api process without a default sender", () => {
  let t: TestPostern;
  beforeAll(async () => {
    t = await startTestPostern("postgres", { POSTERN_ROLE: "api" }, { workers: false });
  });
  afterAll(async () => t?.close());

  it("does not offer a dev mailbox it does not serve (the worker holds it)", async () => {
    const session = await t.request("GET", "/api/session");
    expect(session.body.devMailbox).toBe(false);
    expect((await t.request("GET", "/api/dev/inbox")).status).toBe(404);
  });
});
