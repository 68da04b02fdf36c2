import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const TEST_CA = fileURLToPath(new URL("../../test/fakes/certs/ca.pem", import.meta.url));

/**
 * Node reads NODE_EXTRA_CA_CERTS only at start, and Postern verifies the SMTP server's certificate
 * against the trust store (as in production), so a run without the test CA re-executes itself with it.
 * Answers the re-run's exit code, or undefined when this process already trusts the test CA.
 */
export async function rerunTrustingTestCa(entry: string): Promise<number | undefined> {
  const current = process.env.NODE_EXTRA_CA_CERTS;
  if (current && path.resolve(current) === TEST_CA) return undefined;
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...process.argv.slice(2)], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA },
    stdio: "inherit",
  });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}
