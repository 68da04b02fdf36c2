import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

/**
 * The SSRF guard for developer-supplied SMTP hosts (https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html). A developer's host must resolve only to
 * public addresses, and the caller connects to the address checked here (passing the host name as the TLS
 * servername), so a second DNS answer cannot swap in an internal address between check and connect
 * (the DNS-rebinding gap found in review of novuhq/novu PR #11784). Operators allowlist private relays.
 */

export interface OutboundPolicy {
  /** Host names (exact), IP addresses and CIDR blocks the operator lets developers reach, e.g. a relay. */
  allowlist: string[];
  /** Ports open to non-allowlisted destinations; default 25, 465, 587, 2525. */
  allowedPorts?: number[];
  /**
   * Operator-set endpoints (the Microsoft SMTP host) reached without the address checks, but only by a
   * check that asks for one (`operatorEndpoint`), which only the OAuth kind's TLS connections do: a
   * developer's host naming the same host and port is checked like any other.
   */
  trustedEndpoints?: { host: string; port: number }[];
}

export type HostResolver = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export const systemResolver: HostResolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export interface CheckedTarget {
  /** The host in canonical form: a lower-case name without trailing dot, or the address of an IP literal. */
  host: string;
  port: number;
  /** Connect to this address, not to `host`. */
  address: string;
  /** The name to verify the TLS certificate against; undefined when the host was an IP literal. */
  servername: string | undefined;
  allowlisted: boolean;
}

export class OutboundBlockedError extends Error {
  readonly code: "blocked_address" | "blocked_port" | "unresolvable" | "invalid_host";

  constructor(code: OutboundBlockedError["code"], message: string) {
    super(message);
    this.name = "OutboundBlockedError";
    this.code = code;
  }
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

type ParsedHost = { kind: "ip"; address: Address; host: string } | { kind: "name"; host: string };

const DEFAULT_PORTS = [25, 465, 587, 2525];
const ALLOWLIST_HINT = "Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if this is a private relay.";
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
// A name ending in a number is an IPv4 address to resolvers (WHATWG URL "ends in a number"); one that
// ipaddr.js could not read would be interpreted by getaddrinfo in ways this guard cannot predict.
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

const GLOBAL_UNICAST = ipaddr.parseCIDR("2000::/3");
const NAT64 = ipaddr.parseCIDR("64:ff9b::/96");

function embeddedIPv4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * True unless the address is public unicast. Loopback, private, link-local (cloud metadata among them:
 * 169.254.169.254, fd00:ec2::254, …), CGNAT (Alibaba's 100.100.100.200), multicast, ULA, reserved and
 * every other special-purpose range are refused.
 */
function isRefused(address: Address): boolean {
  if (address instanceof ipaddr.IPv4) return address.range() !== "unicast";
  const { parts } = address;
  // Forms that carry an IPv4 address are judged by it: pretix PR #6264 and appsmith PR #41643 closed
  // bypasses through exactly these. (IPv4-mapped ones became IPv4 already, through ipaddr.process.)
  if (address.match(NAT64)) return isRefused(embeddedIPv4(parts[6]!, parts[7]!));
  const range: string = address.range();
  if (range === "6to4") return isRefused(embeddedIPv4(parts[1]!, parts[2]!));
  if (range !== "unicast") return true;
  // Deprecated IPv4-compatible forms (::a.b.c.d): refused whatever they carry.
  if (parts.slice(0, 6).every((part) => part === 0)) return true;
  // ipaddr.js calls unallocated space "unicast"; only 2000::/3 is allocated as global unicast.
  return !address.match(GLOBAL_UNICAST) || address.zoneId !== undefined;
}

export function isPublicAddress(address: string): boolean {
  return ipaddr.isValid(address) && !isRefused(ipaddr.process(address));
}

function parseIPv6Literal(text: string): ParsedHost | undefined {
  if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.process(text);
  return { kind: "ip", address, host: address.toString() };
}

/** Reads a host name or IP literal (IPv6 bracketed or not); undefined when it is neither. */
function parseHost(raw: string): ParsedHost | undefined {
  const text = raw.toLowerCase();
  if (text.startsWith("[") && text.endsWith("]")) return parseIPv6Literal(text.slice(1, -1));
  if (text.includes(":")) return parseIPv6Literal(text);
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name === "" || name.length > 253) return undefined;
  // Decimal, hex, octal and short forms (2130706433, 0x7f000001, 0177.0.0.1, 127.1) are IPv4 too.
  if (ipaddr.IPv4.isValid(name)) {
    const address = ipaddr.IPv4.parse(name);
    return { kind: "ip", address, host: address.toString() };
  }
  const labels = name.split(".");
  if (!labels.every((label) => LABEL.test(label)) || NUMERIC_LABEL.test(labels.at(-1)!)) return undefined;
  return { kind: "name", host: name };
}

type AllowlistEntry = { kind: "name"; host: string } | { kind: "range"; network: Address; bits: number };

function parseAllowlistEntry(entry: string): AllowlistEntry | undefined {
  const text = entry.trim().toLowerCase();
  if (text.includes("/")) {
    // Only plain dotted quads for IPv4, so "10.1/16" does not silently mean 10.0.0.1/16.
    if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(text) && !ipaddr.IPv6.isValidCIDR(text)) return undefined;
    const [network, bits] = ipaddr.parseCIDR(text);
    return { kind: "range", network, bits };
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { kind: "range", network: ipaddr.IPv4.parse(text), bits: 32 };
  }
  const host = parseHost(text);
  if (host?.kind === "name") return { kind: "name", host: host.host };
  // IPv6 literals, bracketed or not; IPv4 only as the dotted quad checked above.
  if (host?.kind === "ip" && text.includes(":")) {
    return { kind: "range", network: host.address, bits: host.address.kind() === "ipv4" ? 32 : 128 };
  }
  return undefined;
}

