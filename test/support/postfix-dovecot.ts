// Real mail servers for tests: a Postfix submission server that checks passwords with Dovecot, the way
// many developers' own SMTP servers are set up (https://www.postfix.org/SASL_README.html#server_dovecot).
// Everything lives in one temp directory; nothing touches the machine's /etc/postfix or /etc/dovecot.
// Needs root (Postfix's master runs as root and drops to the `postfix` user the Debian package creates).
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { certPaths } from "../fakes/certs.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { waitFor } from "./harness.ts";
import { freePort } from "./process.ts";

const run = promisify(execFile);

const POSTFIX = "/usr/sbin/postfix";
const DOVECOT = "/usr/sbin/dovecot";

export interface PostfixDovecot {
  /** STARTTLS required before AUTH (smtpd_tls_security_level=encrypt), as on port 587. */
  submissionPort: number;
  /** Implicit TLS (smtpd_tls_wrappermode=yes), as on port 465; offers AUTH LOGIN only. */
  submissionsPort: number;
  username: string;
  password: string;
  /** Where Postfix relays what it accepted: our SMTP fake, so the test can read the message. */
  relay: SmtpServerFake;
  /** Postfix's log (maillog_file) so far. */
  maillog(): string;
  /** Dovecot's log so far. */
  dovecotLog(): string;
  close(): Promise<void>;
}

/** Fails (never skips) when the servers are missing: the test is what proves real servers work. */
export function requireInstalled(): void {
  const missing = [
    [POSTFIX, "postfix"],
    [DOVECOT, "dovecot-core"],
  ].filter(([binary]) => !existsSync(binary!));
  if (missing.length > 0) {
    throw new Error(
      `${missing.map(([b]) => b).join(" and ")} not found: install the Debian packages with ` +
        `"apt-get install ${missing.map(([, p]) => p).join(" ")}" (.ci/run does this).`,
    );
  }
  if (process.getuid?.() !== 0) throw new Error("Postfix and Dovecot tests run as root (as CI does).");
}

