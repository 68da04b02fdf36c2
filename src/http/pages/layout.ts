import type { FastifyReply } from "fastify";
import { type Html, html, trustedHtml } from "./html.ts";
import type { Messages } from "./messages.ts";

/** What an app shows of itself on the pages its end users see. */
export interface Branding {
  name: string;
  logoUrl?: string | null | undefined;
  /** `#rrggbb`; the buttons' colour. */
  accentColor?: string | null | undefined;
}

export const POSTERN_BRANDING: Branding = { name: "Postern" };
const DEFAULT_ACCENT = "#1d4ed8";

/** WCAG 2.x relative luminance of an `#rrggbb` colour. */
function luminance(hex: string): number {
  const channel = (offset: number) => {
    const c = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

const contrast = (a: number, b: number) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

/** The button text colour that reads best on the accent (white or near-black), so any accent stays legible. */
export function textOn(accent: string): string {
  const l = luminance(accent);
  return contrast(l, 1) >= contrast(l, luminance("#111827")) ? "#ffffff" : "#111827";
}

const styles = (accent: string) => `
:root{--accent:${accent};--on-accent:${textOn(accent)};--text:#111827;--muted:#4b5563;--line:#d1d5db;--error:#b42318;--error-bg:#fef3f2;--ok:#067647;--ok-bg:#ecfdf3;--info-bg:#eff6ff}
*{box-sizing:border-box}
html{font-family:ui-sans-serif,system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--text);background:#f3f4f6;line-height:1.5;-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;padding:2rem 1rem}
header.brand{display:flex;align-items:center;gap:.75rem;width:100%;max-width:28rem;margin:0 0 1rem;font-weight:600;font-size:1.05rem}
header.brand img{max-height:2.5rem;max-width:10rem;object-fit:contain}
.badge{display:inline-grid;place-items:center;width:2.5rem;height:2.5rem;border-radius:.6rem;background:var(--accent);color:var(--on-accent);font-weight:700}
main{width:100%;max-width:28rem;background:#fff;border:1px solid var(--line);border-radius:1rem;padding:2rem 1.5rem;box-shadow:0 1px 2px rgba(0,0,0,.05)}
@media (min-width:640px){main{padding:2.5rem 2.25rem}body{padding-top:4rem}}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 .75rem}
p{margin:0 0 1rem}
.lead{color:var(--muted)}
form{margin:0}
label{display:block;font-weight:600;margin:0 0 .35rem}
.hint{display:block;color:var(--muted);font-size:.9rem;margin:0 0 .5rem}
input[type=email],input[type=text]{display:block;width:100%;font:inherit;font-size:1.1rem;padding:.7rem .8rem;border:1px solid #6b7280;border-radius:.5rem;background:#fff;color:var(--text)}
input.code{letter-spacing:.35em;font-variant-numeric:tabular-nums;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
input[aria-invalid=true]{border-color:var(--error);border-width:2px}
.field{margin:0 0 1.25rem}
.field-error{color:var(--error);font-weight:600;margin:.4rem 0 0}
button,.button{display:inline-flex;justify-content:center;align-items:center;width:100%;min-height:2.9rem;font:inherit;font-weight:600;padding:.65rem 1rem;border-radius:.5rem;border:2px solid var(--accent);background:var(--accent);color:var(--on-accent);cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:var(--text);border-color:var(--line)}
button.link{width:auto;min-height:0;padding:0;border:0;background:none;color:#1d4ed8;text-decoration:underline;font-weight:500}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
a{color:#1d4ed8}
.actions{display:flex;flex-direction:column;gap:.75rem;margin-top:1.25rem}
.row{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;margin-top:1.25rem;font-size:.95rem}
.notice{border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1.25rem;border:1px solid}
.notice p{margin:0}
.notice p+p{margin-top:.35rem}
.notice-error{background:var(--error-bg);border-color:#fda29b;color:#7a271a}
.notice-ok{background:var(--ok-bg);border-color:#75e0a7;color:#054f31}
.notice-info{background:var(--info-bg);border-color:#b2ccff;color:#1e3a8a}
.email{font-weight:600;word-break:break-all}
footer{margin-top:1.5rem;color:var(--muted);font-size:.85rem;text-align:center}
`;

function brandHeader(branding: Branding): Html {
  const logo = branding.logoUrl
    ? html`<img src="${branding.logoUrl}" alt="" width="40" height="40">`
    : html`<span class="badge" aria-hidden="true">${branding.name.trim().charAt(0).toUpperCase() || "?"}</span>`;
  return html`<header class="brand">${logo}<span>${branding.name}</span></header>`;
}

export interface PageOptions {
  messages: Messages;
  branding: Branding;
  title: string;
  body: Html;
  /** The page reports a problem: its title says so first, as screen readers read it on load. */
  error?: boolean | undefined;
}

/** The whole page: one heading, the app's brand above the card, everything in landmarks. */
export function page({ messages, branding, title, body, error }: PageOptions): Html {
  // Checked again here: the colour goes into CSS, which is not escaped like text.
  const accent = /^#[0-9a-fA-F]{6}$/.test(branding.accentColor ?? "")
    ? branding.accentColor!
    : DEFAULT_ACCENT;
  return html`<!doctype html>
<html lang="${messages.lang}" dir="${messages.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex">
<title>${error ? messages.errorTitlePrefix : ""}${title} – ${branding.name}</title>
<style>${trustedHtml(styles(accent))}</style>
</head>
<body>
${brandHeader(branding)}
<main>
<h1>${title}</h1>
${body}
</main>
<footer><p>${messages.footer}</p></footer>
</body>
</html>`;
}

export type Tone = "error" | "ok" | "info";

/** A message the page opens with; errors are announced (role=alert) when the page loads. */
export function notice(tone: Tone, lines: string[]): Html {
  const role = tone === "error" ? "alert" : "status";
  return html`<div class="notice notice-${tone}" role="${role}">${lines.map((line) => html`<p>${line}</p>`)}</div>`;
}

/**
 * Sends a page with the headers every such page needs: no caching (it may carry a token), no
 * framing (a framed "Sign in" button could be clickjacked), no scripts at all, no Referer to other
 * origins (a link page's URL holds its token). `same-origin`, not `no-referrer`: with the latter
 * browsers send `Origin: null` on the page's own form posts, which the login-CSRF check refuses. There is
 * no form-action: Chromium applies it to the redirects after a submission, and a login ends with a
 * redirect to the app.
 */
export const PAGE_HEADERS: Record<string, string> = {
  "cache-control": "no-store",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; base-uri 'none'",
};

export function sendPage(reply: FastifyReply, status: number, content: Html): FastifyReply {
  return reply.status(status).type("text/html; charset=utf-8").headers(PAGE_HEADERS).send(content.toString());
}
