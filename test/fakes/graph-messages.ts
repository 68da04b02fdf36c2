// The two request bodies sendMail takes (https://learn.microsoft.com/graph/api/user-sendmail): JSON with a
// `message` resource and `saveToSentItems`, or `Content-Type: text/plain` carrying the whole RFC 5322 message
// in base64. Parsed into one record for assertions.
import { type GraphError, graphErrors } from "./graph-errors.ts";
import { parseMessage, type ReceivedMessage } from "./mail.ts";

export interface GraphRecipient {
  address: string;
  name?: string;
}

export interface SubmittedMessage {
  format: "json" | "mime";
  /** From address as the message states it; undefined when it leaves From to the mailbox. */
  from: string | undefined;
  to: GraphRecipient[];
  cc: GraphRecipient[];
  bcc: GraphRecipient[];
  subject: string | undefined;
  /** JSON: body.contentType "Text" or "HTML"; MIME: whichever parts exist. */
  text: string | undefined;
  html: string | undefined;
  /** Graph's default is true; the MIME form cannot say otherwise. */
  saveToSentItems: boolean;
  internetMessageHeaders: { name: string; value: string }[];
  /** The JSON `message` resource as sent. */
  json?: Record<string, unknown>;
  /** The decoded MIME message, parsed. */
  mime?: ReceivedMessage;
  sizeBytes: number;
}

const addressPattern = /^[^\s@<>",;]+@[^\s@<>",;]+$/;

function recipients(value: unknown): GraphRecipient[] | GraphError {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return graphErrors.invalidRecipients();
  const out: GraphRecipient[] = [];
  for (const entry of value) {
    const email = (entry as { emailAddress?: { address?: unknown; name?: unknown } })?.emailAddress;
    if (typeof email?.address !== "string" || !addressPattern.test(email.address)) {
      return graphErrors.invalidRecipients();
    }
    out.push(
      typeof email.name === "string"
        ? { address: email.address, name: email.name }
        : { address: email.address },
    );
  }
  return out;
}

function headers(value: unknown): { name: string; value: string }[] | GraphError {
  if (value === undefined) return [];
  // An empty array is refused as well (evolution-ews).
  if (!Array.isArray(value) || value.length === 0 || value.length > 5) return graphErrors.tooManyHeaders();
  const out: { name: string; value: string }[] = [];
  for (const h of value as { name?: unknown; value?: unknown }[]) {
    const name = String(h?.name ?? "");
    if (!/^x-/i.test(name)) return graphErrors.invalidHeaderName(name);
    out.push({ name, value: String(h?.value ?? "") });
  }
  return out;
}

export function parseJsonRequest(raw: Buffer): SubmittedMessage | GraphError {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return graphErrors.invalidJson();
  }
  const { message, saveToSentItems } = (body ?? {}) as { message?: unknown; saveToSentItems?: unknown };
  if (typeof message !== "object" || message === null) return graphErrors.missingMessage();
  const m = message as Record<string, unknown>;
  const to = recipients(m.toRecipients);
  const cc = recipients(m.ccRecipients);
  const bcc = recipients(m.bccRecipients);
  if ("status" in to) return to;
  if ("status" in cc) return cc;
  if ("status" in bcc) return bcc;
  if (to.length + cc.length + bcc.length === 0) return graphErrors.invalidRecipients();
  const extra = headers(m.internetMessageHeaders);
  if ("status" in extra) return extra;
  const from = (m.from as { emailAddress?: { address?: unknown } } | undefined)?.emailAddress?.address;
  const content = m.body as { contentType?: unknown; content?: unknown } | undefined;
  const isHtml = String(content?.contentType ?? "Text").toLowerCase() === "html";
  const text = typeof content?.content === "string" ? content.content : undefined;
  return {
    format: "json",
    from: typeof from === "string" ? from : undefined,
    to,
    cc,
    bcc,
    subject: typeof m.subject === "string" ? m.subject : undefined,
    text: isHtml ? undefined : text,
    html: isHtml ? text : undefined,
    // The doc's own example sends the string "false".
    saveToSentItems: !(saveToSentItems === false || saveToSentItems === "false"),
    internetMessageHeaders: extra,
    json: m,
    sizeBytes: raw.length,
  };
}

export async function parseMimeRequest(raw: Buffer, mailbox: string): Promise<SubmittedMessage | GraphError> {
  const base64 = raw.toString("latin1").replace(/\s+/g, "");
  if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    return graphErrors.invalidBase64Mime();
  }
  const decoded = Buffer.from(base64, "base64");
  const header = decoded.toString("utf8", 0, Math.min(decoded.length, 64 * 1024));
  if (!/^[\x21-\x39\x3b-\x7e]+:/m.test(header)) return graphErrors.invalidMime();
  const parsed = await parseMessage(decoded, { mailFrom: mailbox, rcptTo: [] }, mailbox);
  const list = (field: "to" | "cc" | "bcc"): GraphRecipient[] => {
    const value = parsed.headers.get(field) as { value: { address?: string; name: string }[] } | undefined;
    return (value?.value ?? []).map((a) => ({
      address: a.address ?? "",
      ...(a.name ? { name: a.name } : {}),
    }));
  };
  const to = list("to");
  const cc = list("cc");
  const bcc = list("bcc");
  const all = [...to, ...cc, ...bcc];
  if (all.length === 0 || all.some((r) => !addressPattern.test(r.address)))
    return graphErrors.invalidRecipients();
  parsed.envelope.rcptTo = all.map((r) => r.address);
  return {
    format: "mime",
    from: parsed.from?.address,
    to,
    cc,
    bcc,
    subject: parsed.subject,
    text: parsed.text,
    html: parsed.html,
    saveToSentItems: true,
    internetMessageHeaders: [],
    mime: parsed,
    sizeBytes: decoded.length,
  };
}