export async function startPostfixDovecot(): Promise<PostfixDovecot> {
  requireInstalled();
  const username = "acme";
  const password = "s3cret-Passw0rd!";
  const root = mkdtempSync(path.join(tmpdir(), "postern-postfix-"));
  // Postfix's daemons and Dovecot's drop to their own users, and must see their files under it.
  await chmod(root, 0o755);
  const dir = {
    postfixConfig: path.join(root, "postfix"),
    queue: path.join(root, "postfix-queue"),
    data: path.join(root, "postfix-data"),
    dovecot: path.join(root, "dovecot"),
  };
  // The queue directory belongs to root; `postfix start` creates what is inside it, and the data
  // directory, owned by its own user.
  for (const d of [dir.postfixConfig, dir.queue, dir.dovecot]) await mkdir(d);
  const maillogFile = path.join(root, "maillog");
  const dovecotLogFile = path.join(root, "dovecot.log");
  const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

  let relay: SmtpServerFake | undefined;
  let dovecot: ChildProcess | undefined;
  let postfixStarted = false;
  // If the test process ends without close() (a crash, an uncaught error), stop the servers anyway:
  // neither is our child in a way that ends with us (Postfix's master detaches; Dovecot outlives us).
  const stopOnExit = () => {
    if (postfixStarted) spawnSync(POSTFIX, ["-c", dir.postfixConfig, "abort"]);
    dovecot?.kill("SIGTERM");
    rmSync(root, { recursive: true, force: true });
  };
  process.once("exit", stopOnExit);
  const close = async () => {
    process.removeListener("exit", stopOnExit);
    if (postfixStarted) {
      // `postfix stop` waits for the master to exit, and kills it with force after 5 s.
      await run(POSTFIX, ["-c", dir.postfixConfig, "stop"]).catch(() => undefined);
      postfixStarted = false;
    }
    if (dovecot && dovecot.exitCode === null && dovecot.signalCode === null) {
      const exited = new Promise((resolve) => dovecot!.once("exit", resolve));
      dovecot.kill("SIGTERM");
      await exited;
    }
    await relay?.close();
    rmSync(root, { recursive: true, force: true });
  };

  try {
    // Plain SMTP without AUTH: only Postfix talks to it, over loopback.
    relay = await startSmtpServer({ security: "none", name: "relay.test.local" });
    const submissionPort = await freePort();
    const submissionsPort = await freePort();
    const authSocket = path.join(dir.queue, "private", "auth");

    // Read by Dovecot's auth process, which runs as the `dovecot` user.
    writeFileSync(path.join(dir.dovecot, "users"), `${username}:{PLAIN}${password}:::::\n`, { mode: 0o644 });
    writeFileSync(
      path.join(dir.dovecot, "dovecot.conf"),
      dovecotConf({
        baseDir: path.join(dir.dovecot, "run"),
        stateDir: path.join(dir.dovecot, "state"),
        log: dovecotLogFile,
        users: path.join(dir.dovecot, "users"),
        authSocket,
      }),
    );
    writeFileSync(
      path.join(dir.postfixConfig, "main.cf"),
      mainCf({
        queue: dir.queue,
        data: dir.data,
        maillog: maillogFile,
        logPrefix: root,
        relayPort: relay.port,
        // The sender of test/email-provider/support.ts's basicBody: the one address acme may send from.
        senderEmail: "login@acme.example",
        username,
      }),
    );
    writeFileSync(path.join(dir.postfixConfig, "master.cf"), masterCf(submissionPort, submissionsPort));

    // `start` creates the queue directories with the owners Postfix wants (postfix:postdrop), among
    // them private/, where Dovecot puts the auth socket; it returns once the master reports its
    // services initialised (`master -w`). smtpd connects to Dovecot per session, so Dovecot may come second.
    await run(POSTFIX, ["-c", dir.postfixConfig, "start"]);
    postfixStarted = true;

    dovecot = spawn(DOVECOT, ["-c", path.join(dir.dovecot, "dovecot.conf"), "-F"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let dovecotOutput = "";
    dovecot.stdout?.on("data", (c: Buffer) => {
      dovecotOutput += c.toString();
    });
    dovecot.stderr?.on("data", (c: Buffer) => {
      dovecotOutput += c.toString();
    });
    await waitFor(
      () => {
        if (dovecot!.exitCode !== null)
          throw new Error(`dovecot exited (${dovecot!.exitCode}):\n${dovecotOutput}${read(dovecotLogFile)}`);
        return existsSync(authSocket) || undefined;
      },
      20_000,
      "Dovecot's auth socket",
    );

    await waitFor(
      async () => (await listening(submissionPort)) && (await listening(submissionsPort)),
      20_000,
      "Postfix's listeners",
    );

    return {
      submissionPort,
      submissionsPort,
      username,
      password,
      relay,
      maillog: () => read(maillogFile),
      dovecotLog: () => read(dovecotLogFile),
      close,
    };
  } catch (err) {
    const logs = `--- Postfix maillog\n${read(maillogFile)}\n--- Dovecot log\n${read(dovecotLogFile)}`;
    await close();
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`starting Postfix and Dovecot failed: ${(err as Error).message}\n${stderr}\n${logs}`);
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Dovecot as Postfix's SASL server only: no IMAP or POP (`protocols =`), one user in a passwd-file.
 * https://doc.dovecot.org/2.3/configuration_manual/howto/postfix_and_dovecot_sasl/
 */
function dovecotConf(o: {
  baseDir: string;
  stateDir: string;
  log: string;
  users: string;
  authSocket: string;
}) {
  return `
protocols =
base_dir = ${o.baseDir}
state_dir = ${o.stateDir}
log_path = ${o.log}
ssl = no
auth_mechanisms = plain login
auth_verbose = yes
# Dovecot's socket is local; Postfix itself refuses AUTH before TLS (smtpd_tls_auth_only), so
# Dovecot need not hide the plaintext mechanisms.
disable_plaintext_auth = no
# The wrong-password tests need no brute-force brake: no 2 s before each failure answer, and no
# penalty growing per client IP (https://doc.dovecot.org/2.3/configuration_manual/authentication/auth_penalty/).
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${o.users}
}
userdb {
  driver = passwd-file
  args = ${o.users}
}
service auth {
  # In Postfix's queue directory, reached as smtpd_sasl_path = private/auth (SASL_README).
  unix_listener ${o.authSocket} {
    mode = 0660
    user = postfix
    group = postfix
  }
}
`;
}

function mainCf(o: {
  queue: string;
  data: string;
  maillog: string;
  logPrefix: string;
  relayPort: number;
  senderEmail: string;
  username: string;
}) {
  return `
compatibility_level = 3.6
queue_directory = ${o.queue}
data_directory = ${o.data}
myhostname = postfix.test.local
mydomain = test.local
# Nothing is local: every accepted message goes to the relay host.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
relayhost = [127.0.0.1]:${o.relayPort}
smtp_tls_security_level = none
# No DNS on loopback (https://www.postfix.org/postconf.5.html#smtpd_peername_lookup).
smtpd_peername_lookup = no
smtpd_tls_cert_file = ${certPaths.serverCert}
smtpd_tls_key_file = ${certPaths.serverKey}
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
# Which sender each SASL user may use; the submission listeners refuse any other
# (https://www.postfix.org/postconf.5.html#reject_sender_login_mismatch).
smtpd_sender_login_maps = inline:{ ${o.senderEmail}=${o.username} }
# Postfix logs to syslog unless told otherwise; a file needs the postlog service in master.cf
# (https://www.postfix.org/MAILLOG_README.html).
maillog_file = ${o.maillog}
maillog_file_prefixes = ${o.logPrefix}
biff = no
`;
}

/**
 * Only the services a relaying submission server needs, none chrooted, none on port 25.
 * The listeners follow the submission/submissions entries of Postfix's own master.cf.
 */
function masterCf(submissionPort: number, submissionsPort: number) {
  const submission = [
    "-o smtpd_sasl_auth_enable=yes",
    "-o smtpd_tls_auth_only=yes",
    "-o smtpd_client_restrictions=",
    "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
    "-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject",
    "-o smtpd_sender_restrictions=reject_sender_login_mismatch",
  ];
  return `
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:${submissionPort} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  ${submission.join("\n  ")}
127.0.0.1:${submissionsPort} inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_mechanism_filter=login
  ${submission.join("\n  ")}
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}
