import { createHash } from "node:crypto";
import https from "node:https";
import type { OutgoingEmail } from "../../../mail/sender.ts";
import {
  addressShown,
  type Explain,
  failedStep,
  resolvedStep,
  type StepName,
  type TestStep,
  timed,
} from "../../../mail/test-steps.ts";
import { DeliveryError, type Transport } from "../../../mail/transport.ts";
import type { HostResolver, OutboundPolicy } from "../../../security/outbound-guard.ts";
import { randomId } from "../../../security/tokens.ts";
import {
  checkEndpoint,
  connectTcp,
  type EndpointResponse,
  endpointOf,
  handshake,
  postJson,
  type WebhookEndpoint,
} from "./endpoint.ts";
import { classifyFailure, classifyResponse, retryAfterSeconds, statusLine } from "./replies.ts";
import { type SigningState, signedHeaders, signersOf, signingSecrets } from "./signing-secrets.ts";

/** What one webhook provider sends to: its URL, its signing state and the open secrets. */
export interface WebhookTarget {
  url: string;
  signing: SigningState;
  secrets: Record<string, string>;
  /** The app whose emails these are, told to the endpoint (one endpoint may serve several apps). */
  appId: string | undefined;
}

export interface WebhookTransportOptions {
  policy: OutboundPolicy;
  now(): Date;
  timeoutMs: number;
  explain: Explain;
  /** DNS for the outbound guard (the system's; tests pass their own). */
  resolve?: HostResolver | undefined;
  /** Requests at once to one endpoint from this process. */
  maxSockets?: number;
}

/**
 * The JSON body of a login email: what the recipient gets anyway (addresses, subject, the composed text
 * and HTML) and the ids to match it with Postern's delivery log — nothing else, no key, no secret.
 */
export function loginEmailPayload(email: OutgoingEmail, appId: string | undefined, test = false) {
  return {
    type: "login_email" as const,
    ...(test ? { test: true } : {}),
    appId: appId ?? null,
    deliveryId: deliveryIdOf(email.messageId),
    messageId: email.messageId,
    to: email.to,
    from: { name: email.from.name, address: email.from.address },
    ...(email.replyTo ? { replyTo: email.replyTo } : {}),
    ...(email.language ? { language: email.language } : {}),
    subject: email.subject,
    text: email.text,
    html: email.html,
  };
}

/**
 * The delivery id inside `<id@domain>` (src/mail/sender.ts messageIdFor): the delivery log's id, the same
 * for every try of one email, so it is the webhook-id receivers dedupe by. Standard Webhooks signs
 * `id.timestamp.body`, so the id holds no dot; an unexpected Message-ID is hashed instead.
 */
export function deliveryIdOf(messageId: string): string {
  const id = /^<([A-Za-z0-9_-]+)@/.exec(messageId)?.[1];
  return id ?? `msg_${createHash("sha256").update(messageId).digest("base64url").slice(0, 24)}`;
}

/** Checks the endpoint's address again, then POSTs the payload signed by every secret that signs now. */
async function signedPost(
  endpoint: WebhookEndpoint,
  target: WebhookTarget,
  options: WebhookTransportOptions,
  webhookId: string,
  payload: unknown,
  agent?: https.Agent,
): Promise<EndpointResponse> {
  const checked = await checkEndpoint(endpoint, options.policy, options.resolve);
  const body = JSON.stringify(payload);
  const at = options.now();
  const signers = signersOf(signingSecrets(target.signing, target.secrets, at));
  return postJson(endpoint, checked, body, signedHeaders(signers, webhookId, at, body), {
    timeoutMs: options.timeoutMs,
    agent,
  });
}

const accepted = (response: EndpointResponse) => response.status >= 200 && response.status < 300;

/**
 * The signed webhook behind the transport contract: each send checks the endpoint's address again (a
 * changed DNS answer cannot point it inside), then POSTs over a keep-alive connection pinned to it.
 */
export function webhookTransport(target: WebhookTarget, options: WebhookTransportOptions): Transport {
  const endpoint = endpointOf(target.url);
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 10 });

  return {
    async send(email) {
      let response: EndpointResponse;
      try {
        const payload = loginEmailPayload(email, target.appId);
        response = await signedPost(endpoint, target, options, deliveryIdOf(email.messageId), payload, agent);
      } catch (err) {
        throw new DeliveryError(classifyFailure(err, endpoint));
      }
      if (accepted(response)) {
        return {
          messageId: email.messageId,
          smtpReply: statusLine(response),
          note: "Accepted by your webhook endpoint, which sends the email on.",
        };
      }
      throw new DeliveryError(classifyResponse(response, endpoint), {
        retryAfterSeconds: retryAfterSeconds(response, options.now()),
      });
    },
    probe: ({ email }) => probeEndpoint(endpoint, target, options, email),
    async close() {
      agent.destroy();
    },
  };
}

