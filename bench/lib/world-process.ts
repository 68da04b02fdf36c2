// The bench's "world" process: end users' HTTP clients and the servers mail goes to (SMTP servers, the
// Microsoft and SendGrid fakes, a webhook receiver). It runs apart from the process under test so that
// Postern (or the raw sender it is compared with) has its core to itself, as it would with real users and
// a real mail server elsewhere. Driven over IPC by world.ts.
import http from "node:http";
import type { ReceivedMessage } from "../../test/fakes/mail.ts";
import { MAIL_SEND_SCOPE, type SendgridFake, startSendgridFake } from "../../test/fakes/sendgrid.ts";
import { type SmtpServerFake, startSmtpServer } from "../../test/fakes/smtp-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../test/fakes/webhook-receiver.ts";
import { MAILBOX, type MicrosoftFakes, startMicrosoftFakes } from "../../test/support/microsoft.ts";
import { type GraphFakes, startGraphFakes } from "../../test/support/microsoft-graph.ts";
import { now, sleep } from "./clock.ts";
import type {
  GraphStats,
  LoginLoad,
  LoginLoadResult,
  MicrosoftStats,
  SendgridStats,
  WebhookStats,
  WorldCall,
  WorldCalls,
  WorldReply,
  WorldRequest,
} from "./world-protocol.ts";

/** Recipient → when their (first) email was accepted, by any server. */
const acceptedAt = new Map<string, number>();
const servers: { fake: SmtpServerFake; duplicates: number }[] = [];
const microsoftFakes: { fakes: MicrosoftFakes; duplicates: number }[] = [];
const graphFakes: { fakes: GraphFakes; duplicates: number }[] = [];
const sendgridFakes: { fake: SendgridFake; apiKeys: string[]; duplicates: number }[] = [];
const webhookReceivers: { receiver: WebhookReceiver; duplicates: number }[] = [];

/**
 * Records when each message is accepted. The fakes keep no arrival times, but they push a message
 * right before answering 250, so the push is the accept. Every recipient gets one email, so a second
 * one is a duplicate delivery. Messages are not kept: a long run would otherwise hold them all in memory.
 */
function trackAccepts<T>(
  list: T[],
  onDuplicate: () => void,
  recipientsOf: (message: T) => string[] = (m) => (m as ReceivedMessage).envelope.rcptTo,
): void {
  list.push = (...items: T[]) => {
    const at = now();
    for (const message of items) {
      for (const recipient of recipientsOf(message).map((r) => r.toLowerCase())) {
        if (acceptedAt.has(recipient)) onDuplicate();
        else acceptedAt.set(recipient, at);
      }
    }
    return list.length;
  };
}

/** Keep-alive connections, one pool per client address, as a crowd of browsers would hold them. */
const agent = new http.Agent({ keepAlive: true });

