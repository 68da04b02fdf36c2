import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import path from "node:path";

/**
 * Seals secrets at rest (SMTP passwords, OAuth client secrets, signing keys) with AES-256-GCM under an
 * operator key. The key id travels with each sealed value so keys can be rotated, and the owning record
 * is bound as additional authenticated data, so a sealed value copied onto another record does not open
 * (NIST SP 800-38D for GCM; Zitadel's CryptoValue and n8n's encryption key follow the same pattern).
 */

export interface SecretKey {
  id: string;
  key: Buffer;
}

export class SecretBoxError extends Error {
  readonly code: "secret_unreadable" | "unknown_key";

  constructor(code: SecretBoxError["code"], message: string) {
    super(message);
    this.name = "SecretBoxError";
    this.code = code;
  }
}

const FORMAT_VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12; // the GCM nonce size NIST SP 800-38D recommends
const TAG_BYTES = 16;
const KEY_ID = /^[a-z0-9-]{1,32}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function validateKeys(keys: SecretKey[]): void {
  if (keys.length === 0) throw new Error("The keyring is empty: at least one secret key is needed.");
  const seen = new Set<string>();
  for (const { id, key } of keys) {
    if (!KEY_ID.test(id)) {
      throw new Error("A secret key id must be 1-32 characters of lowercase letters, digits and hyphens.");
    }
    if (key.length !== KEY_BYTES) {
      throw new Error(`Secret key "${id}" is ${key.length} bytes; AES-256 needs ${KEY_BYTES}.`);
    }
    if (seen.has(id)) throw new Error(`The keyring holds the key id "${id}" more than once.`);
    seen.add(id);
  }
}

interface SealedParts {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function unreadable(): SecretBoxError {
  return new SecretBoxError("secret_unreadable", "The sealed secret is malformed.");
}

function parseSealed(sealed: string): SealedParts {
  const parts = sealed.split(".");
  if (parts.length !== 5) throw unreadable();
  const [version, keyId, iv, ciphertext, tag] = parts as [string, string, string, string, string];
  if (version !== FORMAT_VERSION || !KEY_ID.test(keyId)) throw unreadable();
  // Buffer.from(…, "base64url") skips characters outside the alphabet instead of failing.
  if (![iv, ciphertext, tag].every((part) => BASE64URL.test(part))) throw unreadable();
  const parsed = {
    keyId,
    iv: Buffer.from(iv, "base64url"),
    ciphertext: Buffer.from(ciphertext, "base64url"),
    tag: Buffer.from(tag, "base64url"),
  };
  if (parsed.iv.length !== IV_BYTES || parsed.tag.length !== TAG_BYTES) throw unreadable();
  return parsed;
}

// The version and key id are authenticated with the context, so no part of the header can be swapped.
function additionalData(keyId: string, context: string): Buffer {
  return Buffer.from(`${FORMAT_VERSION}.${keyId}.${context}`, "utf8");
}

export class SecretBox {
  // A private field: util.inspect and JSON.stringify of a SecretBox never show key material.
  readonly #keys: Map<string, Buffer>;
  readonly #activeKeyId: string;

  /** keys[0] seals; every key opens, so values sealed under retired keys stay readable until resealed. */
  constructor(keys: SecretKey[]) {
    validateKeys(keys);
    this.#keys = new Map(keys.map(({ id, key }) => [id, Buffer.from(key)]));
    this.#activeKeyId = keys[0]!.id;
  }

  get activeKeyId(): string {
    return this.#activeKeyId;
  }

  /** `context` names the owning record, e.g. "email-provider:<appId>:password". */
  seal(plaintext: string, context: string): string {
    if (context === "") throw new Error("A sealed secret must be bound to a non-empty context.");
    const keyId = this.#activeKeyId;
    // A fresh random nonce per message: GCM loses confidentiality and integrity if a (key, nonce) repeats.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#keys.get(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [
      FORMAT_VERSION,
      keyId,
      iv.toString("base64url"),
      ciphertext.toString("base64url"),
      cipher.getAuthTag().toString("base64url"),
    ].join(".");
  }