function inAllowlistedRange(address: Address, entries: AllowlistEntry[]): boolean {
  return entries.some(
    (entry) =>
      entry.kind === "range" &&
      entry.network.kind() === address.kind() &&
      address.match(entry.network, entry.bits),
  );
}

/** Reads POSTERN_SMTP_ALLOWLIST: comma-separated host names, IP addresses and CIDR blocks. */
export function parseAllowlist(text: string | undefined): string[] {
  const entries = (text ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const entry of entries) {
    if (parseAllowlistEntry(entry) === undefined) {
      throw new Error(
        `SMTP allowlist entry "${entry}" is not a host name, an IP address or a CIDR block such as 10.20.0.0/16.`,
      );
    }
  }
  return entries;
}

// Developer input echoed in a message: bounded, and quoted so control characters cannot break a log line.
function quoted(raw: string): string {
  return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
}

async function resolveOnce(host: string, resolve: HostResolver): Promise<Address[]> {
  const unresolvable = new OutboundBlockedError(
    "unresolvable",
    `${host} could not be resolved to an address. Check the host name; if it is right, its DNS may be failing.`,
  );
  let answers: { address: string }[];
  try {
    answers = await resolve(host);
  } catch {
    // Raw resolver errors are not echoed: they make the guard an oracle (appsmith GHSA-vvxf-f8q9-86gh).
    throw unresolvable;
  }
  // No answer fails closed: split-horizon DNS can otherwise slip past the check (hexclave PR #1480).
  if (answers.length === 0 || !answers.every(({ address }) => ipaddr.isValid(address))) throw unresolvable;
  return answers.map(({ address }) => ipaddr.process(address));
}

/**
 * Decides whether Postern may open an SMTP connection to host:port. Call it when the provider is saved and
 * again before every connection, and connect to the returned address. `operatorEndpoint` says the
 * destination is the operator's own endpoint, not a developer's: only then do trustedEndpoints apply.
 */
export async function checkOutboundTarget(
  host: string,
  port: number,
  policy: OutboundPolicy,
  resolve: HostResolver = systemResolver,
  { operatorEndpoint = false }: { operatorEndpoint?: boolean } = {},
): Promise<CheckedTarget> {
  const target = parseHost(host);
  if (target === undefined) {
    throw new OutboundBlockedError(
      "invalid_host",
      `${quoted(host)} is not a valid SMTP host. Enter a host name such as smtp.example.com or an IP address, without a scheme, path or port.`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OutboundBlockedError(
      "blocked_port",
      `${port} is not a valid port: use a whole number from 1 to 65535.`,
    );
  }
  const servername = target.kind === "name" ? target.host : undefined;
  const addresses = target.kind === "ip" ? [target.address] : await resolveOnce(target.host, resolve);
  const checked = (allowlisted: boolean): CheckedTarget => ({
    host: target.host,
    port,
    address: addresses[0]!.toString(),
    servername,
    allowlisted,
  });

  const trusted =
    operatorEndpoint &&
    (policy.trustedEndpoints ?? []).some(
      (endpoint) => endpoint.port === port && parseHost(endpoint.host)?.host === target.host,
    );
  if (trusted) return checked(true);

  // Entries a caller built without parseAllowlist and that do not parse match nothing: fail closed.
  const entries = policy.allowlist.flatMap((entry) => parseAllowlistEntry(entry) ?? []);
  const nameAllowlisted = entries.some((entry) => entry.kind === "name" && entry.host === servername);
  let everyAddressAllowlisted = true;
  for (const address of addresses) {
    if (nameAllowlisted || inAllowlistedRange(address, entries)) continue;
    everyAddressAllowlisted = false;
    // Any refused address refuses the host: a name answering [public, 127.0.0.1] is a rebinding setup.
    // The refusal names neither the address a name resolved to nor what kind of address it is: either
    // would let a developer map the internal network through it. A literal is named as it was typed.
    if (isRefused(address)) {
      const what = target.kind === "name" ? `${target.host} resolves to` : `${host} is`;
      throw new OutboundBlockedError(
        "blocked_address",
        `${what} a private or internal address, which Postern does not connect to. ${ALLOWLIST_HINT}`,
      );
    }
  }

  // Allowlisted relays may listen anywhere; elsewhere only mail ports, so the guard is no port scanner.
  const allowedPorts = policy.allowedPorts ?? DEFAULT_PORTS;
  if (!everyAddressAllowlisted && !allowedPorts.includes(port)) {
    throw new OutboundBlockedError(
      "blocked_port",
      `Port ${port} is not open to custom SMTP servers; use ${allowedPorts.join(", ")}, or ask your operator to allowlist this server in POSTERN_SMTP_ALLOWLIST.`,
    );
  }
  return checked(everyAddressAllowlisted);
}
