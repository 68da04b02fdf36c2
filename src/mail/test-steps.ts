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
