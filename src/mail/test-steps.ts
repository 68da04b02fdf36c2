import { isPublicAddress } from "../security/outbound-guard.ts";
import type { ClassifiedError, ErrorClass } from "./smtp-errors.ts";

/**
 * The steps of a connection test, in the order a transport may run them: SMTP's dialogue (resolve →
 * connect → TLS → EHLO → authenticate), a token from the identity provider, the permission a token
 * carries, and the test email itself.
 */
export const STEP_NAMES = [
  "token",
  "permission",
  "resolve",
  "connect",
  "tls",
  "ehlo",
  "authenticate",
  "send",
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface TestStep {
  name: StepName;
  outcome: "ok" | "failed" | "skipped";
  durationMs: number;
  detail?: string;
  hint?: string;
  errorClass?: ErrorClass;
  /** The server's reply (an SMTP reply line, or an HTTP status and error code). */
  smtpReply?: string;
}

/** Turns a failure into a step with a hint a developer can act on; `explain` lets a kind add its own. */
export type Explain = (error: ClassifiedError, step: StepName) => string | undefined;

export async function timed<T>(
  run: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; durationMs: number }> {
  const started = performance.now();
  try {
    const value = await run();
    return { value, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { error, durationMs: Math.round(performance.now() - started) };
  }
}

/** A failed step, and the rest of `order` after it reported as skipped. */
export function failedStep(
  name: StepName,
  error: ClassifiedError,
  durationMs: number,
  hint: string | undefined,
  rest: readonly StepName[] = [],
): TestStep[] {
  return [
    {
      name,
      outcome: "failed",
      durationMs,
      detail: error.message,
      errorClass: error.errorClass,
      ...(error.smtpReply ? { smtpReply: error.smtpReply } : {}),
      ...(hint ? { hint } : {}),
    },
    ...rest.map((skipped) => ({ name: skipped, outcome: "skipped" as const, durationMs: 0 })),
  ];
}

/**
 * Whether a test step may show the address a host resolved to. A private address (an allowlisted
 * destination's, the operator's endpoint's) is not shown: developers would learn the internal network
 * from it. A literal the developer typed (no server name) is theirs to see.
 */
export const addressShown = (checked: { address: string; servername: string | undefined }): boolean =>
  checked.servername === undefined || isPublicAddress(checked.address);

/** The resolve step that passed. */
export function resolvedStep(
  host: string,
  checked: { address: string; servername: string | undefined },
  durationMs: number,
): TestStep {
  return {
    name: "resolve",
    outcome: "ok",
    durationMs,
    detail: addressShown(checked)
      ? `${host} → ${checked.address}`
      : `${host} → an address the operator allows`,
  };
}

/** The test email's step: accepted by `service` (or the transport's own note), or failed with its hint. */
export async function testEmailStep(
  send: () => Promise<{ note?: string | undefined; smtpReply?: string | undefined }>,
  service: string,
  errorOf: (err: unknown) => ClassifiedError,
  hint: (error: ClassifiedError) => string | undefined,
): Promise<TestStep[]> {
  const sent = await timed(send);
  if (!sent.value) {
    const error = errorOf(sent.error);
    return failedStep("send", error, sent.durationMs, hint(error));
  }
  return [
    {
      name: "send",
      outcome: "ok",
      durationMs: sent.durationMs,
      detail: sent.value.note ?? `Accepted by ${service}.`,
      smtpReply: sent.value.smtpReply,
    },
  ];
}
