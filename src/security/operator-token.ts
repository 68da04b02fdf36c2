import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { randomToken } from "./tokens.ts";

/**
 * On the embedded default the operator token lives in the data dir (mode 0600), so the CLI on the
 * same machine can call the operator API without the operator inventing a token first.
 */
export async function loadOrCreateOperatorToken(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "operator.token");
  try {
    return (await readFile(file, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const token = `opt_${randomToken(32)}`;
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    return token;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return (await readFile(file, "utf8")).trim();
    throw err;
  }
}
