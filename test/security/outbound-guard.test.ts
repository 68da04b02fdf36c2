import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CheckedTarget,
  checkOutboundTarget,
  type HostResolver,
  isPublicAddress,
  OutboundBlockedError,
  type OutboundPolicy,
  parseAllowlist,
  systemResolver,
} from "../../src/security/outbound-guard.ts";

const NO_ALLOWLIST: OutboundPolicy = { allowlist: [] };
const PUBLIC_V4 = "93.184.216.34";
const PUBLIC_V6 = "2606:4700::1111";
const ALLOWLIST_HINT = "Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if this is a private relay.";

/** A resolver answering from a table, and throwing like getaddrinfo for names it does not know. */
function fakeResolver(answers: Record<string, string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const addresses = answers[hostname];
    if (addresses === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    }
    return addresses.map((address) => ({
      address,
      family: address.includes(":") ? (6 as const) : (4 as const),
    }));
  };
  return Object.assign(resolve, { calls });
}

async function refusal(
  host: string,
  port: number,
  policy: OutboundPolicy = NO_ALLOWLIST,
  resolve: HostResolver = fakeResolver({}),
): Promise<OutboundBlockedError> {
  const outcome: CheckedTarget | unknown = await checkOutboundTarget(host, port, policy, resolve).catch(
    (error: unknown) => error,
  );
  if (!(outcome instanceof OutboundBlockedError)) {
    throw new Error(`expected ${host}:${port} to be refused, got ${JSON.stringify(outcome)}`);
  }
  return outcome;
}

