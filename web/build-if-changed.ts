// Builds the dashboard only when its sources changed since the last build, so `npm start` does not
// spend seconds on Vite every time. The fingerprint covers everything the build reads: the dashboard's
// sources, its Vite config and the lockfile (a dependency upgrade changes the bundle too).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const webDir = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = path.dirname(webDir);
const outDir = path.join(webDir, "dist");
const stampFile = path.join(outDir, ".source-fingerprint");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(full) : [full];
    })
    .sort();
}

function fingerprint(): string {
  const hash = createHash("sha256");
  const inputs = [
    ...filesUnder(path.join(webDir, "src")),
    path.join(webDir, "index.html"),
    path.join(webDir, "vite.config.ts"),
    path.join(repoRoot, "package-lock.json"),
  ];
  for (const file of inputs) {
    hash.update(path.relative(repoRoot, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

const wanted = fingerprint();
const built = existsSync(path.join(outDir, "index.html")) && existsSync(stampFile);
if (!built || readFileSync(stampFile, "utf8").trim() !== wanted) {
  const { build } = await import("vite"); // only when needed: importing Vite alone takes a second
  await build({ configFile: path.join(webDir, "vite.config.ts"), logLevel: "warn" });
  writeFileSync(stampFile, `${wanted}\n`);
}
