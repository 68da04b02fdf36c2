// Real nodemailer over real sockets against the smtp-server fake.
// Run with NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem so the test CA is trusted.
import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { type SmtpServerFake, type SmtpServerFakeOptions, startSmtpServer } from "../fakes/smtp-server.ts";
import { SmtpDialog } from "./smtp-dialog.ts";

const users = { alice: "correct horse" };
let fake: SmtpServerFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: SmtpServerFakeOptions): Promise<SmtpServerFake> {
  fake = await startSmtpServer(options);
  return fake;
}

function transport(
  f: SmtpServerFake,
  opts: { secure: boolean; method?: string; pass?: string; host?: string },
) {
  return nodemailer.createTransport({
    host: opts.host ?? "localhost",
    port: f.port,
    secure: opts.secure,
    requireTLS: !opts.secure,
    pool: false,
    authMethod: opts.method,
    auth: { user: "alice", pass: opts.pass ?? users.alice },
  });
}

const mail = {
  from: '"Acme Login" <login@acme.test>',
  to: "bob@example.test",
  subject: "Your code",
  text: "123456",
  html: "<b>123456</b>",
};

describe("smtp-server fake", () => {
  for (const security of ["starttls", "tls"] as const) {
    for (const method of ["PLAIN", "LOGIN"]) {
      it(`accepts nodemailer over ${security} with AUTH ${method}`, async () => {
        const f = await start({ security, users });
        const info = await transport(f, { secure: security === "tls", method }).sendMail(mail);
        expect(info.accepted).toEqual(["bob@example.test"]);
        const [m] = await f.waitForMessages(1);
        expect(m?.from).toEqual({ name: "Acme Login", address: "login@acme.test" });
        expect(m?.to).toEqual(["bob@example.test"]);
        expect(m?.subject).toBe("Your code");
        expect(m?.text?.trim()).toBe("123456");
        expect(m?.html).toBe("<b>123456</b>");
        expect(m?.envelope).toEqual({ mailFrom: "login@acme.test", rcptTo: ["bob@example.test"] });
        expect(m?.authUser).toBe("alice");
        expect(m?.raw.toString()).toContain("Subject: Your code");
        expect(f.authAttempts).toEqual([{ method, username: "alice", success: true }]);
        expect(f.connections).toBe(1);
      });
    }
  }

  it("records a failed login without the password", async () => {
    const f = await start({ users });
    const err = await transport(f, { secure: false, pass: "wrong" })
      .sendMail(mail)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EAUTH", responseCode: 535 });
    expect(f.authAttempts).toEqual([{ method: "PLAIN", username: "alice", success: false }]);
    expect(JSON.stringify(f.authAttempts)).not.toContain("wrong");
  });

  for (const [cert, reason] of [
    ["untrusted", /unable to verify the first certificate/],
    ["wrong-name", /does not match certificate's altnames/],
  ] as const) {
    it(`fails on the ${cert} certificate (starttls and tls)`, async () => {
      for (const security of ["starttls", "tls"] as const) {
        const f = await start({ users, cert, security });
        const err = await transport(f, { secure: security === "tls" })
          .sendMail(mail)
          .catch((e: unknown) => e);
        // nodemailer reports certificate failures as socket errors, also during STARTTLS.
        expect(err).toMatchObject({ code: "ESOCKET", message: expect.stringMatching(reason) });
        expect(f.authAttempts).toHaveLength(0);
        await f.close();
      }
    });
  }

  it("trusts the certificate for 127.0.0.1 (IP SAN)", async () => {
    const f = await start({ users });
    await transport(f, { secure: false, host: "127.0.0.1" }).sendMail(mail);
    expect(f.messages).toHaveLength(1);
  });

  it("without STARTTLS a requireTLS client refuses to send the password", async () => {
    const f = await start({ users, security: "none" });
    const err = await transport(f, { secure: false })
      .sendMail(mail)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ETLS" });
    expect(f.authAttempts).toHaveLength(0);
  });

  it("plays scripted replies at end of DATA, then 250", async () => {
    const f = await start({ users, replies: [{ code: 451, message: "4.3.0 Try again later" }] });
    const t = transport(f, { secure: false });
    const err = await t.sendMail(mail).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EMESSAGE", response: "451 4.3.0 Try again later" });
    f.replies.push({ code: 554, message: "5.6.0 Rejected" });
    await expect(t.sendMail(mail)).rejects.toMatchObject({ responseCode: 554 });
    const ok = await t.sendMail(mail);
    expect(ok.response).toBe("250 OK: message queued");
    expect(f.messages).toHaveLength(1);
    expect(f.rejectedMessages.map((r) => r.reply.code)).toEqual([451, 554]);
  });

  it("rejects chosen recipients", async () => {
    const f = await start({
      users,
      rejectRecipients: (a) =>
        a.startsWith("nobody@") ? { code: 550, message: "5.1.1 No such user" } : undefined,
    });
    const err = await transport(f, { secure: false })
      .sendMail({ ...mail, to: "nobody@example.test" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EENVELOPE", response: "550 5.1.1 No such user" });
  });

  it("greets with the configured name and banner", async () => {
    const f = await start({ banner: "Postern test relay" });
    const dialog = await SmtpDialog.open(f.port);
    expect(await dialog.reply()).toBe("220 smtp.test.local ESMTP Postern test relay");
    dialog.close();
  });

  it("accepts command lines over 12 KiB (RFC 4954 AUTH line limit)", async () => {
    const pass = "p".repeat(9500); // AUTH PLAIN line ≈ 12.7 KB
    const f = await start({ users: { alice: pass } });
    await transport(f, { secure: false, pass }).sendMail(mail);
    expect(f.messages).toHaveLength(1);
  });

  it("stops and restarts on the same port, tracking connections", async () => {
    const f = await start({ users });
    const port = f.port;
    const t = transport(f, { secure: false });
    await Promise.all([t.sendMail(mail), t.sendMail(mail), t.sendMail(mail)]);
    expect(f.maxConcurrentConnections).toBe(3);
    await f.stop();
    await expect(t.sendMail(mail)).rejects.toMatchObject({ code: "ESOCKET" });
    await f.restart();
    expect(f.port).toBe(port);
    await t.sendMail(mail);
    expect(f.messages).toHaveLength(4);
    expect(f.connections).toBe(4);
  });
});
