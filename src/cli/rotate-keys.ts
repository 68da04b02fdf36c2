import path from "node:path";
import { eq } from "drizzle-orm";
import type { Config } from "../config/config.ts";
import { openStorage } from "../db/connection.ts";
import { appSigningKeys, deliveries, emailProviders } from "../db/schema.ts";
import { providerSecretContext } from "../email-provider/secrets.ts";
import { payloadContext } from "../mail/login-email.ts";
import {
  formatKeyring,
  generateSecretKey,
  loadOrCreateKeyFile,
  parseKeyring,
  SecretBox,
  writeKeyFile,
} from "../security/secret-box.ts";

/**
 * Seals every stored secret under a fresh key (or, with `resealOnly`, under the keyring's current
 * first key). With the embedded key file the file is rewritten; with POSTERN_SECRET_KEY the new
 * keyring is printed for the operator to deploy.
 */
export async function rotateKeys(config: Config, options: { resealOnly?: boolean } = {}): Promise<void> {
  const keyFile = path.join(config.dataDir, "secret.key");
  const oldKeys = config.secretKey ? parseKeyring(config.secretKey) : await loadOrCreateKeyFile(keyFile);
  const fresh = options.resealOnly ? oldKeys[0]! : generateSecretKey();
  const box = new SecretBox(options.resealOnly ? oldKeys : [fresh, ...oldKeys]);
  // Written before re-sealing, so a crash halfway leaves a keyring that opens every row.
  if (!config.secretKey && !options.resealOnly) await writeKeyFile(keyFile, [fresh, ...oldKeys]);

  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const db = storage.db;
  let resealed = 0;
  try {
    for (const key of await db.select().from(appSigningKeys)) {
      const context = `signing-key:${key.kid}`;
      const sealed = box.seal(box.open(key.privateJwkSealed, context), context);
      await db
        .update(appSigningKeys)
        .set({ privateJwkSealed: sealed })
        .where(eq(appSigningKeys.kid, key.kid));
      resealed++;
    }
    for (const delivery of await db
      .select({ id: deliveries.id, sealed: deliveries.sealedPayload })
      .from(deliveries)) {
      if (!delivery.sealed) continue;
      const context = payloadContext(delivery.id);
      await db
        .update(deliveries)
        .set({ sealedPayload: box.seal(box.open(delivery.sealed, context), context) })
        .where(eq(deliveries.id, delivery.id));
      resealed++;
    }
    for (const provider of await db.select().from(emailProviders)) {
      const sealedSecrets: Record<string, string> = {};
      for (const [field, sealed] of Object.entries(provider.sealedSecrets)) {
        const context = providerSecretContext(provider.appId, field);
        sealedSecrets[field] = box.seal(box.open(sealed, context), context);
        resealed++;
      }
      await db.update(emailProviders).set({ sealedSecrets }).where(eq(emailProviders.id, provider.id));
    }
  } finally {
    await storage.close();
  }

  if (config.secretKey) {
    console.log(`Re-sealed ${resealed} secrets under key ${fresh.id}.`);
    if (!options.resealOnly) {
      console.log(
        "Set POSTERN_SECRET_KEY on every process to this keyring (the new key seals, the old one still opens",
      );
      console.log(
        "what processes seal during the rollout); then run `postern keys rotate --reseal` with it, and drop the old key:",
      );
      console.log(
        formatKeyring([fresh, ...oldKeys])
          .trim()
          .replace(/\n/g, ","),
      );
    }
  } else {
    await writeKeyFile(keyFile, [fresh]);
    console.log(`Re-sealed ${resealed} secrets under key ${fresh.id}; ${keyFile} now holds only that key.`);
  }
}
