// `npm run bench [-- <suite>…] [--backend pglite|postgres] [--emails N]`: runs benchmark suites on this
// machine, loopback only, and prints their tables and ratios. Without a suite name: startup, api,
// smtp-basic, oauth, graph, email-api and webhook.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import buildServer from "../test/support/built-server.ts";
import { apiSuite } from "./api.ts";
import { emailApiSuite } from "./email-api.ts";
import { graphSuite } from "./graph.ts";
import type { Backend } from "./lib/database.ts";
import { describeEnvironment } from "./lib/environment.ts";
import type { Suite } from "./lib/suite.ts";
import { rerunTrustingTestCa } from "./lib/trust.ts";
import { oauthSuite } from "./oauth.ts";
import { scaleSuite } from "./scale.ts";
import { smtpBasicSuite } from "./smtp-basic.ts";
import { startupSuite } from "./startup.ts";
import { webhookSuite } from "./webhook.ts";

const suites: Suite[] = [
  startupSuite,
  apiSuite,
  smtpBasicSuite,
  oauthSuite,
  graphSuite,
  emailApiSuite,
  webhookSuite,
  scaleSuite,
];
const DEFAULT_SUITES = ["startup", "api", "smtp-basic", "oauth", "graph", "email-api", "webhook"];

const usage = `Usage: npm run bench [-- <suite>…] [--backend pglite|postgres] [--emails N]

Suites:
${suites.map((s) => `  ${s.name.padEnd(12)} ${s.summary} (default backend: ${s.defaultBackend})`).join("\n")}

Without a suite name, runs: ${DEFAULT_SUITES.join(", ")}.
--backend postgres uses a fresh database on BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).`;

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      backend: { type: "string" },
      emails: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  const backend = values.backend;
  if (backend !== undefined && backend !== "pglite" && backend !== "postgres") {
    throw new Error(`--backend must be pglite or postgres, not ${backend}`);
  }
  const emails = values.emails === undefined ? undefined : Number(values.emails);
  if (emails !== undefined && !(Number.isInteger(emails) && emails > 0)) {
    throw new Error(`--emails must be a positive whole number, not ${values.emails}`);
  }
  const chosen = (positionals.length ? positionals : DEFAULT_SUITES).map((name) => {
    const suite = suites.find((s) => s.name === name);
    if (!suite) throw new Error(`no suite named ${name}; available: ${suites.map((s) => s.name).join(", ")}`);
    return suite;
  });
  return { suites: chosen, backend: backend as Backend | undefined, emails };
}

async function main(): Promise<number> {
  const rerun = await rerunTrustingTestCa(fileURLToPath(import.meta.url));
  if (rerun !== undefined) return rerun;
  const args = parse();
  if (!args) {
    console.log(usage);
    return 0;
  }
  // The processes suites spawn run the compiled server, as `npm start` does: built if src/ changed.
  buildServer();
  for (const suite of args.suites) {
    const backend = args.backend ?? suite.defaultBackend;
    const started = Date.now();
    console.log(`\n=== ${suite.name}: ${suite.summary}\n${await describeEnvironment(backend)}`);
    await suite.run({ backend, emails: args.emails });
    console.log(`\n(${suite.name} took ${Math.round((Date.now() - started) / 1000)} s)`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