const ORDER: StepName[] = ["resolve", "connect", "tls", "authenticate", "send"];

/**
 * Test connection: resolve → connect → TLS → a signed `{"type":"ping"}` POST (it proves the URL, the
 * certificate and — where the endpoint verifies before it answers — the signature) → the test email, only
 * when one is asked for. A ping answered with another 4xx passes: the endpoint was reached and may simply
 * not know pings. The ping is what lets the scheduled probe of a failing provider tell a fixed endpoint
 * from one still answering 401 or 404: a probe that stopped at TLS would call it working, release the
 * waiting emails into the same refusal, and flap.
 */
async function probeEndpoint(
  endpoint: WebhookEndpoint,
  target: WebhookTarget,
  options: WebhookTransportOptions,
  email: OutgoingEmail | undefined,
): Promise<TestStep[]> {
  const steps: TestStep[] = [];
  const fail = (name: StepName, error: ReturnType<typeof classifyFailure>, durationMs: number) => [
    ...steps,
    ...failedStep(
      name,
      error,
      durationMs,
      options.explain(error, name),
      ORDER.slice(ORDER.indexOf(name) + 1),
    ),
  ];

  const resolved = await timed(() => checkEndpoint(endpoint, options.policy, options.resolve));
  if (resolved.error) return fail("resolve", classifyFailure(resolved.error, endpoint), resolved.durationMs);
  const checked = resolved.value!;
  const shown = addressShown(checked);
  steps.push(resolvedStep(endpoint.host, checked, resolved.durationMs));

  const connected = await timed(() => connectTcp(checked, options.timeoutMs));
  if (connected.error)
    return fail("connect", classifyFailure(connected.error, endpoint), connected.durationMs);
  steps.push({
    name: "connect",
    outcome: "ok",
    durationMs: connected.durationMs,
    detail: shown ? `TCP ${checked.address}:${endpoint.port}` : `TCP port ${endpoint.port}`,
  });

  const secured = await timed(() => handshake(connected.value!, checked, options.timeoutMs));
  if (secured.error) return fail("tls", classifyFailure(secured.error, endpoint), secured.durationMs);
  const socket = secured.value!;
  steps.push({
    name: "tls",
    outcome: "ok",
    durationMs: secured.durationMs,
    detail: `${socket.getProtocol() ?? "TLS"}, a trusted certificate for ${endpoint.host}`,
  });

  const pinged = await timed(async () => {
    const body = JSON.stringify({ type: "ping", appId: target.appId ?? null });
    const at = options.now();
    const signers = signersOf(signingSecrets(target.signing, target.secrets, at));
    return postJson(endpoint, checked, body, signedHeaders(signers, randomId("ping"), at, body), {
      timeoutMs: options.timeoutMs,
      socket,
    });
  });
  socket.destroy();
  if (pinged.error) return fail("authenticate", classifyFailure(pinged.error, endpoint), pinged.durationMs);
  const ping = pinged.value!;
  const pingError = accepted(ping) ? undefined : classifyResponse(ping, endpoint);
  if (pingError && pingError.errorClass !== "permanent")
    return fail("authenticate", pingError, pinged.durationMs);
  steps.push({
    name: "authenticate",
    outcome: "ok",
    durationMs: pinged.durationMs,
    smtpReply: statusLine(ping),
    detail: pingError
      ? `Your endpoint answered the signed ping with ${statusLine(ping)}: it is reachable, but answer 2xx to {"type":"ping"} after verifying the signature, so this step proves the secret too.`
      : `Your endpoint accepted a signed ping (${statusLine(ping)}).`,
  });

  if (!email) {
    steps.push({
      name: "send",
      outcome: "skipped",
      durationMs: 0,
      detail:
        "Your endpoint gets a login email only when a user logs in, or when you ask for a test email here.",
    });
    return steps;
  }
  const payload = loginEmailPayload(email, target.appId, true);
  const sent = await timed(() =>
    signedPost(endpoint, target, options, deliveryIdOf(email.messageId), payload),
  );
  if (sent.error) return fail("send", classifyFailure(sent.error, endpoint), sent.durationMs);
  const answer = sent.value!;
  if (!accepted(answer)) return fail("send", classifyResponse(answer, endpoint), sent.durationMs);
  steps.push({
    name: "send",
    outcome: "ok",
    durationMs: sent.durationMs,
    smtpReply: statusLine(answer),
    detail: `Your endpoint accepted the signed test email to ${email.to} (${statusLine(answer)}).`,
  });
  return steps;
}
