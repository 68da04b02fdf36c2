// A fake of Mailgun's sending API for one region, over HTTPS with the test CA
// (https://documentation.mailgun.com/docs/mailgun/api-reference/): POST /v3/{domain}/messages.mime (multipart
// `to` + `message`), POST /v3/{domain}/messages (fields), GET /v4/domains/{domain} (and the older /v3 form). HTTP Basic `api:<key>`.
//
// Answers as Mailgun was seen to: a wrong key — and a domain of the other region — get 401 with the plain-text
// body "Forbidden" (mailgun.js issues #359, #393); an unknown domain 404 {"message":"Domain not found: …"}; a
// sandbox domain to a recipient that is not authorized 403 with Mailgun's "Free accounts are for test purposes
// only" message; a domain that is not verified or disabled 403; a missing field 400; past the rate 429 (with
// Retry-After when the test sets one). Order: scripted failures, key, domain, fields, domain state, sandbox
// recipients, rate, then 200 {"id":"<…@domain>","message":"Queued. Thank you."}. Not modelled: events,
// tracking, templates, attachments beyond the MIME message.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { simpleParser } from "mailparser";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import { waitForCount } from "./mail.ts";

export interface MailgunDomainSpec {
  name: string;
  region?: "us" | "eu";
  state?: "active" | "unverified" | "disabled";
  type?: "custom" | "sandbox";
  authorizedRecipients?: string[];
}

export interface MailgunAccountSpec {
  /** The account's private API key: every domain of the account. */
  apiKey: string;
  domains: MailgunDomainSpec[];
  /** Domain sending keys: sending only, for their one domain. */
  sendingKeys?: Record<string, string>;
}

export interface MailgunDomain extends Required<MailgunDomainSpec> {}

export interface AcceptedMailgunMessage {
  id: string;
  domain: string;
  apiKey: string;
  form: "mime" | "fields";
  to: string[];
  raw: string | undefined;
  from: { name: string; address: string };
  subject: string;
  text: string;
  headers: Map<string, unknown>;
  acceptedAt: Date;
}

export interface MailgunRequestRecord {
  method: string;
  path: string;
  status: number;
  domain?: string;
  at: Date;
}

export interface MailgunScriptedError {
  status: number;
  /** A JSON `message`, or plain text when `text` is set. */
  message: string;
  text?: boolean;
  retryAfter?: number;
}

export const mailgunErrors = {
  unavailable: { status: 503, message: "Service Unavailable", text: true },
  internal: { status: 500, message: "Internal Server Error" },
  badRequest: { status: 400, message: "'from' parameter is not a valid address. please check documentation" },
  rateLimited: { status: 429, message: "Too many requests", retryAfter: 3 },
} satisfies Record<string, MailgunScriptedError>;

export interface MailgunFakeOptions {
  accounts?: MailgunAccountSpec[];
  /** Which region's host this is: domains of the other region get 401 here, as on Mailgun. */
  region?: "us" | "eu";
  /** Sends a minute per domain before 429; default no limit. */
  messagesPerMinute?: number;
  /** Retry-After on the rate's 429s. */
  rateRetryAfter?: number;
  cert?: CertChoice;
  now?: () => number;
}

export interface MailgunFake {
  readonly port: number;
  readonly url: string;
  readonly messages: AcceptedMailgunMessage[];
  readonly requestLog: MailgunRequestRecord[];
  readonly rateLimited: number;
  readonly peakConcurrency: number;
  domain(name: string): MailgunDomain;
  /** The next `count` requests (or only sends to `recipient`) get this answer. */
  failNext(count: number, error: MailgunScriptedError, recipient?: string): void;
  setFailure(error: MailgunScriptedError | null): void;
  waitForMessages(n: number, timeoutMs?: number): Promise<AcceptedMailgunMessage[]>;
  close(): Promise<void>;
}

const domainOf = (spec: MailgunDomainSpec): MailgunDomain => ({
  region: "us",
  state: "active",
  type: spec.name.startsWith("sandbox") ? "sandbox" : "custom",
  authorizedRecipients: [],
  ...spec,
});

