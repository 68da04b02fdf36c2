import type { OutgoingEmail, SendResult } from "../../../mail/sender.ts";
import { type ClassifiedError, classified, type ErrorClass } from "../../../mail/smtp-errors.ts";
import type { ConnectionGate } from "../../../mail/smtp-pool.ts";
import { failedStep, type StepName, type TestStep, testEmailStep, timed } from "../../../mail/test-steps.ts";
import { DeliveryError, type Transport } from "../../../mail/transport.ts";
import {
  type ApiMeaning,
  type ApiReply,
  ApiReplyError,
  replyFailure,
  replyFromLine,
  replyLine,
} from "./replies.ts";

/** Connect, TLS and the answer together; the vendors answer a send in well under a second when well. */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface Endpoint {
  host: string;
  port: number;
}

/** Host and port of an operator's https:// base URL. */
export function endpointOf(url: string): Endpoint {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 443) };
}

/** A check of a connection test that does not send: its outcome and what it found. */
export interface CheckResult {
  outcome: "ok" | "skipped";
  detail: string;
  hint?: string | undefined;
}

/**
 * One vendor's API behind the transport contract. The vendor's module speaks its SDK; a request the API
 * answered with an error is thrown as an ApiReplyError, anything else (no answer) as it came.
 */
export interface EmailApi {
  /** "SendGrid": the name messages use. */
  vendor: string;
  /** Where the messages go (the operator's base URL), for failures on the way. */
  endpoint: Endpoint;
  /** What the vendor calls its request or message id in a reply line ("x-message-id"). */
  idName: string;
  submit(email: OutgoingEmail, signal: AbortSignal): Promise<SendResult>;
  /** The connection test's checks that send nothing, in order (e.g. authenticate, then permission). */
  checks: { name: StepName; run(signal: AbortSignal): Promise<CheckResult> }[];
  /** Said in the skipped send step when the test sends no email. */
  noSendDetail: string;
  interpret(reply: ApiReply): ApiMeaning;
  /** The fix for a failure that got no answer (network, TLS, timeout). */
  unreachableHint: string;
  /** Requests this process starts per second at most (a vendor's per-second limit, e.g. Resend's). */
  requestsPerSecond?: number | undefined;
  close?(): Promise<void>;
}

/**
 * Spaces request starts in this process: at most `perSecond` of them in any second, with a tenth to
 * spare, because the vendor counts arrivals and the network delays some requests more than others.
 */
