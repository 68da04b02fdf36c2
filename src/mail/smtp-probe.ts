import type net from "node:net";
import tls from "node:tls";
import nodemailer from "nodemailer";
import SMTPConnection from "nodemailer/lib/smtp-connection/index.js";
import { OutboundBlockedError, type OutboundPolicy } from "../security/outbound-guard.ts";
import { nodemailerMessage, type OutgoingEmail } from "./sender.ts";
import {
  checkTarget,
  classified,
  connectChecked,
  type SmtpTarget,
  type TokenSource,
  transportOptions,
} from "./smtp-connect.ts";
import { classifySmtpError } from "./smtp-errors.ts";
import {
  addressShown,
  type Explain,
  failedStep,
  resolvedStep,
  type StepName,
  type TestStep,
  timed,
} from "./test-steps.ts";

/**
 * Test connection: resolve → connect → TLS → EHLO → authenticate → optional test email, each step
 * timed and explained. Stops at the first failure; the rest are reported as skipped.
 */
export async function testSmtpTarget(
  target: SmtpTarget,
  policy: OutboundPolicy,
  options: { email?: OutgoingEmail; explain: Explain },
): Promise<TestStep[]> {
  const steps: TestStep[] = [];
  const order: StepName[] = ["resolve", "connect", "tls", "ehlo", "authenticate", "send"];
  const fail = (name: StepName, error: unknown, durationMs: number) => {
    const c = classifySmtpError(error);
    steps.push(
      ...failedStep(name, c, durationMs, options.explain(c, name), order.slice(order.indexOf(name) + 1)),
    );
    return steps;
  };

  const resolved = await timed(() => checkTarget(target, policy));
  if (resolved.error) {
    const err =
      resolved.error instanceof OutboundBlockedError ? classified(resolved.error, "blocked") : resolved.error;
    return fail("resolve", err, resolved.durationMs);
  }
  const checked = resolved.value!;
  const shown = addressShown(checked);
  steps.push(resolvedStep(target.host, checked, resolved.durationMs));

  const connected = await timed(() => connectChecked(target, policy));
  if (connected.error) return fail("connect", connected.error, connected.durationMs);
  steps.push({
    name: "connect",
    outcome: "ok",
    durationMs: connected.durationMs,
    detail: shown ? `TCP ${checked.address}:${target.port}` : `TCP port ${target.port}`,
  });
  let socket: net.Socket | tls.TLSSocket = connected.value!.socket;

  if (target.security === "tls") {
    const handshake = await timed(
      () =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const secure = tls.connect({
            socket,
            servername: target.host,
            minVersion: "TLSv1.2",
            rejectUnauthorized: true,
          });
          secure.once("secureConnect", () => resolve(secure));
          secure.once("error", reject);
        }),
    );
    if (handshake.error) {
      socket.destroy();
      return fail("tls", handshake.error, handshake.durationMs);
    }
    socket = handshake.value!;
    steps.push({
      name: "tls",
      outcome: "ok",
      durationMs: handshake.durationMs,
      detail: `Implicit TLS, ${(socket as tls.TLSSocket).getProtocol()}`,
    });
  }

  const connection = new SMTPConnection({
    ...transportOptions(target),
    connection: socket,
    secured: target.security === "tls",
  } as SMTPConnection.Options);
  connection.on("error", () => {});
  const greeted = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        connection.once("error", reject);
        connection.connect(() => resolve());
      }),
  );
  if (greeted.error) {
    connection.close();
    // Without TLS the failure is the missing STARTTLS (or its handshake), not the greeting.
    return fail(target.security === "starttls" ? "tls" : "ehlo", greeted.error, greeted.durationMs);
  }
  if (target.security === "starttls") {
    steps.push({
      name: "tls",
      outcome: "ok",
      durationMs: 0,
      detail: `STARTTLS, ${(connection as unknown as { _socket: tls.TLSSocket })._socket.getProtocol?.() ?? "TLS"}`,
    });
  } else if (target.security === "none") {
    steps.push({
      name: "tls",
      outcome: "skipped",
      durationMs: 0,
      detail: "Plain connection (allowlisted relay)",
    });
  }
  steps.push({
    name: "ehlo",
    outcome: "ok",
    durationMs: greeted.durationMs,
    detail: "Greeting and EHLO accepted",
  });

  const auth = target.auth;
  const login = await timed(async () => {
    const credentials =
      auth.method === "password"
        ? { user: auth.user, pass: auth.pass }
        : { user: auth.user, oauth2: await xoauth2For(auth) };
    await new Promise<void>((resolve, reject) =>
      connection.login(credentials as SMTPConnection.Credentials, (err) => (err ? reject(err) : resolve())),
    );
  });
  if (login.error) {
    connection.close();
    return fail("authenticate", login.error, login.durationMs);
  }
  steps.push({
    name: "authenticate",
    outcome: "ok",
    durationMs: login.durationMs,
    detail: auth.method === "password" ? `Signed in as ${auth.user}` : `XOAUTH2 as ${auth.user}`,
  });

  if (!options.email) {
    steps.push({ name: "send", outcome: "skipped", durationMs: 0, detail: "No test email requested" });
    connection.quit();
    return steps;
  }
  const email = options.email;
  const sent = await timed(async () => {
    const raw = await new Promise<Buffer>((resolve, reject) =>
      nodemailer
        .createTransport({ streamTransport: true, buffer: true })
        .sendMail(nodemailerMessage(email), (err, info) =>
          err ? reject(err) : resolve(info.message as Buffer),
        ),
    );
    return new Promise<string>((resolve, reject) =>
      connection.send({ from: email.from.address, to: [email.to] }, raw, (err, info) =>
        err ? reject(err) : resolve(info.response),
      ),
    );
  });
  connection.quit();
  if (sent.error) return fail("send", sent.error, sent.durationMs);
  steps.push({
    name: "send",
    outcome: "ok",
    durationMs: sent.durationMs,
    detail: `Test email sent to ${email.to}`,
    smtpReply: sent.value!,
  });
  return steps;
}

/**
 * The SASL XOAUTH2 initial response: base64("user=" + mailbox + "\x01auth=Bearer " + token + "\x01\x01")
 * (byte for byte as Microsoft documents it: https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
 */
export function xoauth2InitialResponse(user: string, accessToken: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`, "utf8").toString("base64");
}

/** nodemailer's XOAUTH2 object for a single connection, fed from our token source. */
async function xoauth2For(auth: { user: string; tokens: TokenSource }) {
  const token = await auth.tokens.getToken(false);
  return {
    getToken: (_renew: boolean, cb: (err: Error | null, accessToken?: string) => void) =>
      cb(null, token.accessToken),
    buildXOAuth2Token: (accessToken?: string) =>
      xoauth2InitialResponse(auth.user, accessToken ?? token.accessToken),
  };
}
