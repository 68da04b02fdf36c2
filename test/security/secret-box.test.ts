import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  formatKeyring,
  generateSecretKey,
  loadOrCreateKeyFile,
  parseKeyring,
  SecretBox,
  SecretBoxError,
  type SecretKey,
  writeKeyFile,
} from "../../src/security/secret-box.ts";

const PASSWORD = "correct horse battery staple";
const CONTEXT = "email-provider:app_1:password";

function keyFilled(id: string, byte: number): SecretKey {
  return { id, key: Buffer.alloc(32, byte) };
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof SecretBoxError) return error.code;
    throw error;
  }
  return undefined;
}

// Flips one character of a base64url field, keeping the string well-formed.
function tamper(sealed: string, field: 2 | 3 | 4): string {
  const parts = sealed.split(".");
  const value = parts[field]!;
  parts[field] = (value[0] === "A" ? "B" : "A") + value.slice(1);
  return parts.join(".");
}

describe("sealing secrets", () => {
  const box = new SecretBox([keyFilled("k1", 1)]);

  it("opens what it sealed, for the same record", () => {
    expect(box.open(box.seal(PASSWORD, CONTEXT), CONTEXT)).toBe(PASSWORD);
    expect(box.open(box.seal("", CONTEXT), CONTEXT)).toBe("");
    expect(box.open(box.seal("pässwörd ✓", CONTEXT), CONTEXT)).toBe("pässwörd ✓");
  });

  it("writes one ASCII string naming the format version and key id", () => {
    const sealed = box.seal(PASSWORD, CONTEXT);
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(box.keyIdOf(sealed)).toBe("k1");
  });

  it("uses a fresh nonce each time, so equal secrets do not look equal", () => {
    const first = box.seal(PASSWORD, CONTEXT);
    const second = box.seal(PASSWORD, CONTEXT);
    expect(first).not.toBe(second);
    expect(first.split(".")[2]).not.toBe(second.split(".")[2]);
  });

  it("does not carry the plaintext in any readable form", () => {
    const sealed = box.seal(PASSWORD, CONTEXT);
    expect(sealed).not.toContain(PASSWORD);
    expect(sealed).not.toContain(Buffer.from(PASSWORD).toString("base64url"));
    expect(sealed).not.toContain(Buffer.from(PASSWORD).toString("hex"));
  });

  it("does not open on another record: the owning record is bound as additional data", () => {
    const sealed = box.seal(PASSWORD, CONTEXT);
    expect(codeOf(() => box.open(sealed, "email-provider:app_2:password"))).toBe("secret_unreadable");
    expect(codeOf(() => box.open(sealed, "email-provider:app_1:clientSecret"))).toBe("secret_unreadable");
  });

  it("refuses a tampered nonce, ciphertext or tag", () => {
    const sealed = box.seal(PASSWORD, CONTEXT);
    for (const field of [2, 3, 4] as const) {
      expect(codeOf(() => box.open(tamper(sealed, field), CONTEXT))).toBe("secret_unreadable");
    }
  });

  it("refuses malformed sealed strings without guessing", () => {
    const sealed = box.seal(PASSWORD, CONTEXT);
    const [, , iv, ciphertext, tag] = sealed.split(".");
    for (const bad of [
      "",
      PASSWORD,
      sealed.replace(/^v1/, "v2"),
      `${sealed}.extra`,
      `v1.k1.${iv}.${ciphertext}`,
      `v1.k1.${iv}.${ciphertext}.${tag!.slice(0, 10)}`,
      `v1.k1.${iv}.${ciphertext}!.${tag}`,
      `v1.K1.${iv}.${ciphertext}.${tag}`,
    ]) {
      expect(
        codeOf(() => box.open(bad, CONTEXT)),
        bad,
      ).toBe("secret_unreadable");
    }
  });

  it("refuses a secret sealed under a key the keyring does not hold", () => {
    const sealed = new SecretBox([keyFilled("k9", 9)]).seal(PASSWORD, CONTEXT);
    expect(codeOf(() => box.open(sealed, CONTEXT))).toBe("unknown_key");
  });

  it("never puts the plaintext or key material in an error message", () => {
    const key = keyFilled("k1", 7);
    const sealedBox = new SecretBox([key]);
    const sealed = sealedBox.seal(PASSWORD, CONTEXT);
    const messages: string[] = [];
    for (const attempt of [
      () => sealedBox.open(sealed, "another:record"),
      () => sealedBox.open(tamper(sealed, 3), CONTEXT),
      () => box.open(sealed, CONTEXT),
    ]) {
      try {
        attempt();
      } catch (error) {
        messages.push((error as Error).message);
      }
    }
    expect(messages).toHaveLength(3);
    for (const message of messages) {
      expect(message).not.toContain(PASSWORD);
      expect(message).not.toContain(key.key.toString("base64"));
    }
  });

  it("requires a record to bind the secret to", () => {
    expect(() => box.seal(PASSWORD, "")).toThrow(/context/);
  });

  it("keeps key material out of inspection and JSON", async () => {
    const { inspect } = await import("node:util");
    const key = keyFilled("k1", 0x5a);
    const keyed = new SecretBox([key]);
    expect(inspect(keyed, { showHidden: true, depth: 5 })).not.toMatch(/5a 5a|WlpaWlpa/);
    expect(JSON.stringify(keyed)).not.toContain(key.key.toString("base64"));
  });
});