function pacer(perSecond: number | undefined) {
  if (!perSecond) return async () => {};
  const interval = 1100 / perSecond;
  let next = 0;
  return async () => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + interval;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

/** Node's and undici's codes for a failure on the way, from the error or the cause it wraps. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const e = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.code === "string") codes.push(e.code);
    if (typeof e.name === "string") codes.push(e.name);
    current = e.cause;
  }
  return codes;
}

type Reason = NonNullable<ClassifiedError["cause"]>["reason"];

const TLS_CODE =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME_MISMATCH/;

/**
 * A request that got no answer, in words: only the errno-style codes are read, never the client's error
 * text or object (axios errors carry the request's headers, the API key among them).
 */
export function unansweredFailure(err: unknown, vendor: string, endpoint: Endpoint): ClassifiedError {
  const codes = codesOf(err);
  const where = `${vendor} at ${endpoint.host}:${endpoint.port}`;
  let errorClass: ErrorClass = "network";
  let reason: Reason = "other";
  let message = `Could not reach ${where}: the connection failed.`;
  if (codes.some((c) => TLS_CODE.test(c))) {
    errorClass = "tls";
    reason = "tls";
    message = `The TLS certificate of ${where} is not trusted or does not match its name.`;
  } else if (
    codes.some((c) =>
      ["TimeoutError", "AbortError", "ETIMEDOUT", "ECONNABORTED", "UND_ERR_CONNECT_TIMEOUT"].includes(c),
    )
  ) {
    errorClass = "timeout";
    reason = "timeout";
    message = `${where} did not answer in time.`;
  } else {
    const words: Record<string, [Reason, string]> = {
      ECONNREFUSED: ["refused", "the connection was refused"],
      ENOTFOUND: ["dns", "the host name did not resolve"],
      EAI_AGAIN: ["dns", "the host name did not resolve"],
      ECONNRESET: ["reset", "the connection was reset"],
      UND_ERR_SOCKET: ["reset", "the connection was reset"],
      EPIPE: ["reset", "the connection was reset"],
      EHOSTUNREACH: ["unreachable", "the host is unreachable"],
      ENETUNREACH: ["unreachable", "the host is unreachable"],
    };
    const known = codes.map((c) => words[c]).find(Boolean);
    if (known) {
      reason = known[0];
      message = `Could not reach ${where}: ${known[1]}.`;
    }
  }
  return { ...classified(errorClass, message), cause: { host: endpoint.host, port: endpoint.port, reason } };
}

/** Every failure of a request classified once: the vendor's answer through its meaning, or no answer. */
export function failureOf(api: EmailApi, err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (!(err instanceof ApiReplyError))
    return new DeliveryError(unansweredFailure(err, api.vendor, api.endpoint));
  const { reply } = err;
  return replyFailure(api.interpret(reply), reply, replyLine(reply, api.idName));
}

/**
 * An HTTP email API as a Transport: one request per email, paced in this process where the vendor limits
 * requests per second, admitted by the sender's lane (shared by every process), and every failure
 * classified once with its fix. The connection test runs the vendor's checks that send nothing.
 */
export function emailApiTransport(api: EmailApi, gate?: ConnectionGate): Transport {
  const pace = pacer(api.requestsPerSecond);

  async function send(email: OutgoingEmail): Promise<SendResult> {
    // The lane's connection lease stands for one request in flight (routing took it with the slot).
    const admission = await gate?.open();
    try {
      await pace();
      return await api.submit(email, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    } catch (err) {
      throw failureOf(api, err);
    } finally {
      admission?.release();
    }
  }

  async function probe({ email }: { email?: OutgoingEmail | undefined }): Promise<TestStep[]> {
    const steps: TestStep[] = [];
    const remaining = [...api.checks.map((c) => c.name), "send" as const];
    for (const check of api.checks) {
      remaining.shift();
      const result = await timed(() => check.run(AbortSignal.timeout(REQUEST_TIMEOUT_MS)));
      if (result.value) {
        steps.push({
          name: check.name,
          outcome: result.value.outcome,
          durationMs: result.durationMs,
          detail: result.value.detail,
          ...(result.value.hint ? { hint: result.value.hint } : {}),
        });
        continue;
      }
      const failure = failureOf(api, result.error).classified;
      return [
        ...steps,
        ...failedStep(check.name, failure, result.durationMs, hintOf(api, failure), remaining),
      ];
    }
    if (!email)
      return [...steps, { name: "send", outcome: "skipped", durationMs: 0, detail: api.noSendDetail }];
    return [
      ...steps,
      ...(await testEmailStep(
        () => send(email),
        api.vendor,
        (err) => failureOf(api, err).classified,
        (failure) => hintOf(api, failure),
      )),
    ];
  }

  return { send, probe, close: async () => api.close?.() };
}

const hintOf = (api: EmailApi, failure: ClassifiedError) =>
  explainApiFailure(failure, api.interpret, api.unreachableHint);

/**
 * The fix for a failed request, from what the delivery log stored (its reply line and class), so a
 * stored attempt reads as the send and Test connection did; a failure without an answer gets the vendor's
 * reachability hint.
 */
export function explainApiFailure(
  error: ClassifiedError,
  interpret: (reply: ApiReply) => ApiMeaning,
  unreachableHint: string,
): string | undefined {
  return explainHttpsFailure(error, {
    readReply: replyFromLine,
    interpret,
    untrustedHint: unreachableHint,
    unreachableHint,
  });
}

/** How an HTTPS API kind reads back its stored replies and what it says when none came. */
export interface HttpsFailureHints<Reply> {
  /** The kind's reply line read back; undefined for anything else. */
  readReply(line: string | undefined): Reply | undefined;
  interpret(reply: Reply): { fix?: string | undefined };
  /** The fix for a certificate Postern did not trust (a TLS-inspecting proxy, most often). */
  untrustedHint: string;
  /** The fix for a request that got no answer (network, timeout, blocked by the outbound guard). */
  unreachableHint: string;
}

/**
 * The fix for a failed request of any HTTPS API kind (its own reply format included, as Mailgun's and
 * SES's): the reply's meaning when the stored line is one, else the hint for the kind of failure.
 */
export function explainHttpsFailure<Reply>(
  error: ClassifiedError,
  hints: HttpsFailureHints<Reply>,
): string | undefined {
  const reply = hints.readReply(error.smtpReply);
  if (reply) return hints.interpret(reply).fix;
  if (error.errorClass === "tls") return hints.untrustedHint;
  if (["network", "timeout", "blocked"].includes(error.errorClass)) return hints.unreachableHint;
  return undefined;
}
