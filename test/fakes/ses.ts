// A fake of Amazon SES v2's REST/JSON API as @aws-sdk/client-sesv2 speaks it, over HTTPS with the test CA
// (https://docs.aws.amazon.com/ses/latest/APIReference-V2/Welcome.html): SendEmail (POST /v2/email/outbound-emails),
// GetAccount (GET /v2/email/account) and GetEmailIdentity (GET /v2/email/identities/{identity}). Every
// request's SigV4 signature is verified with the account's secret (sigv4.ts): an unknown key gets
// UnrecognizedClientException, a wrong secret SignatureDoesNotMatch, both 403.
//
// Errors travel as AWS's restJson1 protocol has them: the code in `x-amzn-ErrorType`, `{"message": …}` in
// the body, `x-amzn-RequestId`. Order of SendEmail's checks: signature, scripted failures, account state
// (suspended, paused), configuration set, sender identity, sandbox recipients, sending rate (per account and
// region per second: 429 TooManyRequestsException "Maximum sending rate exceeded."), daily quota, message.
// Identities and quotas are per region, as in SES. Not modelled: bounces and complaints, event destinations,
// the Simple and Template content forms, attachments' limits.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { simpleParser } from "mailparser";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import { waitForCount } from "./mail.ts";
import { verifySigV4 } from "./sigv4.ts";

export interface SesAccountSpec {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the account's identities are verified; requests signed for another region find none. */
  region?: string;
  /** Verified identities: addresses or domains. */
  verified?: string[];
  /** Identities created but not verified yet. */
  pending?: string[];
  sandbox?: boolean;
  maxSendRate?: number;
  max24HourSend?: number;
  configurationSets?: string[];
  /** The key's IAM policy lacks ses:GetAccount and ses:GetEmailIdentity (a send-only policy). */
  sendOnly?: boolean;
}

export interface SesAccount extends Required<Omit<SesAccountSpec, "configurationSets">> {
  configurationSets: Set<string>;
  state: "active" | "paused" | "suspended";
  sentLast24Hours: number;
}

/** A message SES accepted. */
export interface AcceptedSesMessage {
  messageId: string;
  accessKeyId: string;
  region: string;
  fromEmailAddress: string | undefined;
  to: string[];
  configurationSet: string | undefined;
  /** The raw MIME as received, and as parsed. */
  raw: string;
  from: { name: string; address: string };
  subject: string;
  text: string;
  headers: Map<string, unknown>;
  acceptedAt: Date;
}

export interface SesRequestRecord {
  method: string;
  path: string;
  status: number;
  code?: string;
  accessKeyId?: string;
  at: Date;
}

/** A failure the fake answers instead of doing its work. */
export interface SesScriptedError {
  status: number;
  code: string;
  message: string;
  retryAfter?: number;
}

export const sesErrors = {
  suspended: {
    status: 400,
    code: "AccountSuspendedException",
    message: "The message can't be sent because the account has been suspended.",
  },
  paused: {
    status: 400,
    code: "SendingPausedException",
    message: "The message can't be sent because sending is paused for the account.",
  },
  throttled: { status: 429, code: "TooManyRequestsException", message: "Maximum sending rate exceeded." },
  badRequest: { status: 400, code: "BadRequestException", message: "Illegal address" },
  rejected: { status: 400, code: "MessageRejected", message: "Message length is more than 40 MB." },
  internal: {
    status: 500,
    code: "InternalFailure",
    message: "The request processing has failed because of an unknown error.",
  },
  unavailable: { status: 503, code: "ServiceUnavailable", message: "Service is unavailable." },
} satisfies Record<string, SesScriptedError>;

export interface SesFakeOptions {
  accounts?: SesAccountSpec[];
  cert?: CertChoice;
  now?: () => number;
}

export interface SesFake {
  readonly port: number;
  /** "https://localhost:<port>": what POSTERN_SES_API_URL would hold. */
  readonly url: string;
  readonly messages: AcceptedSesMessage[];
  readonly requestLog: SesRequestRecord[];
  /** 429s answered for the sending rate, per "accessKeyId/region". */
  readonly throttled: Map<string, number>;
  /** The most SendEmail requests in flight at once. */
  readonly peakConcurrency: number;
  account(accessKeyId: string): SesAccount;
  addAccount(spec: SesAccountSpec): SesAccount;
  /** The next `count` requests (any operation, or only SendEmail to `recipient`) get this answer. */
  failNext(count: number, error: SesScriptedError, recipient?: string): void;
  /** Every request gets this answer until cleared with null. */
  setFailure(error: SesScriptedError | null): void;
  waitForMessages(n: number, timeoutMs?: number): Promise<AcceptedSesMessage[]>;
  close(): Promise<void>;
}

