import type { TestResult, TestStep, TestStepName } from "../../api/types.ts";
import { Spinner } from "../../components/feedback.tsx";
import { formatDuration, Time } from "../../components/time.tsx";
import "./test-result.css";

const stepLabels: Record<TestStepName, string> = {
  token: "Get an access token",
  permission: "Check the token's permission",
  resolve: "Resolve the host",
  connect: "Connect",
  tls: "Secure the connection (TLS)",
  ehlo: "Greet the server (EHLO)",
  authenticate: "Sign in to the server",
  send: "Send the test email",
};

const smtpSteps: TestStepName[] = ["resolve", "connect", "tls", "ehlo", "authenticate"];

/** What a kind's test goes through before it has been tested once (the test's own order is the server's). */
const firstTestSteps: Record<string, TestStepName[]> = {
  smtp_basic: smtpSteps,
  microsoft: ["token", ...smtpSteps],
};

/**
 * The steps a test goes through, shown as pending while it runs (the API answers once, at the end):
 * those of the last test of the same kind when there is one, else the kind's usual ones, else none.
 */
export function expectedSteps(
  kindId: string,
  sending: boolean,
  lastTest?: TestResult | null,
): TestStepName[] {
  const steps = lastTest
    ? lastTest.steps.map((step) => step.name).filter((name) => name !== "send")
    : (firstTestSteps[kindId] ?? []);
  return sending ? [...steps, "send"] : steps;
}

function StepIcon({ outcome }: { outcome: TestStep["outcome"] | "running" }) {
  if (outcome === "running") return <Spinner />;
  const symbol = outcome === "ok" ? "✓" : outcome === "failed" ? "✕" : "–";
  const label = outcome === "ok" ? "passed" : outcome === "failed" ? "failed" : "skipped";
  return (
    <span className={`step-icon step-icon-${outcome}`} role="img" aria-label={label}>
      {symbol}
    </span>
  );
}

export function TestRunning({ steps, sending }: { steps: TestStepName[]; sending: boolean }) {
  return (
    <div className="test-result" aria-busy="true">
      <div className="test-result-head" role="status">
        {sending ? "Sending a test email…" : "Testing the connection…"}
      </div>
      <ol className="plain-list">
        {steps.map((name) => (
          <li key={name} className="test-step test-step-running">
            <StepIcon outcome="running" />
            <span className="test-step-name">{stepLabels[name]}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

export function TestResultView({ result, title }: { result: TestResult; title?: string }) {
  const failed = result.steps.find((s) => s.outcome === "failed");
  return (
    <div className={`test-result ${result.ok ? "test-result-ok" : "test-result-failed"}`}>
      <div className="test-result-head" role="status">
        <span>
          {title ? `${title}: ` : ""}
          {result.ok
            ? "every step passed"
            : `failed at “${failed ? stepLabels[failed.name] : "an unknown step"}”`}
        </span>
        <span className="test-result-time">
          <Time iso={result.testedAt} />
        </span>
      </div>
      <ol className="plain-list">
        {result.steps.map((step) => (
          <li key={step.name} className={`test-step test-step-${step.outcome}`} data-step={step.name}>
            <StepIcon outcome={step.outcome} />
            <span className="test-step-name">{stepLabels[step.name] ?? step.name}</span>
            <span className="test-step-time">
              {step.outcome === "skipped" ? "skipped" : formatDuration(step.durationMs)}
            </span>
            {step.detail && <span className="test-step-detail">{step.detail}</span>}
            {step.smtpReply && step.smtpReply !== step.detail && (
              <code className="test-step-reply">
                {step.errorClass ? `${step.errorClass} · ` : ""}
                {step.smtpReply}
              </code>
            )}
            {step.hint && !sameWords(step.hint, step.detail) && (
              <span className="test-step-hint">
                <strong>How to fix: </strong>
                {step.hint}
              </span>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

/** A hint that only repeats the error adds nothing: compared without case, spacing or the final stop. */
function sameWords(hint: string, detail: string | undefined): boolean {
  const words = (text: string) =>
    text
      .toLowerCase()
      .replace(/\s+/g, " ")
      .replace(/[.\s]+$/, "")
      .trim();
  return detail !== undefined && words(hint) === words(detail);
}
