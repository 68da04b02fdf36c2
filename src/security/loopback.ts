import ipaddr from "ipaddr.js";

// RFC 6761 §6.3 reserves "localhost" and every name under it for loopback.
const LOCALHOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*localhost$/;

/**
 * Whether a host (a name, an IPv4 dotted quad, or an IPv6 address, bracketed or not) is loopback:
 * 127.0.0.0/8, ::1 and its IPv4-mapped forms, "localhost" and *.localhost. Anything else, including
 * names that merely start like one ("127.0.0.1.nip.io", "localhost.example.com"), is not.
 */
export function isLoopbackHost(host: string): boolean {
  const text = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
  if (LOCALHOST_NAME.test(text)) return true;
  // Only the dotted quad: short and numeric forms ("127.1", "2130706433") are names to some parsers.
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !ipaddr.IPv6.isValid(text)) return false;
  return ipaddr.process(text).range() === "loopback";
}

const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i;

/** A Host header's host and port (undefined when absent); undefined when it is not a plain host[:port]. */
export function parseHostHeader(value: string): { host: string; port: number | undefined } | undefined {
  const match = HOST_HEADER.exec(value);
  if (!match) return undefined;
  return { host: match[1]!.toLowerCase(), port: match[2] === undefined ? undefined : Number(match[2]) };
}
