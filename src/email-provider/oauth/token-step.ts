import type { TokenSource } from "../../mail/smtp-pool.ts";
import type { TestStep } from "../../mail/test-steps.ts";
import { TokenError } from "./token-error.ts";

/**
 * A connection test's token step: asks the identity provider for a token (the later steps reuse it,
 * from the same token source) and reads what the token shows to be wrong (e.g. a permission without
 * admin consent), as a failed step with its fix.
 */
export async function tokenStep(
  tokens: TokenSource,
  tokenProblem: (accessToken: string) => { summary: string; hint: string } | undefined,
): Promise<TestStep[]> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const token = await tokens.getToken(false);
    const durationMs = elapsed();
    const problem = tokenProblem(token.accessToken);
    if (problem) {
      return [
        {
          name: "token",
          outcome: "failed",
          durationMs,
          detail: problem.summary,
          hint: problem.hint,
          errorClass: "token",
        },
      ];
    }
    return [
      {
        name: "token",
        outcome: "ok",
        durationMs,
        detail: `Token issued, valid until ${new Date(token.expiresAt).toISOString()}`,
      },
    ];
  } catch (err) {
    const error =
      err instanceof TokenError ? err : new TokenError("token", "The token request failed.", undefined);
    return [
      {
        name: "token",
        outcome: "failed",
        durationMs: elapsed(),
        detail: error.summary,
        errorClass: error.errorClass,
        ...(error.hint ? { hint: error.hint } : {}),
      },
    ];
  }
}