  open(sealed: string, context: string): string {
    const { keyId, iv, ciphertext, tag } = parseSealed(sealed);
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new SecretBoxError(
        "unknown_key",
        `The secret was sealed with key "${keyId}", which is not in the keyring.`,
      );
    }
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(keyId, context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
    } catch {
      // Node's own message ("Unsupported state or unable to authenticate data") says nothing more useful.
      throw new SecretBoxError(
        "secret_unreadable",
        "The secret could not be decrypted: it was sealed for another record or has been altered.",
      );
    }
  }

  /**
   * Keys for another purpose (e.g. signing cookies), derived with HMAC-SHA256 so the operator key itself
   * is never used twice; the active key's comes first, so after a rotation the old ones still verify.
   */
  deriveKeys(purpose: string): Buffer[] {
    return [...this.#keys.values()].map((key) =>
      createHmac("sha256", key).update(`postern-derived-key:${purpose}`).digest(),
    );
  }

  keyIdOf(sealed: string): string {
    return parseSealed(sealed).keyId;
  }

  needsReseal(sealed: string): boolean {
    return this.keyIdOf(sealed) !== this.#activeKeyId;
  }
}

export function generateSecretKey(): SecretKey {
  return { id: `k${randomBytes(4).toString("hex")}`, key: randomBytes(KEY_BYTES) };
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Reads a keyring from POSTERN_SECRET_KEY or a key file: "id:base64key" entries separated by commas or
 * newlines; a bare value is the key "default". Error messages name entries by position and key id, never
 * by value, because a malformed value may still be key material.
 */
export function parseKeyring(text: string): SecretKey[] {
  const entries = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .flatMap((line) => line.split(","))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length === 0) throw new Error("The keyring is empty: at least one secret key is needed.");
  const keys = entries.map((entry, index): SecretKey => {
    const position = `Keyring entry ${index + 1}`;
    const colon = entry.indexOf(":");
    const id = colon === -1 ? "default" : entry.slice(0, colon).trim();
    const encoded = colon === -1 ? entry : entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) {
      throw new Error(`${position} has an invalid key id: use 1-32 lowercase letters, digits and hyphens.`);
    }
    if (!BASE64.test(encoded)) throw new Error(`${position} ("${id}") is not base64.`);
    const key = Buffer.from(encoded, "base64");
    if (key.length !== KEY_BYTES) {
      throw new Error(
        `${position} ("${id}") decodes to ${key.length} bytes; a key must be ${KEY_BYTES} bytes.`,
      );
    }
    return { id, key };
  });
  validateKeys(keys);
  return keys;
}

export function formatKeyring(keys: SecretKey[]): string {
  return keys.map(({ id, key }) => `${id}:${key.toString("base64")}\n`).join("");
}

function isErrnoException(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}

async function readKeyFile(file: string): Promise<SecretKey[]> {
  const handle = await open(file, "r");
  try {
    // Tighten through the open handle, so the file checked is the file read.
    const { mode } = await handle.stat();
    if ((mode & 0o077) !== 0) await handle.chmod(0o600);
    const text = await handle.readFile("utf8");
    try {
      return parseKeyring(text);
    } catch (error) {
      throw new Error(`Key file ${file}: ${(error as Error).message}`);
    }
  } finally {
    await handle.close();
  }
}

/** The embedded mode's key file: created on first start with one fresh key, readable by the owner only. */
export async function loadOrCreateKeyFile(file: string): Promise<SecretKey[]> {
  try {
    return await readKeyFile(file);
  } catch (error) {
    if (!isErrnoException(error, "ENOENT")) throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const keys = [generateSecretKey()];
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // "wx" fails if another process created the file meanwhile; then its key is the one to use.
    handle = await open(file, "wx", 0o600);
  } catch (error) {
    if (isErrnoException(error, "EEXIST")) return readKeyFile(file);
    throw error;
  }
  try {
    await handle.writeFile(formatKeyring(keys));
    await handle.sync();
  } finally {
    await handle.close();
  }
  return keys;
}

/** Replaces a key file atomically (used by key rotation): readers see the old or the new keyring, never half. */
export async function writeKeyFile(file: string, keys: SecretKey[]): Promise<void> {
  validateKeys(keys);
  const directory = path.dirname(file);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = path.join(directory, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", 0o600);
  try {
    try {
      await handle.writeFile(formatKeyring(keys));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  // Persist the rename itself: losing it after secrets were resealed under a new key would lose them.
  const directoryHandle = await open(directory, "r");
  try {
    await directoryHandle.sync();
  } finally {
    await directoryHandle.close();
  }
}