const accountOf = (spec: SesAccountSpec): SesAccount => ({
  region: "us-east-1",
  verified: [],
  pending: [],
  sandbox: false,
  maxSendRate: 1_000,
  max24HourSend: 1_000_000,
  sendOnly: false,
  ...spec,
  configurationSets: new Set(spec.configurationSets ?? []),
  state: "active",
  sentLast24Hours: 0,
});

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

export async function startSesFake(options: SesFakeOptions = {}): Promise<SesFake> {
  const now = options.now ?? Date.now;
  const accounts = new Map<string, SesAccount>();
  for (const spec of options.accounts ?? []) accounts.set(spec.accessKeyId, accountOf(spec));
  const messages: AcceptedSesMessage[] = [];
  const requestLog: SesRequestRecord[] = [];
  const throttled = new Map<string, number>();
  const recentSends = new Map<string, number[]>();
  const scripted: { error: SesScriptedError; recipient: string | undefined }[] = [];
  let failure: SesScriptedError | null = null;
  let inFlight = 0;
  let peakConcurrency = 0;
  const sockets = new Set<Socket>();

  function reply(
    res: ServerResponse,
    record: SesRequestRecord,
    status: number,
    body: unknown,
    code?: string,
    headers: Record<string, string> = {},
  ) {
    record.status = status;
    if (code) record.code = code;
    requestLog.push(record);
    res.writeHead(status, {
      "Content-Type": "application/json",
      "x-amzn-RequestId": randomUUID(),
      ...(code
        ? { "x-amzn-ErrorType": `${code}:http://internal.amazon.com/coral/com.amazonaws.sesv2/` }
        : {}),
      ...headers,
    });
    res.end(JSON.stringify(body));
  }
  const fail = (res: ServerResponse, record: SesRequestRecord, error: SesScriptedError) =>
    reply(
      res,
      record,
      error.status,
      { message: error.message },
      error.code,
      error.retryAfter ? { "Retry-After": String(error.retryAfter) } : {},
    );

  const verifiedIn = (account: SesAccount, region: string, identity: string) =>
    account.region === region &&
    (account.verified.includes(identity.toLowerCase()) || account.verified.includes(domainOf(identity)));

  async function route(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = req.url ?? "/";
    const path = url.split("?")[0]!;
    const record: SesRequestRecord = { method: req.method ?? "", path, status: 0, at: new Date(now()) };

    const signed = verifySigV4(
      { method: req.method ?? "GET", url, headers: req.headers, body },
      (id) => accounts.get(id)?.secretAccessKey,
      now(),
    );
    if (!signed.ok) {
      if ("accessKeyId" in signed) record.accessKeyId = signed.accessKeyId;
      return fail(res, record, {
        status: signed.code === "MissingAuthenticationToken" ? 403 : 403,
        code: signed.code,
        message: signed.message,
      });
    }
    record.accessKeyId = signed.accessKeyId;
    const account = accounts.get(signed.accessKeyId)!;
    const region = signed.region;
    if (signed.service !== "ses") {
      return fail(res, record, {
        status: 403,
        code: "InvalidSignatureException",
        message: `Credential should be scoped to correct service: 'ses'.`,
      });
    }
    const anyRequest = scripted.findIndex((entry) => entry.recipient === undefined);
    const next = anyRequest >= 0 ? scripted.splice(anyRequest, 1)[0]!.error : failure;
    if (next) return fail(res, record, next);

    const denied = (action: string) =>
      fail(res, record, {
        status: 403,
        code: "AccessDeniedException",
        message: `User: arn:aws:iam::123456789012:user/postern is not authorized to perform: ses:${action}`,
      });

    if (req.method === "GET" && path === "/v2/email/account") {
      if (account.sendOnly) return denied("GetAccount");
      return reply(res, record, 200, {
        DedicatedIpAutoWarmupEnabled: false,
        EnforcementStatus: account.state === "suspended" ? "SHUTDOWN" : "HEALTHY",
        ProductionAccessEnabled: !account.sandbox,
        SendQuota: {
          Max24HourSend: account.max24HourSend,
          MaxSendRate: account.maxSendRate,
          SentLast24Hours: account.sentLast24Hours,
        },
        SendingEnabled: account.state === "active",
      });
    }
    const identityPath = /^\/v2\/email\/identities\/([^/]+)$/.exec(path);
    if (req.method === "GET" && identityPath) {
      if (account.sendOnly) return denied("GetEmailIdentity");
      const identity = decodeURIComponent(identityPath[1]!).toLowerCase();
      const verified = account.region === region && account.verified.includes(identity);
      const pending = account.region === region && account.pending.includes(identity);
      if (!verified && !pending) {
        return fail(res, record, {
          status: 404,
          code: "NotFoundException",
          message: `Email identity ${identity} does not exist.`,
        });
      }
      return reply(res, record, 200, {
        IdentityType: identity.includes("@") ? "EMAIL_ADDRESS" : "DOMAIN",
        FeedbackForwardingStatus: true,
        VerifiedForSendingStatus: verified,
        VerificationStatus: verified ? "SUCCESS" : "PENDING",
        DkimAttributes: { SigningEnabled: verified, Status: verified ? "SUCCESS" : "PENDING" },
      });
    }
    if (req.method !== "POST" || path !== "/v2/email/outbound-emails") {
      return fail(res, record, { status: 404, code: "UnknownOperationException", message: "" });
    }

    inFlight++;
    peakConcurrency = Math.max(peakConcurrency, inFlight);
    try {
      return await sendEmail(res, record, account, region, body);
    } finally {
      inFlight--;
    }
  }

  async function sendEmail(
    res: ServerResponse,
    record: SesRequestRecord,
    account: SesAccount,
    region: string,
    body: Buffer,
  ) {
    if (account.state === "suspended") return fail(res, record, sesErrors.suspended);
    if (account.state === "paused") return fail(res, record, sesErrors.paused);
    let request: {
      FromEmailAddress?: string;
      Destination?: { ToAddresses?: string[] };
      Content?: { Raw?: { Data?: string } };
      ConfigurationSetName?: string;
    };
    try {
      request = JSON.parse(body.toString("utf8"));
    } catch {
      return fail(res, record, {
        status: 400,
        code: "BadRequestException",
        message: "Request body is not valid JSON.",
      });
    }
    const rawData = request.Content?.Raw?.Data;
    if (!rawData)
      return fail(res, record, { status: 400, code: "BadRequestException", message: "Content is required." });
    if (request.ConfigurationSetName && !account.configurationSets.has(request.ConfigurationSetName)) {
      return fail(res, record, {
        status: 404,
        code: "NotFoundException",
        message: `Configuration set <${request.ConfigurationSetName}> does not exist.`,
      });
    }
    const forRecipient = scripted.findIndex(
      (entry) => entry.recipient && request.Destination?.ToAddresses?.includes(entry.recipient),
    );
    if (forRecipient >= 0) return fail(res, record, scripted.splice(forRecipient, 1)[0]!.error);
    const raw = Buffer.from(rawData, "base64").toString("utf8");
    const parsed = await simpleParser(raw);
    const from = parsed.from?.value[0];
    const fromAddress = (request.FromEmailAddress ?? from?.address ?? "").toLowerCase();
    const to = request.Destination?.ToAddresses ?? [];
    if (!from?.address || to.length === 0) {
      return fail(res, record, {
        status: 400,
        code: "BadRequestException",
        message: "Missing final '@domain'",
      });
    }
    const unverified = [
      ...(verifiedIn(account, region, fromAddress) ? [] : [fromAddress]),
      ...(account.sandbox ? to.filter((r) => !verifiedIn(account, region, r)) : []),
    ];
    if (unverified.length > 0) {
      return fail(res, record, {
        status: 400,
        code: "MessageRejected",
        message: `Email address is not verified. The following identities failed the check in region ${region.toUpperCase()}: ${unverified.join(", ")}`,
      });
    }
    const lane = `${account.accessKeyId}/${region}`;
    const window = (recentSends.get(lane) ?? []).filter((at) => now() - at < 1_000);
    if (window.length >= account.maxSendRate) {
      throttled.set(lane, (throttled.get(lane) ?? 0) + 1);
      recentSends.set(lane, window);
      return fail(res, record, sesErrors.throttled);
    }
    if (account.sentLast24Hours + to.length > account.max24HourSend) {
      return fail(res, record, {
        status: 429,
        code: "TooManyRequestsException",
        message: "Daily message quota exceeded.",
      });
    }
    window.push(now());
    recentSends.set(lane, window);
    account.sentLast24Hours += to.length;
    const messageId = `0100018f${randomUUID().replace(/-/g, "").slice(0, 24)}-000000`;
    messages.push({
      messageId,
      accessKeyId: account.accessKeyId,
      region,
      fromEmailAddress: request.FromEmailAddress,
      to,
      configurationSet: request.ConfigurationSetName,
      raw,
      from: { name: from.name, address: from.address },
      subject: parsed.subject ?? "",
      text: parsed.text ?? "",
      headers: parsed.headers,
      acceptedAt: new Date(now()),
    });
    return reply(res, record, 200, { MessageId: messageId });
  }

  const server: Server = createServer(tlsCredentials(options.cert), (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return;
      res.writeHead(500, { "Content-Type": "application/json", "x-amzn-ErrorType": "InternalFailure" });
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
    throttled,
    get peakConcurrency() {
      return peakConcurrency;
    },
    account(accessKeyId) {
      const account = accounts.get(accessKeyId);
      if (!account) throw new Error(`no account ${accessKeyId}`);
      return account;
    },
    addAccount(spec) {
      const account = accountOf(spec);
      accounts.set(spec.accessKeyId, account);
      return account;
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
