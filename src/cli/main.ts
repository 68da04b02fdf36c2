import { Command, Option } from "commander";
import { type Config, ConfigError, loadConfig } from "../config/config.ts";
import { readOperatorSettings } from "../email-provider/kinds/index.ts";
import type { Postern } from "../postern.ts";
import { switchFeature } from "./features.ts";

function config(overrides: Partial<Config> = {}): Config {
  try {
    const loaded = loadConfig(process.env, overrides);
    // The provider kinds' own settings (POSTERN_MICROSOFT_*, …) are named at start like the rest.
    readOperatorSettings(loaded.operatorEnv);
    return loaded;
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
  const validated = config(options.role ? { role: options.role } : {});
  // Loaded only to run: `features` and `--help` should not wait for the whole server to load.
  const { createPostern } = await import("../postern.ts");
  const postern = await createPostern({ config: validated });
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
const urlHelp =
  "the server's operator API (default: this machine's listener at HOST:PORT); plain http:// only to loopback";
for (const [name, enabled] of [
  ["enable", true],
  ["disable", false],
] as const) {
  features
    .command(`${name} <workspaceId> [feature]`)
    .option("--url <url>", urlHelp)
    .action((workspaceId: string, feature = "custom-email-provider", options: { url?: string }) =>
      switchFeature(config(), { workspaceId, feature, enabled, url: options.url }),
    );
}
program
  .command("keys")
  .description("Manage the sealing keys")
  .command("rotate")
  .description("Seal every secret under a new key; afterwards the old key can be removed")
  .option("--reseal", "re-seal under the keyring's first key without generating a new one")
  .action(async (options: { reseal?: boolean }) => {
    const { rotateKeys } = await import("./rotate-keys.ts");
    await rotateKeys(config({ role: "api", seedDemo: false }), { resealOnly: options.reseal === true });
  });

program
  .command("data-template <file>", { hidden: true })
  .description("Write the migrated database a new embedded data dir starts from (run by npm run build)")
  .action(async (file: string) => {
    const { writeDataTemplate } = await import("./data-template.ts");
    await writeDataTemplate(file);
  });

await program.parseAsync(process.argv);