describe("a keyring", () => {
  it("seals with its first key", () => {
    const box = new SecretBox([keyFilled("k2", 2), keyFilled("k1", 1)]);
    expect(box.activeKeyId).toBe("k2");
    expect(box.keyIdOf(box.seal(PASSWORD, CONTEXT))).toBe("k2");
  });

  it("rotates: old secrets still open, are flagged for resealing, and after resealing need only the new key", () => {
    const k1 = keyFilled("k1", 1);
    const k2 = keyFilled("k2", 2);
    const sealedUnderK1 = new SecretBox([k1]).seal(PASSWORD, CONTEXT);

    const rotated = new SecretBox([k2, k1]);
    expect(rotated.open(sealedUnderK1, CONTEXT)).toBe(PASSWORD);
    expect(rotated.needsReseal(sealedUnderK1)).toBe(true);

    const resealed = rotated.seal(rotated.open(sealedUnderK1, CONTEXT), CONTEXT);
    expect(rotated.needsReseal(resealed)).toBe(false);
    expect(new SecretBox([k2]).open(resealed, CONTEXT)).toBe(PASSWORD);
    expect(codeOf(() => new SecretBox([k1]).open(resealed, CONTEXT))).toBe("unknown_key");
  });

  it("refuses an empty list, a key that is not 32 bytes, a duplicate id and a malformed id", () => {
    expect(() => new SecretBox([])).toThrow(/empty/);
    expect(() => new SecretBox([{ id: "k1", key: Buffer.alloc(16) }])).toThrow(/32/);
    expect(() => new SecretBox([keyFilled("k1", 1), keyFilled("k1", 2)])).toThrow(/more than once/);
    expect(() => new SecretBox([keyFilled("K.1", 1)])).toThrow(/key id/);
  });

  it("generates random keys with short ids", () => {
    const a = generateSecretKey();
    const b = generateSecretKey();
    expect(a.id).toMatch(/^k[0-9a-f]{8}$/);
    expect(a.key).toHaveLength(32);
    expect(a.key.equals(b.key)).toBe(false);
  });
});