function postJson(
  url: URL,
  headers: Record<string, string>,
  body: string,
  localAddress: string | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: "POST", agent, headers, ...(localAddress ? { localAddress } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

async function postLogins(load: LoginLoad): Promise<LoginLoadResult> {
  const count = load.logins.length;
  const startedAt = new Array<number>(count).fill(Number.NaN);
  const respondedAt = new Array<number>(count).fill(Number.NaN);
  const statuses: Record<string, number> = {};
  let firstFailure: string | undefined;
  const endpoint = new URL("/v1/login/email", load.url);

  const send = async (i: number) => {
    const login = load.logins[i]!;
    const body = JSON.stringify({ email: login.email });
    const headers = {
      authorization: `Bearer ${login.publishableKey}`,
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
    };
    const from = load.sourceAddresses?.[i % load.sourceAddresses.length];
    startedAt[i] = now();
    try {
      const res = await postJson(endpoint, headers, body, from);
      respondedAt[i] = now();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status !== 202) firstFailure ??= `${res.status} ${res.body.slice(0, 300)}`;
    } catch (err) {
      respondedAt[i] = now();
      statuses.error = (statuses.error ?? 0) + 1;
      firstFailure ??= String(err);
    }
  };

  let next = 0;
  if (load.ratePerSecond === undefined) {
    // Closed loop: `concurrency` clients, each sending its next request when the last one answered.
    const client = async () => {
      while (next < count) await send(next++);
    };
    await Promise.all(Array.from({ length: load.concurrency }, client));
  } else {
    const t0 = now();
    const inFlight = new Set<Promise<void>>();
    for (; next < count; next++) {
      const due = t0 + (next * 1000) / load.ratePerSecond;
      if (due > now()) await sleep(due - now());
      if (inFlight.size >= load.concurrency) await Promise.race(inFlight);
      const request = send(next).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
  }
  return { startedAt, respondedAt, statuses, firstFailure };
}

/** Accept times of `recipients` once all have one, or when `timeoutMs` has passed (null: not yet). */
async function acceptedWithin(recipients: string[], timeoutMs: number): Promise<(number | null)[]> {
  const deadline = now() + timeoutMs;
  const keys = recipients.map((r) => r.toLowerCase());
  while (now() <= deadline && keys.some((k) => !acceptedAt.has(k))) await sleep(5);
  return keys.map((k) => acceptedAt.get(k) ?? null);
}

async function awaitAccepted(recipients: string[], timeoutMs: number): Promise<{ acceptedAt: number[] }> {
  const times = await acceptedWithin(recipients, timeoutMs);
  const missing = times.filter((t) => t === null).length;
  if (missing > 0) {
    throw new Error(`${missing} of ${times.length} emails were not accepted within ${timeoutMs} ms`);
  }
  return { acceptedAt: times as number[] };
}

function microsoftStats(exchangePort: number): MicrosoftStats {
  const entry = microsoftFakes.find((m) => m.fakes.exchange.port === exchangePort);
  if (!entry) throw new Error(`no Exchange fake on port ${exchangePort}`);
  const { exchange, identity } = entry.fakes;
  const peak = exchange.maxConcurrentByMailbox.get(MAILBOX) ?? 0;
  // The fake keeps the peak of its whole life; starting it again makes the next call's peak its own.
  exchange.maxConcurrentByMailbox.clear();
  const violations = (limit: "concurrency" | "rate") =>
    exchange.limitViolations.filter((v) => v.limit === limit).length;
  return {
    tokenRequests: identity.tokenRequests,
    connections: exchange.connections,
    peakConnectionsPerMailbox: peak,
    violations: { concurrency: violations("concurrency"), rate: violations("rate") },
    authFailures: exchange.authResults.filter((r) => !r.success).length,
    duplicates: entry.duplicates,
  };
}

function graphStats(graphPort: number): GraphStats {
  const entry = graphFakes.find((g) => g.fakes.graph.port === graphPort);
  if (!entry) throw new Error(`no Graph fake on port ${graphPort}`);
  const { graph, identity } = entry.fakes;
  const peak = graph.peakConcurrency(MAILBOX);
  // The fake keeps the peak of its whole life; starting it again makes the next call's peak its own.
  (graph.maxConcurrent as Map<string, number>).clear();
  return {
    tokenRequests: identity.tokenRequests,
    requests: graph.requestLog.length,
    peakConcurrency: peak,
    throttled: Object.values(graph.throttled).reduce((sum, n) => sum + n, 0),
    duplicates: entry.duplicates,
  };
}

function sendgridStats(port: number): SendgridStats {
  const entry = sendgridFakes.find((s) => s.fake.port === port);
  if (!entry) throw new Error(`no SendGrid fake on port ${port}`);
  const { fake, apiKeys, duplicates } = entry;
  const sends = fake.requestLog.filter((r) => r.path === "/v3/mail/send");
  return {
    requests: sends.length,
    accepted: sends.filter((r) => r.status === 202).length,
    throttled: fake.throttled,
    peakInFlight: Object.fromEntries(apiKeys.map((key) => [key, fake.peakInFlight(key)])),
    duplicates,
  };
}

function webhookReceiver(port: number) {
  const entry = webhookReceivers.find((w) => w.receiver.port === port);
  if (!entry) throw new Error(`no webhook receiver on port ${port}`);
  return entry;
}

function webhookStats(port: number): WebhookStats {
  const { receiver, duplicates } = webhookReceiver(port);
  const { requests } = receiver;
  return {
    requests: requests.length,
    accepted: requests.filter((r) => r.status >= 200 && r.status < 300).length,
    badSignatures: requests.filter((r) => r.status === 401).length,
    // The receiver answers a webhook-id it has seen with 200 and keeps it apart: a retry of a delivered email.
    duplicates: duplicates + receiver.duplicates.length,
  };
}

const handlers: { [K in WorldCall]: (params: WorldCalls[K]["params"]) => Promise<WorldCalls[K]["result"]> } =
  {
    async startSmtp(options) {
      const server = { fake: await startSmtpServer(options), duplicates: 0 };
      trackAccepts(server.fake.messages, () => server.duplicates++);
      servers.push(server);
      return { port: server.fake.port };
    },
    postLogins,
    awaitAccepted: ({ recipients, timeoutMs }) => awaitAccepted(recipients, timeoutMs),
    acceptedWithin: async ({ recipients, timeoutMs }) => ({
      acceptedAt: await acceptedWithin(recipients, timeoutMs),
    }),
    async smtpStats({ port }) {
      const server = servers.find((s) => s.fake.port === port);
      if (!server) throw new Error(`no SMTP server on port ${port}`);
      return {
        connections: server.fake.connections,
        peakConnections: server.fake.maxConcurrentConnections,
        duplicates: server.duplicates,
      };
    },
    async startMicrosoft({ limits }) {
      const entry = { fakes: await startMicrosoftFakes({ limits }), duplicates: 0 };
      trackAccepts(entry.fakes.exchange.messages, () => entry.duplicates++);
      microsoftFakes.push(entry);
      return {
        exchangePort: entry.fakes.exchange.port,
        identityPort: entry.fakes.identity.port,
        env: entry.fakes.env,
        provider: entry.fakes.providerBody(),
      };
    },
    microsoftStats: async ({ exchangePort }) => microsoftStats(exchangePort),
    async startGraph({ limits, latencyMs }) {
      const entry = { fakes: await startGraphFakes({ limits }), duplicates: 0 };
      entry.fakes.graph.setLatency(latencyMs);
      trackAccepts(
        entry.fakes.graph.messages,
        () => entry.duplicates++,
        (m) => m.to.map((r) => r.address),
      );
      graphFakes.push(entry);
      return {
        graphPort: entry.fakes.graph.port,
        graphUrl: entry.fakes.graph.url,
        identityPort: entry.fakes.identity.port,
        env: entry.fakes.env,
        provider: entry.fakes.providerBody(),
      };
    },
    graphStats: async ({ graphPort }) => graphStats(graphPort),
    async startSendgrid({ apiKeys, senderDomain, latencyMs }) {
      // The fake's window of 1,000 requests a second per key goes: the run measures the senders, not it.
      const fake = await startSendgridFake({ requestsPerSecond: 1_000_000 });
      fake.setLatency(latencyMs);
      for (const key of apiKeys) {
        fake.addKey(key, { scopes: [MAIL_SEND_SCOPE], domains: [{ domain: senderDomain, valid: true }] });
      }
      const entry = { fake, apiKeys, duplicates: 0 };
      trackAccepts(
        fake.messages,
        () => entry.duplicates++,
        (m) => m.to,
      );
      sendgridFakes.push(entry);
      return { port: fake.port, url: fake.url };
    },
    sendgridStats: async ({ port }) => sendgridStats(port),
    async startWebhook() {
      const entry = { receiver: await startWebhookReceiver(), duplicates: 0 };
      // The receiver pushes a delivery once it has verified it, right before answering 200.
      trackAccepts(
        entry.receiver.deliveries,
        () => entry.duplicates++,
        (d) => [String(d.payload.to)],
      );
      webhookReceivers.push(entry);
      return { port: entry.receiver.port, url: entry.receiver.url };
    },
    async webhookSecrets({ port, secrets }) {
      webhookReceiver(port).receiver.secrets = secrets;
      return {};
    },
    webhookStats: async ({ port }) => webhookStats(port),
    async usage() {
      const cpu = process.cpuUsage();
      return { cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: process.memoryUsage.rss() };
    },
  };

function dispatch(request: WorldRequest): Promise<WorldCalls[WorldCall]["result"]> {
  // The union is correlated by `call`; TypeScript cannot see that through an index, hence the cast.
  const handler = handlers[request.call] as (
    params: WorldRequest["params"],
  ) => Promise<WorldCalls[WorldCall]["result"]>;
  return handler(request.params);
}

process.on("message", (request: WorldRequest) => {
  dispatch(request).then(
    (result) => process.send?.({ id: request.id, ok: true, result } satisfies WorldReply),
    (err: unknown) =>
      process.send?.({
        id: request.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies WorldReply),
  );
});
// The parent closing the channel ends the world: no servers left listening after a crashed run.
process.on("disconnect", () => {
  Promise.all([
    ...servers.map((s) => s.fake.close()),
    ...microsoftFakes.map((m) => m.fakes.close()),
    ...graphFakes.map((g) => g.fakes.close()),
    ...sendgridFakes.map((s) => s.fake.close()),
    ...webhookReceivers.map((w) => w.receiver.close()),
  ]).finally(() => process.exit(0));
});
