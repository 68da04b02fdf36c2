import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { serverCert, serverKey } from "../fakes/certs.ts";
import { runPostern, spawnPostern } from "../support/process.ts";

/**
 * `postern features enable|disable` carries the operator token, which unlocks premium features for
 * every workspace. It goes to this machine's own listener, or where --url says, and never over plain
 * HTTP off loopback: PUBLIC_URL is where users reach Postern, which may be a proxy or another machine.
 */

const TOKEN = "cli-operator-token-0123456789";

interface Recorder {
  url: string;
  port: number;
  requests: { method: string; path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** A stand-in for Postern's operator API that records who called it with what. */
async function startRecorder(
  options: { tls?: boolean; host?: string; redirectTo?: string } = {},
): Promise<Recorder> {
  const requests: Recorder["requests"] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: req.headers.authorization,
    });
    req.resume();
    if (options.redirectTo) {
      res.writeHead(307, { location: `${options.redirectTo}${req.url}` }).end();
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ features: { "custom-email-provider": true } }));
  };
  const server = options.tls
    ? createHttpsServer({ cert: serverCert, key: serverKey }, handler)
    : createHttpServer(handler);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${options.tls ? "https" : "http"}://${urlHost}:${port}`,
    port,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const recorders: Recorder[] = [];
async function recorder(options?: Parameters<typeof startRecorder>[0]): Promise<Recorder> {
  const started = await startRecorder(options);
  recorders.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(recorders.splice(0).map((r) => r.close()));
});

const features = (args: string[], env: Record<string, string>) =>
  runPostern(["features", ...args], {
    POSTERN_OPERATOR_TOKEN: TOKEN,
    POSTERN_DEFAULT_SMTP_URL: "",
    PUBLIC_URL: "",
    DATABASE_URL: "",
    ...env,
  });

describe("the operator CLI sends its token only where it is safe", () => {
  it("talks to the local listener at HOST:PORT, not to PUBLIC_URL", async () => {
    const local = await recorder();
    const publicSide = await recorder();
    const result = await features(["enable", "ws_demo"], {
      HOST: "127.0.0.1",
      PORT: String(local.port),
      PUBLIC_URL: publicSide.url,
    });
    expect(result.output).toContain("custom-email-provider is now unlocked for ws_demo");
    expect(result.code).toBe(0);
    expect(local.requests).toEqual([
      {
        method: "POST",
        path: "/api/operator/workspaces/ws_demo/features",
        authorization: `Bearer ${TOKEN}`,
      },
    ]);
    expect(publicSide.requests).toEqual([]);
  });

  it("reaches a server bound to every interface on its loopback, even with a public PUBLIC_URL", async () => {
    const local = await recorder();
    const result = await features(["disable", "ws_demo"], {
      HOST: "0.0.0.0",
      PORT: String(local.port),
      PUBLIC_URL: "https://login.example.com",
      POSTERN_DEFAULT_SMTP_URL: "smtp://relay.example.com:587",
    });
    expect(result.code, result.output).toBe(0);
    expect(local.requests.map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`]);
  });

  it("reaches a server bound to :: on [::1]", async () => {
    const local = await recorder({ host: "::1" });
    const result = await features(["enable", "ws_demo"], {
      HOST: "::",
      PORT: String(local.port),
      POSTERN_DEFAULT_SMTP_URL: "smtp://relay.example.com:587",
    });
    expect(result.code, result.output).toBe(0);
    expect(local.requests).toHaveLength(1);
  });

  it.each(["http://example.com:80", "http://10.0.0.1:9", "http://127.0.0.1.nip.io"])(
    "refuses --url %s (plain HTTP off loopback) before connecting",
    async (url) => {
      const local = await recorder();
      const result = await features(["enable", "ws_demo", "--url", url], {
        HOST: "127.0.0.1",
        PORT: String(local.port),
      });
      expect(result.code).toBe(2);
      expect(result.output).toMatch(/plain HTTP/);
      expect(result.output).toContain(new URL(url).hostname);
      expect(result.output).not.toContain(TOKEN);
      expect(local.requests).toEqual([]);
    },
  );

  it("refuses a non-loopback HOST over plain HTTP and says to pass --url", async () => {
    const result = await features(["enable", "ws_demo"], {
      HOST: "10.0.0.1",
      PORT: "9",
      POSTERN_DEFAULT_SMTP_URL: "smtp://relay.example.com:587",
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain("--url");
  });

  it("sends it over https to the --url host, and over plain HTTP to a loopback --url", async () => {
    const tls = await recorder({ tls: true });
    const plain = await recorder();
    const httpsUrl = `https://localhost:${tls.port}`;
    expect((await features(["enable", "ws_demo", "--url", httpsUrl], { PORT: "9" })).code).toBe(0);
    expect(tls.requests.map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`]);
    const loopbackUrl = `http://localhost:${plain.port}`;
    expect((await features(["disable", "ws_demo", "--url", loopbackUrl], { PORT: "9" })).code).toBe(0);
    expect(plain.requests.map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`]);
  });

  it("does not follow a redirect with the token", async () => {
    const elsewhere = await recorder();
    const local = await recorder({ redirectTo: elsewhere.url });
    const result = await features(["enable", "ws_demo"], { HOST: "127.0.0.1", PORT: String(local.port) });
    expect(result.code).not.toBe(0);
    expect(local.requests).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
  });

  it("unlocks a feature on a running embedded Postern with the token from its data dir", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "postern-cli-"));
    const env = { POSTERN_DATA_DIR: dataDir, POSTERN_OPERATOR_TOKEN: "", POSTERN_DEFAULT_SMTP_URL: "" };
    const server = await spawnPostern({ ...env, PUBLIC_URL: "http://postern.localhost" });
    try {
      const result = await features(["enable", "ws_demo"], {
        ...env,
        HOST: "127.0.0.1",
        PORT: new URL(server.url).port,
      });
      expect(result.output).toContain("custom-email-provider is now unlocked for ws_demo");
      expect(result.code).toBe(0);
    } finally {
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