export async function startMailgunFake(options: MailgunFakeOptions = {}): Promise<MailgunFake> {
  const now = options.now ?? Date.now;
  const region = options.region ?? "us";
  const domains = new Map<string, MailgunDomain>();
  /** Which domains each key may use, and whether it may read them. */
  const keys = new Map<string, { domains: Set<string>; read: boolean }>();
  for (const account of options.accounts ?? []) {
    for (const spec of account.domains) domains.set(spec.name, domainOf(spec));
    keys.set(account.apiKey, { domains: new Set(account.domains.map((d) => d.name)), read: true });
    for (const [domain, key] of Object.entries(account.sendingKeys ?? {})) {
      keys.set(key, { domains: new Set([domain]), read: false });
    }
  }
  const messages: AcceptedMailgunMessage[] = [];
  const requestLog: MailgunRequestRecord[] = [];
  const recent = new Map<string, number[]>();
  const scripted: { error: MailgunScriptedError; recipient: string | undefined }[] = [];
  let failure: MailgunScriptedError | null = null;
  let rateLimited = 0;
  let inFlight = 0;
  let peakConcurrency = 0;
  const sockets = new Set<Socket>();

  function answer(
    res: ServerResponse,
    record: MailgunRequestRecord,
    error: MailgunScriptedError | { status: number; body: unknown },
  ) {
    record.status = error.status;
    requestLog.push(record);
    if ("body" in error) {
      res.writeHead(error.status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(error.body));
      return;
    }
    res.writeHead(error.status, {
      "Content-Type": error.text ? "text/plain; charset=utf-8" : "application/json",
      ...(error.retryAfter ? { "Retry-After": String(error.retryAfter) } : {}),
    });
    res.end(error.text ? error.message : JSON.stringify({ message: error.message }));
  }

  /** The key of an `Authorization: Basic api:<key>` header. */
  function keyOf(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization ?? "";
    if (!header.startsWith("Basic ")) return undefined;
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return decoded.slice(0, colon) === "api" ? decoded.slice(colon + 1) : undefined;
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? "/").split("?")[0]!;
    const record: MailgunRequestRecord = { method: req.method ?? "", path, status: 0, at: new Date(now()) };
    const anyRequest = scripted.findIndex((entry) => entry.recipient === undefined);
    const next = anyRequest >= 0 ? scripted.splice(anyRequest, 1)[0]!.error : failure;
    if (next) return answer(res, record, next);

    const forbidden = { status: 401, message: "Forbidden", text: true };
    const key = keyOf(req);
    const grant = key === undefined ? undefined : keys.get(key);
    if (!grant) return answer(res, record, forbidden);

    const lookup = /^\/v[34]\/domains\/([^/]+)$/.exec(path);
    const send = /^\/v3\/([^/]+)\/(messages|messages\.mime)$/.exec(path);
    const name = decodeURIComponent((lookup ?? send)?.[1] ?? "");
    record.domain = name;
    const domain = domains.get(name);
    // A domain of the other region is unknown to this host, and Mailgun says so with its 401.
    if (domain && domain.region !== region) return answer(res, record, forbidden);
    if (!domain || !grant.domains.has(name)) {
      if (!grant.read && domain) return answer(res, record, forbidden);
      return answer(res, record, { status: 404, message: `Domain not found: ${name}` });
    }

    if (req.method === "GET" && lookup) {
      if (!grant.read) return answer(res, record, forbidden);
      return answer(res, record, {
        status: 200,
        body: {
          domain: {
            name: domain.name,
            state: domain.state,
            type: domain.type,
            is_disabled: domain.state === "disabled",
            spam_action: "disabled",
            created_at: "Thu, 01 Jan 2026 00:00:00 GMT",
          },
          receiving_dns_records: [],
          sending_dns_records: [],
        },
      });
    }
    if (req.method !== "POST" || !send) return answer(res, record, { status: 404, message: "Not Found" });

    inFlight++;
    peakConcurrency = Math.max(peakConcurrency, inFlight);
    try {
      const form = await new Request("https://fake.invalid/", {
        method: "POST",
        headers: { "content-type": req.headers["content-type"] ?? "" },
        body,
      })
        .formData()
        .catch(() => undefined);
      if (!form) return answer(res, record, { status: 400, message: "Invalid form data" });
      const to = form
        .getAll("to")
        .flatMap((v) => String(v).split(","))
        .map((v) => v.trim())
        .filter(Boolean);
      if (to.length === 0) return answer(res, record, { status: 400, message: "'to' parameter is missing" });
      const forRecipient = scripted.findIndex((entry) => entry.recipient && to.includes(entry.recipient));
      if (forRecipient >= 0) return answer(res, record, scripted.splice(forRecipient, 1)[0]!.error);
      const mime = send[2] === "messages.mime";
      const file = form.get("message");
      if (mime && file === null) {
        return answer(res, record, { status: 400, message: "'message' parameter is missing" });
      }
      if (domain.state !== "active") {
        return answer(res, record, {
          status: 403,
          message: `Domain ${name} is not allowed to send: domain is ${domain.state === "disabled" ? "disabled" : "not verified"}`,
        });
      }
      if (
        domain.type === "sandbox" &&
        to.some((r) => !domain.authorizedRecipients.includes(r.toLowerCase()))
      ) {
        return answer(res, record, {
          status: 403,
          message: `Domain ${name} is not allowed to send: Free accounts are for test purposes only. Please upgrade or add the address to authorized recipients in Account Settings.`,
        });
      }
      if (options.messagesPerMinute !== undefined) {
        const window = (recent.get(name) ?? []).filter((at) => now() - at < 60_000);
        recent.set(name, window);
        if (window.length >= options.messagesPerMinute) {
          rateLimited++;
          return answer(res, record, {
            status: 429,
            message: "Too many requests",
            ...(options.rateRetryAfter ? { retryAfter: options.rateRetryAfter } : {}),
          });
        }
        window.push(now());
      }
      // mailgun.js sends a string message as a field, a Buffer as a file: Mailgun takes either.
      const raw = mime ? (typeof file === "string" ? file : await (file as Blob).text()) : undefined;
      const parsed = raw ? await simpleParser(raw) : undefined;
      const from = parsed?.from?.value[0] ?? { name: "", address: String(form.get("from") ?? "") };
      const id = `<${new Date(now()).toISOString().replace(/\D/g, "").slice(0, 14)}.${randomUUID().slice(0, 8)}@${name}>`;
      messages.push({
        id,
        domain: name,
        apiKey: key!,
        form: mime ? "mime" : "fields",
        to,
        raw,
        from: { name: from.name, address: from.address ?? "" },
        subject: parsed?.subject ?? String(form.get("subject") ?? ""),
        text: parsed?.text ?? String(form.get("text") ?? ""),
        headers: parsed?.headers ?? new Map(),
        acceptedAt: new Date(now()),
      });
      return answer(res, record, { status: 200, body: { id, message: "Queued. Thank you." } });
    } finally {
      inFlight--;
    }
  }

  const server: Server = createServer(tlsCredentials(options.cert), (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return;
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: String(err) }));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected listen address");

  return {
    port: address.port,
    url: `https://localhost:${address.port}`,
    messages,
    requestLog,
    get rateLimited() {
      return rateLimited;
    },
    get peakConcurrency() {
      return peakConcurrency;
    },
    domain(name) {
      const domain = domains.get(name);
      if (!domain) throw new Error(`no domain ${name}`);
      return domain;
    },
    failNext(count, error, recipient) {
      for (let i = 0; i < count; i++) scripted.push({ error, recipient });
    },
    setFailure(error) {
      failure = error;
    },
    waitForMessages: (n, timeoutMs = 10_000) => waitForCount(messages, n, timeoutMs),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
