import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { readOperatorSettings } from "../../src/email-provider/kinds/index.ts";

describe("configuration from the environment", () => {
  it("runs on embedded defaults with nothing set", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      role: "all",
      databaseUrl: undefined,
      signup: "open",
      seedDemo: true,
    });
    expect(config.publicUrl).toBe("http://127.0.0.1:8080");
    expect(readOperatorSettings(config.operatorEnv).microsoft).toEqual({
      authorityHost: "https://login.microsoftonline.com",
      smtpHost: "smtp.office365.com",
      smtpPort: 587,
      maxConnections: 2,
      messagesPerMinute: 30,
      messagesPerDay: 10_000,
      graphUrl: "https://graph.microsoft.com",
      graphMaxConcurrent: 4,
    });
  });

  it("names every bad variable and what it must be", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "http",
        DATABASE_URL: "mysql://x",
        POSTERN_ROLE: "boss",
        POSTERN_OPERATOR_TOKEN: "short",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const name of ["PORT", "DATABASE_URL", "POSTERN_ROLE", "POSTERN_OPERATOR_TOKEN"]) {
      expect(problems).toContain(`${name}:`);
    }
  });

  it("names every bad provider setting (each kind's POSTERN_<KIND>_*)", () => {
    const operatorEnv = loadConfig({
      POSTERN_MICROSOFT_SMTP: "smtp.office365.com",
      POSTERN_MICROSOFT_GRAPH_URL: "http://graph.example",
      POSTERN_MICROSOFT_MAX_CONNECTIONS: "0",
    }).operatorEnv;
    let error: unknown;
    try {
      readOperatorSettings(operatorEnv);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const name of [
      "POSTERN_MICROSOFT_SMTP",
      "POSTERN_MICROSOFT_GRAPH_URL",
      "POSTERN_MICROSOFT_MAX_CONNECTIONS",
    ])
      expect(problems).toContain(`${name}:`);
    expect(problems).toContain("host:port");
    expect(problems).toContain("https://");
  });

  it("refuses the api and worker roles without a shared PostgreSQL database", () => {
    expect(() => loadConfig({ POSTERN_ROLE: "worker" })).toThrow(/POSTERN_ROLE: .*DATABASE_URL/);
  });

  it("does not seed a demo app on PostgreSQL unless asked", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://h/db" }).seedDemo).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgres://h/db", POSTERN_SEED_DEMO: "true" }).seedDemo).toBe(true);
  });
});
