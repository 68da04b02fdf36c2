import { useEffect, useState } from "react";
import "./copy-button.css";

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-HTTP dashboards (a LAN address) have no Clipboard API: fall back to a selected textarea.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("copy refused");
}

export function CopyButton({
  text,
  label = "Copy",
  describe,
  className = "btn btn-secondary btn-sm",
}: {
  text: string;
  label?: string;
  /** What is copied, for screen readers: "Copy publishable key". */
  describe?: string;
  className?: string;
}) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = window.setTimeout(() => setState("idle"), 2000);
    return () => window.clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      className={className}
      aria-label={describe && state === "idle" ? `${label} ${describe}` : undefined}
      data-copied={state === "copied" ? "true" : undefined}
      onClick={() => {
        copyText(text).then(
          () => setState("copied"),
          () => setState("failed"),
        );
      }}
    >
      <span aria-live="polite">
        {state === "copied" ? "Copied" : state === "failed" ? "Press Ctrl+C" : label}
      </span>
    </button>
  );
}

/** A monospaced value (a key, a command) with a copy button beside it. */
export function CopyField({ value, describe }: { value: string; describe: string }) {
  return (
    <div className="copy-field">
      <code className="copy-field-value">{value}</code>
      <CopyButton text={value} describe={describe} />
    </div>
  );
}

export function CodeBlock({
  code,
  describe,
  language,
}: {
  code: string;
  describe: string;
  language?: string;
}) {
  return (
    <div className="code-block">
      <div className="code-block-bar">
        <span className="code-block-lang">{language ?? ""}</span>
        <CopyButton text={code} describe={describe} />
      </div>
      {/* Long lines scroll sideways on a phone: the block is a named, focusable region so a keyboard
          can reach and scroll it (WCAG 2.1.1); a <section> cannot stand in for the <pre> that scrolls. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: see above */}
      {/* biome-ignore lint/a11y/useSemanticElements: see above */}
      <pre tabIndex={0} role="region" aria-label={describe}>
        <code>{code}</code>
      </pre>
    </div>
  );
}