describe("the keyring text format", () => {
  const k1 = keyFilled("k1", 1);
  const k2 = keyFilled("old-2", 2);

  it("round-trips through formatKeyring, one entry per line", () => {
    const text = formatKeyring([k1, k2]);
    expect(text).toBe(`k1:${k1.key.toString("base64")}\nold-2:${k2.key.toString("base64")}\n`);
    const parsed = parseKeyring(text);
    expect(parsed.map(({ id }) => id)).toEqual(["k1", "old-2"]);
    expect(parsed[0]!.key.equals(k1.key)).toBe(true);
    expect(parsed[1]!.key.equals(k2.key)).toBe(true);
  });

  it("accepts commas, comments, blank lines and a bare key named default", () => {
    const b64 = (key: SecretKey) => key.key.toString("base64");
    expect(parseKeyring(`k1:${b64(k1)}, old-2:${b64(k2)}`).map(({ id }) => id)).toEqual(["k1", "old-2"]);
    expect(parseKeyring(`# rotated 2026-01\n\nk1:${b64(k1)}\r\n  \n`).map(({ id }) => id)).toEqual(["k1"]);
    const [bare] = parseKeyring(b64(k1));
    expect(bare!.id).toBe("default");
    expect(bare!.key.equals(k1.key)).toBe(true);
    expect(parseKeyring(`k1:${k1.key.toString("base64url")}`)[0]!.key.equals(k1.key)).toBe(true);
  });

  it("explains malformed keyrings without echoing key material", () => {
    const short = Buffer.alloc(16, 0x42).toString("base64");
    const secretish = "c2VjcmV0LWtleS1tYXRlcmlhbA";
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["# only a comment\n", /empty/],
      [`k1:${short}`, /16 bytes/],
      [short, /16 bytes/],
      [`k1:${secretish}!`, /not base64/],
      [`K 1:${k1.key.toString("base64")}`, /invalid key id/],
      [`k1:${k1.key.toString("base64")},k1:${k2.key.toString("base64")}`, /more than once/],
      [`${k1.key.toString("base64")}\n${k2.key.toString("base64")}`, /more than once/],
    ];
    for (const [text, expected] of cases) {
      let message = "";
      try {
        parseKeyring(text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, text).toMatch(expected);
      expect(message).not.toContain(short);
      expect(message).not.toContain(secretish);
      expect(message).not.toContain(k1.key.toString("base64"));
      expect(message).not.toContain(k2.key.toString("base64"));
    }
  });
});

describe("the key file", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "postern-keys-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is created on first load with one fresh key, readable by its owner only, and reused afterwards", async () => {
    const file = path.join(dir, "nested", "data", "secret.keys");
    const created = await loadOrCreateKeyFile(file);
    expect(created).toHaveLength(1);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const again = await loadOrCreateKeyFile(file);
    expect(again.map(({ id }) => id)).toEqual(created.map(({ id }) => id));
    expect(again[0]!.key.equals(created[0]!.key)).toBe(true);
  });

  it("gets its permissions tightened to 0600 when they are looser", async () => {
    const file = path.join(dir, "secret.keys");
    const key = keyFilled("k1", 1);
    await writeFile(file, formatKeyring([key]));
    await chmod(file, 0o644);
    const loaded = await loadOrCreateKeyFile(file);
    expect(loaded[0]!.key.equals(key.key)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("names itself, not its content, when it is malformed", async () => {
    const file = path.join(dir, "secret.keys");
    const short = Buffer.alloc(8, 0x42).toString("base64");
    await writeFile(file, `k1:${short}\n`, { mode: 0o600 });
    const error: unknown = await loadOrCreateKeyFile(file).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).not.toContain(short);
  });

  it("is replaced atomically with mode 0600 when rewritten for a rotation", async () => {
    const file = path.join(dir, "secret.keys");
    const [original] = await loadOrCreateKeyFile(file);
    const next = generateSecretKey();
    await writeKeyFile(file, [next, original!]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, "utf8")).toBe(formatKeyring([next, original!]));
    expect((await loadOrCreateKeyFile(file)).map(({ id }) => id)).toEqual([next.id, original!.id]);
    expect(await readdir(dir)).toEqual(["secret.keys"]);
    await expect(writeKeyFile(file, [])).rejects.toThrow(/empty/);
  });
});
