// What `npm start` runs first: builds the dashboard (Vite), the server (one esbuild bundle of src/,
// run by plain Node instead of being transpiled on every start by tsx) and the migrated database a
// new data dir starts from, each only when its sources changed since the last build. Plain
// JavaScript, so checking costs Node's start-up and a hash, not a TypeScript loader. Each
// fingerprint covers everything its build reads, the lockfile included (a dependency upgrade changes
// the output too).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const from = (...parts) => path.join(repoRoot, ...parts);

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(full) : [full];
    })
    .sort();
}

function fingerprint(inputs) {
  const hash = createHash("sha256");
  for (const file of inputs) {
    hash.update(path.relative(repoRoot, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Runs `build` unless `output` exists and `stampFile` holds the inputs' fingerprint. */
async function buildIfChanged({ inputs, output, stampFile, build }) {
  const wanted = fingerprint(inputs);
  if (existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === wanted)
    return;
  await build();
  writeFileSync(stampFile, `${wanted}\n`);
}

// What is built ships: the dashboard's React in its production build even when a test runner
// (NODE_ENV=test) or a developer's shell set something else.
process.env.NODE_ENV = "production";

const lockfile = from("package-lock.json");
const thisScript = fileURLToPath(import.meta.url);

await buildIfChanged({
  inputs: [
    ...filesUnder(from("web/src")),
    from("web/index.html"),
    from("web/vite.config.ts"),
    lockfile,
    thisScript,
  ],
  output: from("web/dist/index.html"),
  stampFile: from("web/dist/.source-fingerprint"),
  build: async () => {
    const { build } = await import("vite"); // only when needed: importing Vite alone takes a second
    await build({ configFile: from("web/vite.config.ts"), mode: "production", logLevel: "warn" });
  },
});

// dist/server/main.mjs sits two folders below the repository, as src/<module>/ files do, so the paths
// they resolve from import.meta.url (web/dist, src/db/migrations) hold in both.
await buildIfChanged({
  inputs: [...filesUnder(from("src")), lockfile, thisScript],
  output: from("dist/server/main.mjs"),
  stampFile: from("dist/server/.source-fingerprint"),
  build: async () => {
    const { build } = await import("esbuild");
    await build({
      entryPoints: [from("src/cli/main.ts")],
      outfile: from("dist/server/main.mjs"),
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      // Dependencies load from node_modules as they are; only our own code is bundled.
      packages: "external",
      sourcemap: true,
      logLevel: "warning",
    });
  },
});

// The migrated database a new data dir starts from (src/cli/data-template.ts), written by the server
// just built. It depends on the migrations, the queue's schema (pg-boss, in the lockfile) and the
// settings PGlite runs with.
await buildIfChanged({
  inputs: [
    ...filesUnder(from("src/db/migrations")),
    from("src/db/connection.ts"),
    from("src/queue/queue.ts"),
    from("src/cli/data-template.ts"),
    lockfile,
    thisScript,
  ],
  output: from("dist/pglite-template.tar"),
  stampFile: from("dist/.pglite-template-fingerprint"),
  build: async () => {
    execFileSync(
      process.execPath,
      [from("dist/server/main.mjs"), "data-template", from("dist/pglite-template.tar")],
      {
        stdio: "inherit",
      },
    );
  },
});
