// What the SMTP fakes record about each message they receive.
import { type AddressObject, type HeaderLines, type Headers, simpleParser } from "mailparser";

export interface MailAddress {
  name: string;
  address: string;
}

export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
}

export interface ReceivedMessage {
  /** First address of the From header, display name decoded (RFC 2047). */
  from: MailAddress | undefined;
  /** Addresses of the To header. */
  to: string[];
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  headers: Headers;
  /** Header lines as received (not decoded), to check encodings. */
  headerLines: HeaderLines;
  envelope: Envelope;
  /** The message exactly as received after dot-unstuffing. */
  raw: Buffer;
  /** The authenticated identity of the session, if any. */
  authUser: string | undefined;
}

function addresses(field: AddressObject | AddressObject[] | undefined): MailAddress[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((o) => o.value.map((v) => ({ name: v.name, address: v.address ?? "" })));
}

export async function parseMessage(
  raw: Buffer,
  envelope: Envelope,
  authUser: string | undefined,
): Promise<ReceivedMessage> {
  const parsed = await simpleParser(raw);
  return {
    from: addresses(parsed.from)[0],
    to: addresses(parsed.to).map((a) => a.address),
    subject: parsed.subject,
    text: parsed.text,
    html: parsed.html === false ? undefined : parsed.html,
    headers: parsed.headers,
    headerLines: parsed.headerLines,
    envelope,
    raw,
    authUser,
  };
}

/** Resolves with the list once it holds at least `n` entries; polls because the fakes push asynchronously. */
export async function waitForCount<T>(list: readonly T[], n: number, timeoutMs: number): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (list.length < n) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${n} messages (have ${list.length})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return [...list];
}
