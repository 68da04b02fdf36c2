// Writes packages/sdk/src/openapi.ts, the API types of the SDK and the dashboard, from the /openapi.json
// of a Postern built in memory (no server, no data dir kept): `npm run sdk:types`. test/sdk/sdk.test.ts
// fails when the file is stale.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { loadConfig } from "../../../src/config/config.ts";
import { createPostern } from "../../../src/postern.ts";
import { formatKeyring, generateSecretKey } from "../../../src/security/secret-box.ts";
import { SDK_TYPES_FILE, sdkTypesFrom } from "./openapi-types.ts";

const dataDir = await mkdtemp(path.join(tmpdir(), "postern-sdk-types-"));
const pglite = await PGlite.create();
const postern = await createPostern({
  config: loadConfig({
    POSTERN_DATA_DIR: dataDir,
    POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]),
    POSTERN_OPERATOR_TOKEN: "sdk-types-operator-token",
    POSTERN_SEED_DEMO: "false",
    POSTERN_LOG_LEVEL: "silent",
  }),
  pglite,
});
try {
  const document = (await postern.http.inject({ method: "GET", url: "/openapi.json" })).json();
  await writeFile(SDK_TYPES_FILE, await sdkTypesFrom(document));
  console.log(`wrote ${SDK_TYPES_FILE.pathname}`);
} finally {
  await postern.stop();
  await pglite.close();
  await rm(dataDir, { recursive: true, force: true });
}
