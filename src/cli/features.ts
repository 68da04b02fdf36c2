import { type Config, localListenerUrl } from "../config/config.ts";
import { isLoopbackHost } from "../security/loopback.ts";
import { loadOrCreateOperatorToken } from "../security/operator-token.ts";

/** A refusal to send the operator token somewhere; the CLI prints it and exits 2. */
export class UnsafeOperatorUrl extends Error {
  override name = "UnsafeOperatorUrl";
}

/**
 * Where the operator token goes: `--url`, or this machine's own listener (HOST:PORT). Not PUBLIC_URL:
 * that is where users reach Postern — a proxy, a load balancer, another machine. Plain HTTP is
 * accepted only to loopback, where the token cannot be read off the network.
 */
export function operatorApiUrl(config: Pick<Config, "host" | "port">, explicitUrl: string | undefined): URL {
  let url: URL;
  try {
    url = new URL(explicitUrl ?? localListenerUrl(config));
  } catch {
    throw new UnsafeOperatorUrl(
      `--url ${explicitUrl} is not a URL; give one such as https://login.example.com.`,
    );
  }
  if (url.protocol === "https:") return url;
  if (url.protocol !== "http:") throw new UnsafeOperatorUrl(`--url must be an https:// or http:// URL.`);
  if (isLoopbackHost(url.hostname)) return url;
  const where = explicitUrl === undefined ? `HOST ${config.host}` : `--url ${explicitUrl}`;
  throw new UnsafeOperatorUrl(
    `Refusing to send the operator token over plain HTTP to ${url.hostname} (${where}): anyone on the ` +
      "network path could read it. Pass --url with an https:// URL, or a loopback one such as " +
      `http://127.0.0.1:${config.port}.`,
  );
}

/** Unlocks or locks a feature through the running server's operator API (PGlite and PostgreSQL alike). */
export async function switchFeature(
  config: Config,
  change: { workspaceId: string; feature: string; enabled: boolean; url: string | undefined },
): Promise<void> {
  let base: URL;
  try {
    base = operatorApiUrl(config, change.url);
  } catch (err) {
    if (!(err instanceof UnsafeOperatorUrl)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const token =
    config.operatorToken ??
    (config.databaseUrl ? undefined : await loadOrCreateOperatorToken(config.dataDir));
  if (!token) {
    console.error("Set POSTERN_OPERATOR_TOKEN to the token the server runs with.");
    process.exit(2);
  }
  const where = base.href.replace(/\/$/, "");
  let response: Response;
  try {
    response = await fetch(
      `${where}/api/operator/workspaces/${encodeURIComponent(change.workspaceId)}/features`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ feature: change.feature, enabled: change.enabled }),
        // The token goes only where it was checked to be safe, never on to wherever a reply points.
        redirect: "manual",
      },
    );
  } catch {
    console.error(`Postern is not answering at ${where}; start it first (npm start), or pass --url.`);
    process.exit(1);
  }
  if (response.status >= 300 && response.status < 400) {
    console.error(
      `${where} redirects to ${response.headers.get("location") ?? "another address"}; the token is not sent on. Pass --url with Postern's own address.`,
    );
    process.exit(1);
  }
  const body = (await response.json().catch(() => ({}))) as {
    detail?: string;
    features?: Record<string, boolean>;
  };
  if (!response.ok) {
    console.error(body.detail ?? `The server answered ${response.status}.`);
    process.exit(1);
  }
  console.log(
    `${change.feature} is now ${body.features?.[change.feature] ? "unlocked" : "locked"} for ${change.workspaceId}.`,
  );
}
