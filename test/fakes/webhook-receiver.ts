// A developer's webhook endpoint, as the README tells developers to write one: HTTPS (the test CA), every
// request verified with the Standard Webhooks reference library (`new Webhook(secret).verify(payload,
// headers)`, which also refuses a timestamp more than 5 minutes off), deliveries deduplicated by
// webhook-id, 2xx for what it accepts. Tests can script its answers (status, Retry-After, a redirect, a
// stall past the sender's timeout) and point it at the secrets it verifies with.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { Socket } from "node:net";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import { waitForCount } from "./mail.ts";

/** One request as it arrived: the raw body and headers, before anything was verified. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  rawBody: string;
  at: Date;
  /** What the receiver answered. */
  status: number;
  /** Why it refused it, when the library did (its error message). */
  refusal?: string;
}

/** A login email the receiver verified and accepted (once per webhook-id). */
export interface AcceptedDelivery {
  webhookId: string;
  headers: Record<string, string>;
  rawBody: string;
  payload: Record<string, unknown> & { type: string; to?: string; subject?: string; deliveryId?: string };
}

/** A scripted answer for the next request(s), instead of verifying. */
export interface ScriptedReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (longer than the sender's timeout: a stall). */
  delayMs?: number;
}

export interface WebhookReceiver {
  readonly port: number;
  /** https://localhost:<port>/hook */
  readonly url: string;
  /** The secrets it verifies with: one match among them (and the signatures) accepts. */
  secrets: string[];
  /** Answers for the next requests, in order, before any verification. */
  readonly replies: ScriptedReply[];
  readonly requests: ReceivedRequest[];
  readonly deliveries: AcceptedDelivery[];
  /** Verified deliveries whose webhook-id was seen before: answered 200, not accepted again. */
  readonly duplicates: string[];
  readonly pings: number;
  waitForDeliveries(n: number, timeoutMs?: number): Promise<AcceptedDelivery[]>;
  close(): Promise<void>;
}

const lowerCased = (headers: IncomingMessage["headers"]) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(", ") : (value ?? ""),
    ]),
  );

export async function startWebhookReceiver(
  options: { secrets?: string[]; cert?: CertChoice; path?: string } = {},
): Promise<WebhookReceiver> {
  const path = options.path ?? "/hook";
  const sockets = new Set<Socket>();
  const seen = new Set<string>();
  const receiver = {
    port: 0,
    url: "",
    secrets: options.secrets ?? [],
    replies: [] as ScriptedReply[],
    requests: [] as ReceivedRequest[],
    deliveries: [] as AcceptedDelivery[],
    duplicates: [] as string[],
    pings: 0,
  };

  const answer = (
    res: ServerResponse,
    record: ReceivedRequest,
    status: number,
    body: object,
    refusal?: string,
  ) => {
    record.status = status;
    if (refusal) record.refusal = refusal;
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, rawBody: string) => {
    const headers = lowerCased(req.headers);
    const record: ReceivedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      rawBody,
      at: new Date(),
      status: 0,
    };
    receiver.requests.push(record);
    const scripted = receiver.replies.shift();
    if (scripted) {
      if (scripted.delayMs) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
      record.status = scripted.status;
      if (!res.destroyed) res.writeHead(scripted.status, scripted.headers ?? {}).end(scripted.body ?? "");
      return;
    }
    if (req.url !== path) return answer(res, record, 404, { error: "not found" });
    if (req.method !== "POST") return answer(res, record, 405, { error: "method not allowed" });
    let payload: AcceptedDelivery["payload"] | undefined;
    let refusal = "no secret configured";
    for (const secret of receiver.secrets) {
      try {
        payload = new Webhook(secret).verify(rawBody, headers) as AcceptedDelivery["payload"];
        break;
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        refusal = err.message;
      }
    }
    if (!payload) return answer(res, record, 401, { error: refusal }, refusal);
    if (payload.type === "ping") {
      receiver.pings++;
      return answer(res, record, 200, { pong: true });
    }
    const webhookId = headers["webhook-id"]!;
    if (seen.has(webhookId)) {
      receiver.duplicates.push(webhookId);
      return answer(res, record, 200, { duplicate: true });
    }
    seen.add(webhookId);
    receiver.deliveries.push({ webhookId, headers, rawBody, payload });
    return answer(res, record, 200, { accepted: true });
  };

  const server = createServer(tlsCredentials(options.cert), (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "localhost", resolve));
  const address = server.address();
  receiver.port = typeof address === "object" && address ? address.port : 0;
  receiver.url = `https://localhost:${receiver.port}${path}`;
  return Object.assign(receiver, {
    waitForDeliveries: (n: number, timeoutMs = 20_000) => waitForCount(receiver.deliveries, n, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}
