// Test PKI for the local fakes; see certs/README.md for how these files were made.
// Tests run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem, so Node trusts `testCa` by default.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const certPath = (name: string): string => fileURLToPath(new URL(`./certs/${name}`, import.meta.url));
const load = (path: string): string => readFileSync(path, "utf8");

export const certPaths = {
  testCa: certPath("ca.pem"),
  testCaKey: certPath("ca-key.pem"),
  serverCert: certPath("server.pem"),
  serverKey: certPath("server-key.pem"),
  wrongNameCert: certPath("wrong-name.pem"),
  wrongNameKey: certPath("wrong-name-key.pem"),
  untrustedCa: certPath("untrusted-ca.pem"),
  untrustedCert: certPath("untrusted.pem"),
  untrustedKey: certPath("untrusted-key.pem"),
} as const;

export const testCa = load(certPaths.testCa);
export const testCaKey = load(certPaths.testCaKey);
/** Valid for localhost, 127.0.0.1, ::1, smtp.test.local, login.test.local. */
export const serverCert = load(certPaths.serverCert);
export const serverKey = load(certPaths.serverKey);
/** Signed by the test CA, but only for wrong.example. */
export const wrongNameCert = load(certPaths.wrongNameCert);
export const wrongNameKey = load(certPaths.wrongNameKey);
/** A second CA that nobody trusts, and a localhost cert it signed. */
export const untrustedCa = load(certPaths.untrustedCa);
export const untrustedCert = load(certPaths.untrustedCert);
export const untrustedKey = load(certPaths.untrustedKey);

/** Which certificate a fake TLS server presents. */
export type CertChoice = "trusted" | "wrong-name" | "untrusted";

export function tlsCredentials(choice: CertChoice = "trusted"): { cert: string; key: string } {
  switch (choice) {
    case "trusted":
      return { cert: serverCert, key: serverKey };
    case "wrong-name":
      return { cert: wrongNameCert, key: wrongNameKey };
    case "untrusted":
      return { cert: untrustedCert, key: untrustedKey };
  }
}
