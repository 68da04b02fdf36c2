import { rmSync, writeFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { dataTemplateDirFor, openStorage, PGLITE_SETTINGS, type Storage } from "../db/connection.ts";
import { startQueue } from "../queue/queue.ts";

/**
 * An embedded database as every new data dir would have it after its first start's set-up: initdb
 * run, migrated, and given the queue's schema, dumped as a tarball. `npm run build` writes one
 * (`postern data-template <file>`) and a new data dir starts as a copy of it (src/db/connection.ts):
 * initdb runs in a second WebAssembly instance whose memory the process keeps, about 400 MB after a
 * first start, and costs seconds; loading the copy costs neither. A copy older than the code is still
 * correct: the start migrates what it lacks, as it does on any existing data dir.
 */
export async function migratedPgliteDump(): Promise<Blob> {
  const pglite = await PGlite.create({ postgresqlconf: PGLITE_SETTINGS });
  await installQueue(await openStorage({ pglite }));
  const dump = await pglite.dumpDataDir("none");
  await pglite.close();
  return dump;
}

/** Gives a migrated database the queue's schema, as a process's first start would, then closes it. */
export async function installQueue(storage: Storage): Promise<void> {
  const queue = await startQueue(
    storage,
    { retryLimit: 1, retryDelaySeconds: 1, jobTimeoutSeconds: 30, maintenanceSeconds: 30 },
    (err) => {
      throw err;
    },
    () => new Date(),
  );
  await queue.stop();
  await storage.close();
}

/**
 * Writes the dump to `file` (what the tests' in-memory databases load) and, unpacked, to the data
 * directory beside it (`dataTemplateDir`): a new data dir is a plain copy of that directory, so the
 * server never unpacks the dump itself, which grew its WebAssembly memory by about 150 MB for good.
 */
export async function writeDataTemplate(file: string): Promise<void> {
  const dump = await migratedPgliteDump();
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  const dir = dataTemplateDirFor(file);
  rmSync(dir, { recursive: true, force: true });
  const unpacked = await PGlite.create(dir, { postgresqlconf: PGLITE_SETTINGS, loadDataDir: dump });
  await unpacked.close();
}
