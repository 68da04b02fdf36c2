import { Command, Option } from "commander";
import { type Config, ConfigError, loadConfig } from "../config/config.ts";
import { createPostern, type Postern } from "../postern.ts";
import { loadOrCreateOperatorToken } from "../security/operator-token.ts";
import { rotateKeys } from "./rotate-keys.ts";

function config(overrides: Partial<Config> = {}): Config {
  try {
    return loadConfig(process.env, overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

function banner(postern: Postern, url: string): string {
  const { config } = postern.ctx;
  const lines = [
    "",
    `  Postern is running (${config.role}) on ${config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}`}`,
    "",
    `  Dashboard     ${config.publicUrl}/`,
    `  API docs      ${config.publicUrl}/docs`,
  ];
  // Only the all-in-one role serves the inbox; configuration keeps it on loopback (src/config/config.ts).
  if (postern.devMailbox && config.role === "all")
    lines.push(
      `  Dev mailbox   ${config.publicUrl}/api/dev/inbox  (the default sender: its emails stay on this machine, served on loopback only)`,
    );
  if (postern.demo) {
    lines.push(
      "",
      `  Demo app      ${postern.demo.appId}`,
      `  Publishable   ${postern.demo.publishableKey}`,
      "",
      "  Send a login email:",
      `    curl -s -X POST ${config.publicUrl}/v1/login/email \\`,
      `      -H 'Authorization: Bearer ${postern.demo.publishableKey}' -H 'Content-Type: application/json' \\`,
      `      -d '{"email":"you@example.com"}'`,
      "",
      `  Sign in to the dashboard as ${postern.demo.accountEmail} (or any address) to manage the demo app.`,
    );
  }
  lines.push("", `  Listening on ${url}`, "");
  return lines.join("\n");
}

async function start(options: { role?: Config["role"] }) {
  const postern = await createPostern({ config: config(options.role ? { role: options.role } : {}) });
  const { url } = await postern.start();
  console.log(banner(postern, url));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    postern.ctx.log.info({ signal }, "draining in-flight work, then stopping");
    postern
      .stop()
      .then(() => process.exit(0))
      .catch((err) => {
        postern.ctx.log.error({ err }, "unclean shutdown");
        process.exit(1);
      });
  };
  // pg-boss completes jobs without awaiting (a failure while the database restarts would be an
  // unhandled rejection and, by Node's default, kill the process). The job simply times out and is
  // retried, so log it and keep running.
  process.on("unhandledRejection", (err) => postern.ctx.log.error({ err }, "unhandled rejection"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

/** Goes through the running server's operator API, so it works for PGlite and PostgreSQL alike. */
async function switchFeature(enabled: boolean, workspaceId: string, feature: string) {
  const cfg = config();
  const token =
    cfg.operatorToken ?? (cfg.databaseUrl ? undefined : await loadOrCreateOperatorToken(cfg.dataDir));
  if (!token) {
    console.error("Set POSTERN_OPERATOR_TOKEN to the token the server runs with.");
    process.exit(2);
  }
  const url = `${cfg.publicUrl}/api/operator/workspaces/${encodeURIComponent(workspaceId)}/features`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ feature, enabled }),
    });
  } catch {
    console.error(
      `Postern is not answering at ${cfg.publicUrl}; start it first (npm start), or set PUBLIC_URL.`,
    );
    process.exit(1);
  }
  const body = (await response.json()) as { detail?: string; features?: Record<string, boolean> };
  if (!response.ok) {
    console.error(body.detail ?? `The server answered ${response.status}.`);
    process.exit(1);
  }
  console.log(`${feature} is now ${body.features?.[feature] ? "unlocked" : "locked"} for ${workspaceId}.`);
}

const program = new Command("postern").description("Self-hostable passwordless login");
program
  .command("start")
  .description("Run Postern (API, worker and dashboard by default)")
  .addOption(
    new Option("--role <role>", "which part of Postern this process runs").choices(["api", "worker", "all"]),
  )
  .action(start);
const features = program
  .command("features")
  .description("Unlock or lock premium features for a workspace (operator)");
features
  .command("enable <workspaceId> [feature]")
  .action((workspaceId: string, feature = "custom-email-provider") =>
    switchFeature(true, workspaceId, feature),
  );
features
  .command("disable <workspaceId> [feature]")
  .action((workspaceId: string, feature = "custom-email-provider") =>
    switchFeature(false, workspaceId, feature),
  );
program
  .command("keys")
  .description("Manage the sealing keys")
  .command("rotate")
  .description("Seal every secret under a new key; afterwards the old key can be removed")
  .option("--reseal", "re-seal under the keyring's first key without generating a new one")
  .action((options: { reseal?: boolean }) =>
    rotateKeys(config({ role: "api", seedDemo: false }), { resealOnly: options.reseal === true }),
  );

await program.parseAsync(process.argv);