describe("IP literals that point inside the network are refused without a DNS lookup", () => {
  // The second column says which rule refuses each; the message says none of it (see below).
  const hostile: [host: string, range: string][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["2130706433", "loopback"],
    ["0x7f000001", "loopback"],
    ["0177.0.0.1", "loopback"],
    ["127.1", "loopback"],
    ["0x7f.1", "loopback"],
    ["017700000001", "loopback"],
    ["127.0.0.1.", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["0", "unspecified"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.254", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "cloud metadata"],
    ["169.254.170.2", "cloud metadata"],
    ["169.254.0.1", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.254", "carrier-grade NAT"],
    ["100.100.100.200", "cloud metadata"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "unspecified"],
    ["[::]", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a9fe:a9fe", "cloud metadata"],
    ["::127.0.0.1", "loopback"],
    ["::7f00:1", "IPv4-compatible form of a loopback"],
    ["::a00:1", "IPv4-compatible form of a private"],
    ["::5db8:d822", "IPv4-compatible"],
    ["::ffff:0:7f00:1", "special-purpose"],
    ["64:ff9b::a00:1", "NAT64 form of a private"],
    ["64:ff9b::7f00:1", "NAT64 form of a loopback"],
    ["64:ff9b::a9fe:a9fe", "NAT64 form of a cloud metadata"],
    ["64:ff9b:1::1", "special-purpose"],
    ["2002:c0a8:0101::1", "6to4 form of a private"],
    ["2002:7f00:1::1", "6to4 form of a loopback"],
    ["2001::1", "Teredo"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"],
    ["100::1", "discard"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "site-local"],
    ["fc00::1", "unique-local"],
    ["fd00::1", "unique-local"],
    ["fd00:ec2::254", "cloud metadata"],
    ["fd20:ce::254", "cloud metadata"],
    ["ff02::1", "multicast"],
    ["ff05::1:3", "multicast"],
    ["2001:db8::1", "reserved"],
    ["3fff::1", "reserved"],
    ["5f00::1", "special-purpose"],
    ["4000::1", "outside the public IPv6 range"],
  ];

  it.each(hostile)("refuses %s (%s)", async (host) => {
    const resolver = fakeResolver({});
    const error = await refusal(host, 587, NO_ALLOWLIST, resolver);
    expect(error.code).toBe("blocked_address");
    expect(error.message).toBe(
      `${host} is a private or internal address, which Postern does not connect to. ${ALLOWLIST_HINT}`,
    );
    expect(resolver.calls).toEqual([]);
  });

  it("covers at least 40 hostile forms", () => {
    expect(hostile.length).toBeGreaterThanOrEqual(40);
  });

  it("names a literal as it was typed, without its kind of address", async () => {
    const message = (await refusal("0x7f000001", 587)).message;
    expect(message).toMatch(/^0x7f000001 is a private or internal address, which Postern/);
    expect(message).not.toMatch(/127\.0\.0\.1|loopback/);
  });

  it("refuses every textual form of an internal IPv4 address (property)", async () => {
    const internalBlocks = [
      [0x0a000000, 24], // 10/8
      [0x7f000000, 24], // 127/8
      [0xa9fe0000, 16], // 169.254/16
      [0xac100000, 20], // 172.16/12
      [0x64400000, 22], // 100.64/10
    ] as const;
    const internal = fc
      .tuple(fc.constantFrom(...internalBlocks), fc.nat())
      .map(([[base, hostBits], n]) => (base + (n % 2 ** hostBits)) >>> 0);
    const forms = (value: number): string[] => {
      const octets = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
      const high = (value >>> 16).toString(16);
      const low = (value & 0xffff).toString(16);
      return [
        octets.join("."),
        String(value),
        `0x${value.toString(16)}`,
        octets.map((octet) => `0${octet.toString(8)}`).join("."),
        `::ffff:${high}:${low}`,
        `[::ffff:${octets.join(".")}]`,
        `64:ff9b::${high}:${low}`,
        `2002:${high}:${low}::1`,
      ];
    };
    await fc.assert(
      fc.asyncProperty(internal, async (value) => {
        for (const host of forms(value)) {
          expect((await refusal(host, 587)).code, host).toBe("blocked_address");
          expect(isPublicAddress(host.replace(/^\[|\]$/g, "")), host).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("host names are judged by every address they resolve to", () => {
  const resolver = fakeResolver({
    "internal.example.com": ["10.1.2.3"],
    "rebind.example.com": [PUBLIC_V4, "127.0.0.1"],
    "mapped.example.com": ["::ffff:192.168.0.1"],
    "compat.example.com": ["::a9fe:a9fe"],
    "metadata.example.com": ["fd00:ec2::254"],
    "nat64.example.com": ["64:ff9b::a00:5"],
    "numeric.example.com": ["2130706433"],
    "nothing.example.com": [],
    "garbage.example.com": ["not-an-address"],
  });

  it("refuses a name that resolves to a private address, without saying what it resolved to", async () => {
    const error = await refusal("internal.example.com", 587, NO_ALLOWLIST, resolver);
    expect(error.code).toBe("blocked_address");
    expect(error.message).toBe(
      "internal.example.com resolves to a private or internal address, which Postern does not connect to. " +
        "Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if this is a private relay.",
    );
  });

  it.each([
    ["rebind.example.com", "127.0.0.1"],
    ["mapped.example.com", "192.168.0.1"],
    ["compat.example.com", "169.254"],
    ["metadata.example.com", "fd00:ec2::254"],
    ["nat64.example.com", "64:ff9b"],
    ["numeric.example.com", "127.0.0.1"],
  ])("refuses %s because one of its addresses (%s) is internal, naming none", async (host, address) => {
    const error = await refusal(host, 587, NO_ALLOWLIST, resolver);
    expect(error.code).toBe("blocked_address");
    expect(error.message).toBe(
      `${host} resolves to a private or internal address, which Postern does not connect to. ${ALLOWLIST_HINT}`,
    );
    expect(error.message).not.toContain(address);
  });

  it("fails closed when DNS gives no answer or an unreadable one", async () => {
    for (const host of ["nothing.example.com", "garbage.example.com"]) {
      expect((await refusal(host, 587, NO_ALLOWLIST, resolver)).code).toBe("unresolvable");
    }
  });

  it("fails closed on a DNS error without echoing it", async () => {
    const error = await refusal("missing.example.com", 587, NO_ALLOWLIST, resolver);
    expect(error.code).toBe("unresolvable");
    expect(error.message).toContain("missing.example.com");
    expect(error.message).not.toMatch(/ENOTFOUND|getaddrinfo/);
  });

  it("resolves once per check", async () => {
    const counting = fakeResolver({ "smtp.example.com": [PUBLIC_V4] });
    await checkOutboundTarget("smtp.example.com", 587, NO_ALLOWLIST, counting);
    expect(counting.calls).toEqual(["smtp.example.com"]);
  });
});

describe("public destinations are accepted and pinned to the checked address", () => {
  const resolver = fakeResolver({
    "smtp.example.com": [PUBLIC_V4],
    "v6.example.com": [PUBLIC_V6],
    "dual.example.com": [PUBLIC_V6, PUBLIC_V4],
    "mapped-public.example.com": [`::ffff:${PUBLIC_V4}`],
  });

  it("returns the resolved address to connect to and the name for TLS", async () => {
    expect(await checkOutboundTarget("smtp.example.com", 587, NO_ALLOWLIST, resolver)).toEqual({
      host: "smtp.example.com",
      port: 587,
      address: PUBLIC_V4,
      servername: "smtp.example.com",
      allowlisted: false,
    });
  });

  it("normalises the name's case and trailing dot before resolving it", async () => {
    const counting = fakeResolver({ "smtp.example.com": [PUBLIC_V4] });
    const target = await checkOutboundTarget("SMTP.Example.COM.", 465, NO_ALLOWLIST, counting);
    expect(counting.calls).toEqual(["smtp.example.com"]);
    expect(target.servername).toBe("smtp.example.com");
  });

  it("accepts public IPv6, and pins the first address of several", async () => {
    expect((await checkOutboundTarget("v6.example.com", 587, NO_ALLOWLIST, resolver)).address).toBe(
      PUBLIC_V6,
    );
    expect((await checkOutboundTarget("dual.example.com", 587, NO_ALLOWLIST, resolver)).address).toBe(
      PUBLIC_V6,
    );
    expect(
      (await checkOutboundTarget("mapped-public.example.com", 587, NO_ALLOWLIST, resolver)).address,
    ).toBe(PUBLIC_V4);
  });

  it.each([
    [PUBLIC_V4, PUBLIC_V4],
    ["1572395042", PUBLIC_V4],
    ["0x5db8d822", PUBLIC_V4],
    [PUBLIC_V6, PUBLIC_V6],
    [`[${PUBLIC_V6}]`, PUBLIC_V6],
    [`::ffff:${PUBLIC_V4}`, PUBLIC_V4],
    ["64:ff9b::5db8:d822", "64:ff9b::5db8:d822"],
    ["2002:5db8:d822::1", "2002:5db8:d822::1"],
  ])("accepts the public literal %s as %s, with no TLS name", async (host, address) => {
    const counting = fakeResolver({});
    const target = await checkOutboundTarget(host, 587, NO_ALLOWLIST, counting);
    expect(target).toEqual({ host: address, port: 587, address, servername: undefined, allowlisted: false });
    expect(counting.calls).toEqual([]);
  });

  it("agrees with isPublicAddress", () => {
    for (const address of [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "2a00:1450:4001:800::200e"]) {
      expect(isPublicAddress(address), address).toBe(true);
    }
    for (const address of ["127.0.0.1", "2130706433", "fe80::1", `${PUBLIC_V6}%eth0`, "not an address", ""]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });
});

describe("ports", () => {
  const resolver = fakeResolver({
    "smtp.example.com": [PUBLIC_V4],
    "relay.internal": ["10.20.3.4"],
    "split.example.com": [PUBLIC_V4, "10.20.3.4"],
  });
  const allowRelay: OutboundPolicy = { allowlist: ["10.20.0.0/16"] };

  it("allows the mail ports 25, 465, 587 and 2525 by default", async () => {
    for (const port of [25, 465, 587, 2525]) {
      expect((await checkOutboundTarget("smtp.example.com", port, NO_ALLOWLIST, resolver)).port).toBe(port);
    }
  });

  it("refuses other ports on destinations that are not allowlisted, so the guard is no port scanner", async () => {
    const error = await refusal("smtp.example.com", 8025, NO_ALLOWLIST, resolver);
    expect(error.code).toBe("blocked_port");
    expect(error.message).toMatch(/Port 8025 .*25, 465, 587, 2525/);
    expect((await refusal("smtp.example.com", 22, NO_ALLOWLIST, resolver)).code).toBe("blocked_port");
  });

  it("follows the operator's port list", async () => {
    const policy: OutboundPolicy = { allowlist: [], allowedPorts: [587] };
    expect((await refusal("smtp.example.com", 25, policy, resolver)).code).toBe("blocked_port");
    expect((await checkOutboundTarget("smtp.example.com", 587, policy, resolver)).port).toBe(587);
  });

  it("lets an allowlisted destination use any port", async () => {
    const target = await checkOutboundTarget("relay.internal", 8025, allowRelay, resolver);
    expect(target).toMatchObject({ address: "10.20.3.4", port: 8025, allowlisted: true });
  });

  it("applies the port list when only some of a name's addresses are allowlisted", async () => {
    const target = await checkOutboundTarget("split.example.com", 587, allowRelay, resolver);
    expect(target).toMatchObject({ address: PUBLIC_V4, allowlisted: false });
    expect((await refusal("split.example.com", 8025, allowRelay, resolver)).code).toBe("blocked_port");
  });

  it.each([0, -1, 65536, 1.5, Number.NaN])("refuses port %s as not a port", async (port) => {
    const error = await refusal("smtp.example.com", port, NO_ALLOWLIST, resolver);
    expect(error.code).toBe("blocked_port");
    expect(error.message).toMatch(/1 to 65535/);
  });
});

describe("the operator allowlist", () => {
  const resolver = fakeResolver({
    "relay.internal": ["10.1.2.3"],
    "other.internal": ["10.1.2.3"],
    "v6relay.internal": ["fd12:3456::25"],
    "v6other.internal": ["fd12:3457::1"],
  });

  it("allowlists a host name, whatever it resolves to, matching case- and trailing-dot-insensitively", async () => {
    const policy: OutboundPolicy = { allowlist: ["RELAY.internal."] };
    const target = await checkOutboundTarget("relay.internal", 2525, policy, resolver);
    expect(target).toEqual({
      host: "relay.internal",
      port: 2525,
      address: "10.1.2.3",
      servername: "relay.internal",
      allowlisted: true,
    });
  });

  it("does not extend a host name entry to other names with the same addresses", async () => {
    const policy: OutboundPolicy = { allowlist: ["relay.internal"] };
    expect((await refusal("other.internal", 587, policy, resolver)).code).toBe("blocked_address");
  });

  it("allowlists single IP addresses", async () => {
    expect((await checkOutboundTarget("127.0.0.1", 1025, { allowlist: ["127.0.0.1"] })).allowlisted).toBe(
      true,
    );
    expect((await checkOutboundTarget("[::1]", 1025, { allowlist: ["::1"] })).address).toBe("::1");
    expect((await refusal("127.0.0.2", 587, { allowlist: ["127.0.0.1"] })).code).toBe("blocked_address");
  });

  it("allowlists IPv4 CIDR blocks", async () => {
    const policy: OutboundPolicy = { allowlist: ["10.1.0.0/16"] };
    expect((await checkOutboundTarget("relay.internal", 587, policy, resolver)).address).toBe("10.1.2.3");
    expect((await checkOutboundTarget("10.1.255.1", 587, policy)).allowlisted).toBe(true);
    expect((await refusal("10.2.0.1", 587, policy)).code).toBe("blocked_address");
  });

  it("allowlists IPv6 CIDR blocks", async () => {
    const policy: OutboundPolicy = { allowlist: ["fd12:3456::/32"] };
    expect((await checkOutboundTarget("v6relay.internal", 587, policy, resolver)).address).toBe(
      "fd12:3456::25",
    );
    expect((await refusal("v6other.internal", 587, policy, resolver)).code).toBe("blocked_address");
  });

  it("matches IPv4-mapped answers against IPv4 entries", async () => {
    const mapped = fakeResolver({ "relay.internal": ["::ffff:10.1.2.3"] });
    const target = await checkOutboundTarget("relay.internal", 587, { allowlist: ["10.1.2.3/32"] }, mapped);
    expect(target.address).toBe("10.1.2.3");
  });

  it("ignores entries that do not parse, rather than widening the allowlist", async () => {
    const policy: OutboundPolicy = { allowlist: ["10.0.0.0/99", "*"] };
    expect((await refusal("relay.internal", 587, policy, resolver)).code).toBe("blocked_address");
  });

  it("refuses localhost through the system resolver unless it is allowlisted", async () => {
    expect((await refusal("localhost", 2525, NO_ALLOWLIST, systemResolver)).message).toMatch(
      /^localhost resolves to a private or internal address/,
    );
    const target = await checkOutboundTarget("localhost", 2525, { allowlist: ["localhost"] }, systemResolver);
    expect(target.allowlisted).toBe(true);
    expect(isPublicAddress(target.address)).toBe(false);
    expect(target.servername).toBe("localhost");
  });

  it("is read from POSTERN_SMTP_ALLOWLIST as comma-separated entries", () => {
    expect(parseAllowlist(undefined)).toEqual([]);
    expect(parseAllowlist("")).toEqual([]);
    expect(
      parseAllowlist(" localhost , 127.0.0.1/32,::1/128,, 10.20.0.0/16,[::1],relay.internal ,192.168.1.5"),
    ).toEqual([
      "localhost",
      "127.0.0.1/32",
      "::1/128",
      "10.20.0.0/16",
      "[::1]",
      "relay.internal",
      "192.168.1.5",
    ]);
  });

  it.each([
    "10.0.0.0/33",
    "10.1/16",
    "127.1",
    "http://relay",
    "relay internal",
    "*.example.com",
    "fe80::/129",
  ])("rejects the allowlist entry %s by name", (entry) => {
    expect(() => parseAllowlist(`localhost,${entry}`)).toThrow(`"${entry}"`);
  });
});

describe("trusted endpoints", () => {
  const resolver = fakeResolver({ "smtp.office365.example": ["10.9.9.9"] });
  const policy: OutboundPolicy = {
    allowlist: [],
    trustedEndpoints: [
      { host: "SMTP.office365.example", port: 587 },
      { host: "127.0.0.1", port: 2587 },
    ],
  };

  const asOperatorEndpoint = { operatorEndpoint: true };

  it("are reached as configured, without address checks, when the operator's endpoint is asked for", async () => {
    expect(
      await checkOutboundTarget("smtp.office365.example", 587, policy, resolver, asOperatorEndpoint),
    ).toEqual({
      host: "smtp.office365.example",
      port: 587,
      address: "10.9.9.9",
      servername: "smtp.office365.example",
      allowlisted: true,
    });
    expect((await checkOutboundTarget("127.0.0.1", 2587, policy, resolver, asOperatorEndpoint)).address).toBe(
      "127.0.0.1",
    );
  });

  it("are checked like any host for a developer's destination with the same host and port", async () => {
    expect((await refusal("smtp.office365.example", 587, policy, resolver)).code).toBe("blocked_address");
    expect((await refusal("127.0.0.1", 2587, policy, resolver)).code).toBe("blocked_address");
  });

  it("match on host and port together", async () => {
    for (const [host, port] of [
      ["smtp.office365.example", 25],
      ["127.0.0.1", 587],
    ] as const) {
      const outcome = await checkOutboundTarget(host, port, policy, resolver, asOperatorEndpoint).catch(
        (error: unknown) => error,
      );
      expect((outcome as OutboundBlockedError).code, `${host}:${port}`).toBe("blocked_address");
    }
  });
});

describe("hosts that are not a host name or an IP address", () => {
  it.each([
    "http://x",
    "smtp://smtp.example.com",
    "a/b",
    "smtp.example.com/",
    "host:25",
    "[::1]:25",
    "user@smtp.example.com",
    "",
    " ",
    ".",
    "smtp.example.com ",
    " smtp.example.com",
    "smtp example.com",
    "smtp..example.com",
    "-smtp.example.com",
    "smtp-.example.com",
    "smtp.exämple.com",
    "smtp.example.com\r\nRCPT TO:<x@y>",
    "[smtp.example.com]",
    "fe80::1%eth0",
    "999.1.1.1",
    "1.2.3.4.5",
    "08.0.0.1",
    "smtp.example.0x1",
    `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`,
    "a".repeat(300),
  ])("refuses %j as invalid_host without resolving it", async (host) => {
    const resolver = fakeResolver({});
    const error = await refusal(host, 587, { allowlist: [host] }, resolver);
    expect(error.code).toBe("invalid_host");
    expect(error.message).toMatch(/not a valid SMTP host/);
    expect(error.message.length).toBeLessThan(250);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(resolver.calls).toEqual([]);
  });
});
